import picomatch from 'picomatch'
import { ConfigFieldError } from '../util/errors.js'
import { compileUserRegex } from '../util/regex.js'

/**
 * Kargo's path selectors (pkg/pattern ParsePathPattern) for Git subscriptions' includePaths and
 * excludePaths, and for routing push events:
 * - no prefix: that exact path or anything beneath it (`charts/app` matches `charts/app/values.yaml`)
 * - `glob:<pattern>`: glob with `**`, `*` stops at `/`, dot files match
 * - `regex:<re>` / `regexp:<re>`: unanchored regular expression (Go/RE2 syntax, linear time)
 */
export type PathMatcher = (path: string) => boolean

export function compilePathSelector(selector: string, field = 'paths'): PathMatcher {
  if (selector.startsWith('glob:')) {
    const pattern = stripDotSlash(selector.slice(5))
    if (!pattern) throw new ConfigFieldError(field, `empty glob selector '${selector}'`)
    return picomatch(pattern, { dot: true })
  }
  const re = /^regexp?:/.exec(selector)
  if (re) {
    const compiled = compileUserRegex(selector.slice(re[0].length), field)
    return (p) => compiled.test(p)
  }
  const base = stripDotSlash(selector).replace(/\/+$/, '')
  if (base === '' || base === '.') return () => true
  if (base.startsWith('../') || base === '..' || base.startsWith('/'))
    throw new ConfigFieldError(
      field,
      `path selector '${selector}' must be relative to the repository root`
    )
  return (p) => p === base || p.startsWith(base + '/')
}

function stripDotSlash(s: string): string {
  return s.replace(/^(\.\/)+/, '')
}

export interface PathFilter {
  /** True when there are no selectors at all (every commit qualifies, even an empty one). */
  readonly empty: boolean
  /** True when any path is included (or includes are empty) and not excluded. */
  matches(changedPaths: readonly string[]): boolean
}

export function compilePathFilter(
  includePaths: readonly string[] | undefined,
  excludePaths: readonly string[] | undefined,
  field = 'git'
): PathFilter {
  const inc = (includePaths ?? []).map((s, i) =>
    compilePathSelector(s, `${field}.includePaths[${i}]`)
  )
  const exc = (excludePaths ?? []).map((s, i) =>
    compilePathSelector(s, `${field}.excludePaths[${i}]`)
  )
  return {
    empty: inc.length === 0 && exc.length === 0,
    matches(changed) {
      if (inc.length === 0 && exc.length === 0) return true
      return changed.some(
        (p) => (inc.length === 0 || inc.some((m) => m(p))) && !exc.some((m) => m(p))
      )
    }
  }
}
