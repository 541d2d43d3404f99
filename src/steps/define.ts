import type { z } from 'zod'
import { ConfigFieldError } from '../util/errors.js'
import { fieldPath } from '../util/zod.js'
import type { Capability } from './capabilities.js'
import type { StepContext, StepDefaults, StepDefinition, StepResult } from './types.js'

/** A step config problem: `field` is `<step>.<path>` (just `<step>` when the whole config is wrong). */
export class StepConfigError extends ConfigFieldError {
  constructor(
    readonly step: string,
    /** The field inside the config (`updates[0].key`); empty for the config as a whole. */
    readonly path: string,
    message: string,
    hint?: string
  ) {
    super(path ? `${step}.${path}` : step, message, hint)
    this.name = 'StepConfigError'
  }
}

export interface StepSpec<S extends z.ZodType, C extends Capability> {
  name: string
  /** The config after expressions are evaluated; strict objects, Kargo's field names. */
  schema: S
  capabilities?: readonly C[]
  defaults?: StepDefaults
  /** See StepDefinition.exportsTaskOutputs. */
  exportsTaskOutputs?: boolean
  run(config: z.output<S>, ctx: StepContext<C>): Promise<StepResult>
}

/** Builds a step: the one way configs are parsed and config errors are named. */
export function defineStep<S extends z.ZodType, C extends Capability = never>(
  spec: StepSpec<S, C>
): StepDefinition<z.output<S>, C> {
  return Object.freeze({
    name: spec.name,
    schema: spec.schema,
    capabilities: Object.freeze([...(spec.capabilities ?? [])]),
    defaults: Object.freeze({ ...spec.defaults }),
    exportsTaskOutputs: spec.exportsTaskOutputs ?? false,
    parse: (config: unknown) => parseStepConfig(spec.name, spec.schema, config),
    run: (config: z.output<S>, ctx: StepContext<C>) => spec.run(config, ctx)
  })
}

/**
 * Parses a step config with its schema (a missing config is `{}`). On failure throws one
 * StepConfigError naming the first problem's field; further problems follow in the message.
 */
export function parseStepConfig<S extends z.ZodType>(
  step: string,
  schema: S,
  config: unknown
): z.output<S> {
  const res = schema.safeParse(config ?? {})
  if (res.success) return res.data
  const problems: Array<{ path: string; message: string }> = []
  for (const issue of res.error.issues) {
    const base = fieldPath(issue.path)
    if (issue.code === 'unrecognized_keys') {
      // One problem per unknown key, on the key itself.
      for (const key of issue.keys) {
        problems.push({ path: base ? `${base}.${key}` : key, message: 'unknown field' })
      }
    } else {
      problems.push({ path: base, message: issue.message })
    }
  }
  const [first, ...rest] = problems
  const more = rest.map((p) => `${p.path ? `${step}.${p.path}` : step}: ${p.message}`)
  throw new StepConfigError(
    step,
    first.path,
    more.length ? `${first.message} (also ${more.join('; ')})` : first.message
  )
}
