import { z } from 'zod'
import type { StepDefinition } from '../types.js'
import { ConfigFieldError } from '../../util/errors.js'
import { parseOrThrow } from '../../util/zod.js'

const BLOCKED_KEYS = new Set(['__proto__', 'constructor', 'prototype'])

/** `compose-output`: its config (any non-empty map) becomes its outputs. */
export const composeOutputStep: StepDefinition<Record<string, unknown>> = {
  name: 'compose-output',
  parse(config) {
    if (config === null || typeof config !== 'object' || Array.isArray(config)) {
      throw new ConfigFieldError('compose-output', 'config must be a map of output names to values')
    }
    const keys = Object.keys(config)
    if (keys.length === 0) {
      throw new ConfigFieldError('compose-output', 'config must set at least one output')
    }
    for (const k of keys) {
      if (BLOCKED_KEYS.has(k)) throw new ConfigFieldError(`compose-output.${k}`, 'reserved name')
    }
    return config as Record<string, unknown>
  },
  async run(config) {
    return { status: 'Succeeded', outputs: { ...config } }
  }
}

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
export const setMetadataStep: StepDefinition<SetMetadataConfig> = {
  name: 'set-metadata',
  parse: (config) => parseOrThrow(setMetadataSchema, config ?? {}, 'set-metadata'),
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
        values: u.values
      }))
    }
  }
}

const setFreightAliasSchema = z.strictObject({
  name: z.string().min(1),
  alias: z.string().min(1)
})
export type SetFreightAliasConfig = z.output<typeof setFreightAliasSchema>

/** `set-freight-alias`: renames a piece of freight (aliases are unique per project). */
export const setFreightAliasStep: StepDefinition<SetFreightAliasConfig> = {
  name: 'set-freight-alias',
  parse: (config) => parseOrThrow(setFreightAliasSchema, config ?? {}, 'set-freight-alias'),
  async run(config, ctx) {
    const all = Object.values(ctx.state.freight)
    const f = ctx.state.freight[config.name] ?? all.find((x) => x.alias === config.name)
    if (!f) {
      throw new ConfigFieldError(
        'set-freight-alias.name',
        `freight '${config.name}' does not exist`
      )
    }
    const taken = all.find((x) => x.alias === config.alias && x.name !== f.name)
    if (taken) {
      return {
        status: 'Failed',
        message: `alias '${config.alias}' is already used by freight ${taken.name}`
      }
    }
    return {
      status: 'Succeeded',
      effects: [{ kind: 'freight-alias', freight: f.name, alias: config.alias }]
    }
  }
}

const failSchema = z.strictObject({ message: z.string().min(1).optional() })
export type FailConfig = z.output<typeof failSchema>

/** `fail`: ends the promotion as Failed (use with `if`). */
export const failStep: StepDefinition<FailConfig> = {
  name: 'fail',
  parse: (config) => parseOrThrow(failSchema, config ?? {}, 'fail'),
  async run(config) {
    return { status: 'Failed', message: config.message ?? 'failed by a fail step' }
  }
}
