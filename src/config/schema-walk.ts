/** Walking zod schemas alongside the values they parse (zod 4 `def`s). */
import { z } from 'zod'

type Def = Record<string, unknown> & { type: string }

export function defOf(schema: z.ZodType): Def {
  return (schema as unknown as { def: Def }).def
}

const WRAPPERS = ['optional', 'default', 'nullable', 'prefault', 'readonly', 'catch', 'nonoptional']

/**
 * The schema that gives a value its shape: wrappers (optional, default…) removed, a pipe read
 * from its input side (the output side of a preprocess), a lazy schema resolved.
 */
export function unwrapSchema(schema: z.ZodType): z.ZodType {
  let s = schema
  for (;;) {
    const def = defOf(s)
    if (WRAPPERS.includes(def.type)) s = def.innerType as z.ZodType
    else if (def.type === 'pipe') {
      const input = def.in as z.ZodType
      s = defOf(input).type === 'transform' ? (def.out as z.ZodType) : input
    } else if (def.type === 'lazy') s = (def.getter as () => z.ZodType)()
    else return s
  }
}

/** The schema of the field at `path` (list items, record values, object fields), unwrapped. */
export function schemaAt(
  schema: z.ZodType,
  path: ReadonlyArray<PropertyKey>
): z.ZodType | undefined {
  let s: z.ZodType | undefined = unwrapSchema(schema)
  for (const seg of path) {
    if (!s) return undefined
    s = childSchema(s, seg)
    if (s) s = unwrapSchema(s)
  }
  return s
}

/** The (wrapped) schema of one child of an unwrapped container schema. */
export function childSchema(container: z.ZodType, seg: PropertyKey): z.ZodType | undefined {
  const def = defOf(container)
  if (def.type === 'object') {
    // Own fields only: `shape['__proto__']` or `shape.constructor` would be Object's.
    const shape = def.shape as Record<string, z.ZodType>
    return Object.hasOwn(shape, String(seg)) ? shape[String(seg)] : undefined
  }
  if (def.type === 'array') return def.element as z.ZodType
  if (def.type === 'record') return def.valueType as z.ZodType
  return undefined
}

function isDeprecated(field: z.ZodType): boolean {
  return z.globalRegistry.get(field)?.deprecated === true
}

/** The fields a strict object schema at `path` accepts, deprecated and removed ones left out. */
export function fieldsAt(schema: z.ZodType, path: ReadonlyArray<PropertyKey>): string[] {
  const s = schemaAt(schema, path)
  if (!s || defOf(s).type !== 'object') return []
  return Object.entries(defOf(s).shape as Record<string, z.ZodType>)
    .filter(([, f]) => defOf(unwrapSchema(f)).type !== 'never' && !isDeprecated(f))
    .map(([k]) => k)
}
