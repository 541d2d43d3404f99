/** Zod issues turned into messages users can act on: what was expected, what was found, a hint. */
import type { z } from 'zod'
import { IGNORED_METADATA_FIELDS } from './schema.js'
import type { FieldPath } from './yaml-source.js'
import { defOf, fieldsAt, schemaAt } from './schema-walk.js'
import { scalarText } from '../util/text.js'

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'a boolean (true or false)',
  object: 'a mapping',
  record: 'a mapping',
  map: 'a mapping',
  array: 'a list',
  unknown: 'a value'
}

/** A value as users read it in a message: `the string 'x'`, `a list`, `number 3`. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'a mapping'
  if (typeof value === 'string') return `the string '${value}'`
  if (value === undefined) return 'undefined'
  return `${typeof value} ${scalarText(value) ?? typeof value}`
}

function isDefaultMessage(message: string): boolean {
  return /^(Invalid|Too (small|big)|Unrecognized)/.test(message)
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [
    i,
    ...new Array<number>(b.length).fill(0)
  ])
  for (let j = 1; j <= b.length; j++) d[0][j] = j
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      d[i][j] = Math.min(
        d[i - 1][j] + 1,
        d[i][j - 1] + 1,
        d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1)
      )
  return d[a.length][b.length]
}

/** `did you mean 'x'?`, or the list of accepted fields (or kinds: `what`). */
export function suggestField(
  unknown: string,
  allowed: string[],
  what: 'fields' | 'kinds' = 'fields'
): string | undefined {
  const visible = allowed.filter((k) => !IGNORED_METADATA_FIELDS.includes(k) && k !== 'status')
  let best: string | undefined
  let bestScore = Infinity
  for (const k of visible) {
    const score = k.toLowerCase() === unknown.toLowerCase() ? 0 : editDistance(unknown, k)
    if (score < bestScore) [best, bestScore] = [k, score]
  }
  if (best && bestScore <= Math.max(2, Math.floor(unknown.length / 4)))
    return `did you mean '${best}'?`
  return visible.length ? `accepted ${what}: ${visible.join(', ')}` : undefined
}

function isObjectField(schema: z.ZodType, p: FieldPath): boolean {
  const parent = schemaAt(schema, p.slice(0, -1))
  return parent !== undefined && defOf(parent).type === 'object'
}

/** One finding in a resource, before it is located in the YAML. */
export interface FieldIssue {
  path: FieldPath
  message: string
  hint?: string
  preferKey?: boolean
}

/** A zod issue as the messages Waybill shows (one per unknown key), with hints where it can. */
export function fieldIssues(issue: z.core.$ZodIssue, schema: z.ZodType): FieldIssue[] {
  const input = (issue as { input?: unknown }).input
  const hint = (issue as { params?: { hint?: string } }).params?.hint
  const p = issue.path
  switch (issue.code) {
    case 'unrecognized_keys': {
      const parent = p[p.length - 1]
      const inSubscription =
        typeof parent === 'number' && p[p.length - 2] === 'subscriptions' && p[0] === 'spec'
      return issue.keys.map((key) =>
        inSubscription
          ? {
              path: [...p, key],
              preferKey: true,
              message: `unsupported subscription type '${key}'`,
              hint: 'Waybill subscribes to image, git and chart sources (plus an optional name)'
            }
          : {
              path: [...p, key],
              preferKey: true,
              message: `unknown field '${key}'`,
              hint: suggestField(key, fieldsAt(schema, p))
            }
      )
    }
    case 'invalid_type': {
      if (issue.expected === 'never') return [{ path: p, message: issue.message, preferKey: true }]
      if (input === undefined) return [{ path: p, message: 'is required', hint, preferKey: true }]
      // null is absent for an optional field (null-fields.ts): here the field is required
      if (input === null && isObjectField(schema, p))
        return [{ path: p, message: 'is required (the field is empty)', hint, preferKey: true }]
      if (!isDefaultMessage(issue.message)) return [{ path: p, message: issue.message, hint }]
      const want = TYPE_NAMES[issue.expected] ?? issue.expected
      const quoteHint =
        issue.expected === 'string' && (input === undefined || scalarText(input) !== undefined)
          ? `quote the value: "${scalarText(input) ?? 'undefined'}"`
          : undefined
      return [
        {
          path: p,
          message: `must be ${want}, not ${describeValue(input)}`,
          hint: hint ?? quoteHint
        }
      ]
    }
    case 'invalid_value': {
      if (!isDefaultMessage(issue.message)) return [{ path: p, message: issue.message, hint }]
      const values = issue.values.map((v) => `'${String(v)}'`)
      const message =
        values.length === 1
          ? `must be ${values[0]} (got ${describeValue(input)})`
          : `must be one of ${values.filter((v) => v !== "''").join(', ')} (got ${describeValue(input)})`
      return [{ path: p, message, hint }]
    }
    case 'too_small': {
      if (!isDefaultMessage(issue.message)) return [{ path: p, message: issue.message, hint }]
      const min = Number(issue.minimum)
      const message =
        issue.origin === 'array'
          ? `must have at least ${min} item${min === 1 ? '' : 's'}`
          : issue.origin === 'string'
            ? min === 1
              ? 'must not be empty'
              : `must be at least ${min} characters`
            : `must be at least ${min} (got ${String(input)})`
      return [{ path: p, message, hint }]
    }
    case 'too_big': {
      if (!isDefaultMessage(issue.message)) return [{ path: p, message: issue.message, hint }]
      const max = Number(issue.maximum)
      const message =
        issue.origin === 'array'
          ? `must have at most ${max} items`
          : issue.origin === 'string'
            ? `must be at most ${max} characters`
            : `must be at most ${max} (got ${String(input)})`
      return [{ path: p, message, hint }]
    }
    case 'invalid_format':
      return [
        {
          path: p,
          message: isDefaultMessage(issue.message)
            ? `has an invalid format (${issue.format})`
            : issue.message,
          hint
        }
      ]
    default:
      return [{ path: p, message: issue.message, hint }]
  }
}
