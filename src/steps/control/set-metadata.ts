import { z } from 'zod'
import { defineStep } from '../define.js'
import { ConfigFieldError } from '../../util/errors.js'
import { redactValue } from '../../util/logger.js'
import { BLOCKED_KEYS } from './common.js'

const setMetadataSchema = z.strictObject({
  updates: z
    .array(
      z.strictObject({
        kind: z.enum(['Stage', 'Freight']),
        name: z.string().min(1),
        values: z
          .record(z.string(), z.unknown())
          .refine((v) => Object.keys(v).length > 0, { error: 'must set at least one value' })
      })
    )
    .min(1)
})
export type SetMetadataConfig = z.output<typeof setMetadataSchema>

/** `set-metadata`: values recorded on a Stage's or Freight's metadata when the promotion is saved. */
export const setMetadataStep = defineStep({
  name: 'set-metadata',
  schema: setMetadataSchema,
  async run(config, ctx) {
    for (const [i, u] of config.updates.entries()) {
      for (const k of Object.keys(u.values)) {
        if (BLOCKED_KEYS.has(k)) {
          throw new ConfigFieldError(`set-metadata.updates[${i}].values.${k}`, 'reserved name')
        }
      }
      if (u.kind === 'Freight') {
        const known =
          ctx.state.freight[u.name] ??
          Object.values(ctx.state.freight).find((f) => f.alias === u.name)
        if (!known) {
          throw new ConfigFieldError(
            `set-metadata.updates[${i}].name`,
            `freight '${u.name}' does not exist`
          )
        }
      }
    }
    return {
      status: 'Succeeded',
      effects: config.updates.map((u) => ({
        kind: 'metadata' as const,
        target: u.kind,
        name: u.name,
        // Effects are saved in the state: a secret() value must not reach it (the engine also
        // masks every step's effects; this keeps the step safe on its own).
        values: redactValue(u.values)
      }))
    }
  }
})
