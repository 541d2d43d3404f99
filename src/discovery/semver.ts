import semver from 'semver'
import { ConfigFieldError } from '../util/errors.js'
import { compileUserRegex } from '../util/regex.js'

/**
 * Tag filtering and ordering shared by image, Git-tag and chart discovery, with Kargo's
 * semantics: ignore regexes are checked first, then allow regexes (any match); both are
 * unanchored like Go's regexp.MatchString and run on a linear-time engine (util/regex.ts). SemVer parsing is strict (major.minor.patch) or
 * loose (Masterminds' NewVersion: `1`, `1.2`), a leading `v` accepted in both. Constraints
 * follow Masterminds/semver v3 syntax (commas or spaces for AND, `||` for OR, `!=`, `^`, `~`,
 * `x` wildcards, hyphen ranges) and are evaluated with the `semver` package.
 */

export interface TagFilterOptions {
  allowTagsRegexes?: readonly string[]
  ignoreTagsRegexes?: readonly string[]
}

/** Keeps the tags that match no ignore regex and (when any are given) at least one allow regex. */
export function filterTags(
  tags: readonly string[],
  opts: TagFilterOptions,
  fieldPrefix = ''
): string[] {
  const ignore = (opts.ignoreTagsRegexes ?? []).map((p, i) =>
    compileUserRegex(p, `${fieldPrefix}ignoreTagsRegexes[${i}]`)
  )
  const allow = (opts.allowTagsRegexes ?? []).map((p, i) =>
    compileUserRegex(p, `${fieldPrefix}allowTagsRegexes[${i}]`)
  )
  return tags.filter((t) => {
    if (ignore.some((r) => r.test(t))) return false
    return allow.length === 0 || allow.some((r) => r.test(t))
  })
}

const LOOSE =
  /^v?(0|[1-9]\d*)(?:\.(0|[1-9]\d*))?(?:\.(0|[1-9]\d*))?(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$/

/**
 * Parses a tag as a semantic version. Strict requires all of major.minor.patch; loose accepts
 * `1` and `1.2` (missing parts are 0). A leading `v` is accepted either way. Returns null when the
 * tag is not a version.
 */
export function parseSemver(tag: string, strict = true): semver.SemVer | null {
  const m = LOOSE.exec(tag)
  if (!m) return null
  if (strict && (m[2] === undefined || m[3] === undefined)) return null
  const core = `${m[1]}.${m[2] ?? '0'}.${m[3] ?? '0'}`
  const text = core + (m[4] ? `-${m[4]}` : '') + (m[5] ? `+${m[5]}` : '')
  try {
    return new semver.SemVer(text)
  } catch {
    return null
  }
}

export interface SemverConstraint {
  /** The constraint as written. */
  readonly text: string
  check(version: semver.SemVer): boolean
}

/** A constraint that accepts every version (an empty constraint). */
const ANY: SemverConstraint = { text: '', check: () => true }

/**
 * Parses a Masterminds-style constraint. Throws ConfigFieldError (naming `field`) when it is
 * not valid.
 */
export function parseConstraint(text: string | undefined, field = 'constraint'): SemverConstraint {
  const raw = (text ?? '').trim()
  if (!raw) return ANY
  const groups: Array<{ ranges: semver.Range[]; not: semver.SemVer[] }> = []
  for (const alt of raw.split('||')) {
    const ranges: semver.Range[] = []
    const not: semver.SemVer[] = []
    // Masterminds separates AND terms with commas (or spaces); hyphen ranges keep their spaces.
    const normalized = alt
      .trim()
      .replace(/\s*,\s*/g, ' ')
      .replace(/([<>=!~^]+)\s+/g, '$1')
    const terms = normalized.split(/\s+/).filter(Boolean)
    for (let i = 0; i < terms.length; i++) {
      let term = terms[i]
      if (terms[i + 1] === '-' && terms[i + 2]) {
        term = `${term} - ${terms[i + 2]}`
        i += 2
      }
      if (term.startsWith('!=')) {
        const v = parseSemver(term.slice(2).trim(), false)
        if (!v) throw new ConfigFieldError(field, `invalid semver constraint '${raw}'`)
        not.push(v)
        continue
      }
      // Masterminds accepts a leading `v` on versions inside constraints.
      const cleaned = term.replace(/(^|[<>=~^\s])v(?=\d)/g, '$1')
      let range: semver.Range
      try {
        range = new semver.Range(cleaned)
      } catch {
        throw new ConfigFieldError(field, `invalid semver constraint '${raw}'`)
      }
      ranges.push(range)
    }
    if (ranges.length === 0 && not.length === 0)
      throw new ConfigFieldError(field, `invalid semver constraint '${raw}'`)
    groups.push({ ranges, not })
  }
  return {
    text: raw,
    check(version: semver.SemVer): boolean {
      return groups.some(
        (g) =>
          g.ranges.every((r) => r.test(version)) &&
          g.not.every((n) => semver.compare(version, n) !== 0) &&
          // A `!=`-only group still excludes prereleases, as Masterminds does.
          (g.ranges.length > 0 || version.prerelease.length === 0)
      )
    }
  }
}

/** `a` before `b` when `a` is lexically greater (byte order, like Go's string comparison). */
function lexicalDesc(a: string, b: string): number {
  return a < b ? 1 : a > b ? -1 : 0
}

/** Tags sorted lexically, greatest first. */
export function sortLexicalDesc(tags: readonly string[]): string[] {
  return [...tags].sort(lexicalDesc)
}

export interface SemverSortOptions {
  /** Require major.minor.patch (default true). */
  strict?: boolean
  /** Masterminds-style constraint; empty = any version. */
  constraint?: string | SemverConstraint
  /** Field named in constraint errors. */
  constraintField?: string
}

/**
 * Keeps the tags that are semantic versions (strict or loose) satisfying the constraint and
 * sorts them newest first; equal versions (`v1.0.0` and `1.0.0`) are ordered lexically, greatest first.
 */
export function sortSemverDesc(tags: readonly string[], opts: SemverSortOptions = {}): string[] {
  const constraint =
    typeof opts.constraint === 'object'
      ? opts.constraint
      : parseConstraint(opts.constraint, opts.constraintField)
  const parsed: Array<{ tag: string; v: semver.SemVer }> = []
  for (const tag of tags) {
    const v = parseSemver(tag, opts.strict ?? true)
    if (v && constraint.check(v)) parsed.push({ tag, v })
  }
  parsed.sort((a, b) => semver.rcompare(a.v, b.v) || lexicalDesc(a.tag, b.tag))
  return parsed.map((p) => p.tag)
}
