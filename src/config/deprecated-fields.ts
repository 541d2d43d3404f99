/**
 * Subscription fields Kargo deprecated and then stopped accepting, each with the field that
 * replaced it. Waybill reads them as their replacement (so an older config runs the day it is
 * copied in) and warns; setting both is an error. The schema (schema.ts) translates them, the
 * notices (notices.ts) warn, from this one table.
 */
import { z } from 'zod'

export interface DeprecatedField<K extends string = string> {
  field: K
  replacement: string
  /** The same value under a new name (semverConstraint), or a new shape (allowTags → a list). */
  renamed: boolean
  /** What Kargo did with it, for the warning: `removed in Kargo v1.9`. */
  status: string
  /** Its value as the replacement's value. */
  translate(value: unknown): unknown
  /** Its schema (the input it accepts). */
  schema: z.ZodType
}

function invalidRegex(re: string): string | undefined {
  try {
    new RegExp(re)
    return undefined
  } catch (err) {
    return `invalid regular expression '${re}': ${(err as Error).message}`
  }
}

const regexString = z.string().superRefine((re, ctx) => {
  const problem = invalidRegex(re)
  if (problem) ctx.addIssue({ code: 'custom', message: problem })
})

/** Kargo's ignoreTags listed exact tags: as anchored, escaped regular expressions. */
function exactTagRegex(tag: unknown): string {
  return `^${String(tag).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`
}

const allowTags: DeprecatedField<'allowTags'> = {
  field: 'allowTags',
  replacement: 'allowTagsRegexes',
  renamed: false,
  status: 'rejected by Kargo since v1.11',
  translate: (v) => [v],
  schema: regexString
}

const ignoreTags: DeprecatedField<'ignoreTags'> = {
  field: 'ignoreTags',
  replacement: 'ignoreTagsRegexes',
  renamed: false,
  status: 'rejected by Kargo since v1.11',
  translate: (v) => (Array.isArray(v) ? v : [v]).map(exactTagRegex),
  schema: z.array(z.string())
}

export const DEPRECATED_IMAGE_FIELDS: readonly DeprecatedField<
  'semverConstraint' | 'allowTags' | 'ignoreTags'
>[] = [
  {
    field: 'semverConstraint',
    replacement: 'constraint',
    renamed: true,
    status: 'removed in Kargo v1.9',
    translate: (v) => v,
    schema: z.string()
  },
  allowTags,
  ignoreTags
]

export const DEPRECATED_GIT_FIELDS: readonly DeprecatedField<'allowTags' | 'ignoreTags'>[] = [
  allowTags,
  ignoreTags
]

/** The deprecated fields by subscription type. */
export const DEPRECATED_SUBSCRIPTION_FIELDS: Record<string, readonly DeprecatedField[]> = {
  image: DEPRECATED_IMAGE_FIELDS,
  git: DEPRECATED_GIT_FIELDS
}

/** Schema entries for the deprecated fields (optional, marked deprecated for editors). */
export function deprecatedShape(fields: readonly DeprecatedField[]): Record<string, z.ZodType> {
  return Object.fromEntries(
    fields.map((f) => [
      f.field,
      f.schema
        .optional()
        .meta({ deprecated: true, description: `Deprecated (${f.status}): use ${f.replacement}` })
    ])
  )
}

/** A deprecated field set next to its replacement is an error on the deprecated field. */
export function checkDeprecatedConflicts(fields: readonly DeprecatedField[]) {
  return (s: Record<string, unknown>, ctx: z.RefinementCtx): void => {
    for (const f of fields) {
      if (s[f.field] !== undefined && s[f.replacement] !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: [f.field],
          message: `cannot be set together with ${f.replacement} (${f.field} is its deprecated ${f.renamed ? 'name' : 'form'})`,
          params: { hint: `remove ${f.field}` }
        })
    }
  }
}

/** The subscription with each deprecated field moved to its replacement. */
export function applyDeprecated<K extends string>(fields: readonly DeprecatedField<K>[]) {
  return <T extends Record<string, unknown>>(s: T): Omit<T, K> => {
    const out: Record<string, unknown> = { ...s }
    for (const f of fields) {
      if (out[f.field] === undefined) continue
      if (out[f.replacement] === undefined) out[f.replacement] = f.translate(out[f.field])
      delete out[f.field]
    }
    return out as Omit<T, K>
  }
}

/** `replace it with constraint: "^1.0.0"`: the deprecated field rewritten. */
export function replacementHint(f: DeprecatedField, value: unknown): string {
  return `replace it with ${f.replacement}: ${JSON.stringify(f.translate(value))}`
}
