/**
 * Kubernetes reads a null field as an absent one: `spec:` with only a comment under it, an empty
 * `labels:` or `vars:`. Before a resource (or a step config) is checked against its schema, every
 * null-valued field the schema lets be absent is dropped. A null where a value is required stays,
 * so the schema reports that field; fields that accept null keep it.
 */
import type { z } from 'zod'
import { childSchema, defOf, unwrapSchema } from './schema-walk.js'

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** Absent is fine and null is not: the field is optional, and a null means "not set". */
function nullMeansAbsent(field: z.ZodType): boolean {
  return !field.safeParse(null).success && field.safeParse(undefined).success
}

/** `value` without the null-valued fields that `schema` treats as optional (a copy; recursive). */
export function withoutEmptyOptionals(value: unknown, schema: z.ZodType): unknown {
  const s = unwrapSchema(schema)
  const type = defOf(s).type
  if (Array.isArray(value))
    return type === 'array'
      ? value.map((v, i) => withoutEmptyOptionals(v, childSchema(s, i)!))
      : value
  if (!isMapping(value) || (type !== 'object' && type !== 'record')) return value
  const out: Record<string, unknown> = {}
  for (const [key, v] of Object.entries(value)) {
    const field = childSchema(s, key)
    if (v === null && field && type === 'object' && nullMeansAbsent(field)) continue
    // defineProperty: a `__proto__` key stays a plain field
    Object.defineProperty(out, key, {
      value: field ? withoutEmptyOptionals(v, field) : v,
      enumerable: true,
      writable: true,
      configurable: true
    })
  }
  return out
}
