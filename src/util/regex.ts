import { RE2JS } from 're2js'
import { ConfigFieldError } from './errors.js'

/**
 * User-written regular expressions (tag filters, path selectors, stage selectors) run on RE2JS,
 * a linear-time engine: a pathological pattern such as `(a+)+$` cannot hang a run on a crafted
 * tag or file name the way a backtracking engine (JavaScript's RegExp) can. The syntax is Go's
 * RE2 syntax, which is what Kargo evaluates these fields with, so a pattern means the same here.
 */
export interface UserRegex {
  /** The pattern as written. */
  readonly source: string
  /** True when the pattern matches anywhere in `text` (unanchored, like Go's MatchString). */
  test(text: string): boolean
}

const HINT =
  'patterns use Go/RE2 syntax (as Kargo does): no backreferences (\\1) or lookaround ((?=, (?!, (?<=)'

/** Compiled patterns by source: a pattern used for every tag or path is compiled once. */
const cache = new Map<string, UserRegex>()
const CACHE_LIMIT = 500

/** Why `pattern` is not a valid RE2 pattern, or undefined when it is. */
export function regexError(pattern: string): string | undefined {
  try {
    compile(pattern)
    return undefined
  } catch (err) {
    return describe(err)
  }
}

/** Compiles a user pattern; a pattern RE2 rejects is a ConfigFieldError naming `field`. */
export function compileUserRegex(pattern: string, field: string): UserRegex {
  try {
    return compile(pattern)
  } catch (err) {
    throw new ConfigFieldError(
      field,
      `invalid regular expression '${pattern}': ${describe(err)}`,
      HINT
    )
  }
}

function compile(pattern: string): UserRegex {
  const hit = cache.get(pattern)
  if (hit) return hit
  const re = RE2JS.compile(pattern)
  const compiled: UserRegex = { source: pattern, test: (text) => re.test(text) }
  if (cache.size >= CACHE_LIMIT) cache.clear()
  cache.set(pattern, compiled)
  return compiled
}

function describe(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err)
  return message.replace(/^error parsing regexp: /, '')
}
