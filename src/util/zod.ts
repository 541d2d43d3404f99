import type { z } from 'zod'
import { ConfigFieldError } from './errors.js'

/** `a.b[2].c` from a zod issue path. */
export function fieldPath(path: ReadonlyArray<PropertyKey>): string {
  let out = ''
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p)
  return out
}

/** Parses with a zod schema; on failure throws one ConfigFieldError listing every problem with its field. */
export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  value: unknown,
  what: string
): z.output<S> {
  const res = schema.safeParse(value)
  if (res.success) return res.data
  const problems = res.error.issues.map((i) => `${fieldPath(i.path) || '(root)'}: ${i.message}`)
  const first = res.error.issues[0]
  throw new ConfigFieldError(
    first ? `${what}.${fieldPath(first.path)}`.replace(/\.$/, '') : what,
    problems.length === 1 ? problems[0].replace(/^[^:]*: /, '') : `invalid: ${problems.join('; ')}`
  )
}
