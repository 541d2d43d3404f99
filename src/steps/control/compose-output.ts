import { z } from 'zod'
import { defineStep } from '../define.js'
import { BLOCKED_KEYS } from './common.js'

const schema = z
  .record(z.string(), z.unknown(), { error: 'config must be a map of output names to values' })
  .superRefine((config, ctx) => {
    const keys = Object.keys(config)
    if (keys.length === 0)
      ctx.addIssue({ code: 'custom', message: 'config must set at least one output' })
    for (const k of keys) {
      if (BLOCKED_KEYS.has(k)) ctx.addIssue({ code: 'custom', path: [k], message: 'reserved name' })
    }
  })

/**
 * `compose-output`: its config (any non-empty map) becomes its outputs; inside a task they are
 * also the task's outputs (`outputs.<taskAlias>.<key>`).
 */
export const composeOutputStep = defineStep({
  name: 'compose-output',
  schema,
  exportsTaskOutputs: true,
  async run(config) {
    return { status: 'Succeeded', outputs: { ...config } }
  }
})
