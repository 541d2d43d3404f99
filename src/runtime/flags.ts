import { UsageError } from '../util/errors.js'
import { parseBoolean } from './input-values.js'

/**
 * Flag declarations and the typed values they give. One declaration serves the CLI (parseArgs
 * options, `--help`) and the action (event inputs routed to a command), so a command reads its
 * arguments with the types it declared, whichever entry point it was called from.
 */
export interface FlagSpec {
  type: 'string' | 'boolean'
  /** Repeatable (`--stage a --stage b`). */
  multiple?: boolean
  description: string
}

export type FlagSpecs = Record<string, FlagSpec>

/** A boolean flag is false when absent, a repeatable one empty, a string flag undefined. */
export type FlagValue<F extends FlagSpec> = F['type'] extends 'boolean'
  ? boolean
  : F extends { multiple: true }
    ? string[]
    : string | undefined

export type FlagValues<Flags extends FlagSpecs> = { [K in keyof Flags]: FlagValue<Flags[K]> }

/**
 * Arguments as they arrive, untyped: parseArgs values from the CLI, or the inputs an event was
 * routed with (one string even for a repeatable flag: a multi-line input, say).
 */
export type RawArgs = Record<string, string | boolean | string[] | undefined>

function flagValue(
  name: string,
  spec: FlagSpec,
  raw: RawArgs[string]
): string | boolean | string[] | undefined {
  if (spec.type === 'boolean')
    return typeof raw === 'string' ? parseBoolean(`--${name}`, raw, false) : raw === true
  if (typeof raw === 'boolean') throw new UsageError(`--${name} needs a value`)
  if (spec.multiple) return raw === undefined ? [] : Array.isArray(raw) ? raw : [raw]
  // Given twice, a single-valued flag keeps the last value (as parseArgs does).
  return Array.isArray(raw) ? raw[raw.length - 1] : raw
}

/** The declared flags' values, typed; arguments that were not declared are dropped. */
export function flagValues<Flags extends FlagSpecs>(flags: Flags, raw: RawArgs): FlagValues<Flags> {
  const out: RawArgs = {}
  for (const [name, spec] of Object.entries(flags)) out[name] = flagValue(name, spec, raw[name])
  return out as FlagValues<Flags>
}
