import { z } from 'zod'
import { defineStep } from '../define.js'

const failSchema = z.strictObject({ message: z.string().min(1).optional() })
export type FailConfig = z.output<typeof failSchema>

/** `fail`: ends the promotion as Failed (use with `if`). */
export const failStep = defineStep({
  name: 'fail',
  schema: failSchema,
  async run(config) {
    return { status: 'Failed', message: config.message ?? 'failed by a fail step' }
  }
})
