/**
 * A fast yes/maybe check compiled from a zod schema: `accepts(value)` true means the schema
 * accepts the value; false means "ask zod" (which also words the problems). zod copies every
 * object it checks; a 5 MB state is a quarter of a million of them, and the store keeps the
 * parsed document anyway, so a plain walk decides the common case, a valid state, far faster.
 *
 * Only the schema kinds the state schema uses are compiled, each at least as strict as zod; a
 * schema with anything else compiles to undefined and zod decides every time.
 */
import type { z } from 'zod'

type Accepts = (value: unknown) => boolean

interface Def {
  type: string
  checks?: Array<{ _zod: { def: CheckDef } }>
  shape?: Record<string, z.ZodType>
  catchall?: z.ZodType
  element?: z.ZodType
  keyType?: z.ZodType
  valueType?: z.ZodType
  innerType?: z.ZodType
  values?: unknown[]
  entries?: Record<string, unknown>
}

interface CheckDef {
  check: string
  format?: string
  pattern?: RegExp
  value?: unknown
  inclusive?: boolean
}

class Unsupported extends Error {}

const defOf = (schema: z.ZodType) => (schema as unknown as { _zod: { def: Def } })._zod.def

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (!isObject(v)) return false
  const proto = Object.getPrototypeOf(v) as unknown
  return proto === Object.prototype || proto === null
}

function checkOf(c: CheckDef): (v: never) => boolean {
  if (c.check === 'string_format' && c.format === 'regex' && c.pattern instanceof RegExp) {
    const pattern = c.pattern
    return (v: string) => {
      pattern.lastIndex = 0
      return pattern.test(v)
    }
  }
  if (c.check === 'number_format' && c.format === 'safeint')
    return (v: number) => Number.isSafeInteger(v)
  if (c.check === 'greater_than' && typeof c.value === 'number') {
    const min = c.value
    return c.inclusive ? (v: number) => v >= min : (v: number) => v > min
  }
  throw new Unsupported(c.check)
}

function withChecks(def: Def, base: Accepts): Accepts {
  const checks = (def.checks ?? []).map((c) => checkOf(c._zod.def)) as Array<
    (v: unknown) => boolean
  >
  if (!checks.length) return base
  return (v) => base(v) && checks.every((check) => check(v))
}

function compile(schema: z.ZodType): Accepts {
  const def = defOf(schema)
  switch (def.type) {
    case 'unknown':
    case 'any':
      return () => true
    case 'string':
      return withChecks(def, (v) => typeof v === 'string')
    case 'number':
      return withChecks(def, (v) => typeof v === 'number' && Number.isFinite(v))
    case 'literal': {
      const values = def.values ?? []
      return (v) => values.includes(v)
    }
    case 'enum': {
      const values = Object.values(def.entries ?? {}).filter((x) => typeof x === 'string')
      return (v) => typeof v === 'string' && values.includes(v)
    }
    case 'optional': {
      const inner = compile(def.innerType!)
      return (v) => v === undefined || inner(v)
    }
    case 'array': {
      const element = compile(def.element!)
      return (v) => Array.isArray(v) && v.every((x) => element(x))
    }
    case 'record': {
      if (defOf(def.keyType!).type !== 'string' || defOf(def.keyType!).checks?.length)
        throw new Unsupported('record key')
      const value = compile(def.valueType!)
      return (v) =>
        isPlainObject(v) && Reflect.ownKeys(v).every((k) => typeof k === 'string' && value(v[k]))
    }
    case 'object':
      return compileObject(def)
    default:
      throw new Unsupported(def.type)
  }
}

function compileObject(def: Def): Accepts {
  // Unknown keys: kept (looseObject) or stripped (object) are both accepted; anything else is not.
  if (def.catchall && defOf(def.catchall).type !== 'unknown') throw new Unsupported('catchall')
  const fields = Object.entries(def.shape ?? {}).map(([key, schema]) => ({
    key,
    optional: defOf(schema).type === 'optional',
    accepts: compile(schema)
  }))
  return (v) =>
    isObject(v) && fields.every((f) => (f.optional || f.key in v) && f.accepts(v[f.key]))
}

/** The fast check for a schema, or undefined when it uses kinds this module does not compile. */
export function schemaAcceptor(schema: z.ZodType): Accepts | undefined {
  try {
    return compile(schema)
  } catch (err) {
    if (err instanceof Unsupported) return undefined
    throw err
  }
}
