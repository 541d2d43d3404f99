import type { GitIdentity } from '../git/git.js'
import { parseDuration } from '../util/duration.js'
import { UsageError } from '../util/errors.js'

/**
 * Input and flag values as users write them in a workflow's `with:` or on a command line. Every
 * value is checked: a value that does not parse is an error naming the input, never a silent
 * default.
 */

/** YAML 1.2 core schema booleans (what GitHub's workflow parser and `${{ }}` produce). */
const TRUE = new Set(['true', 'True', 'TRUE'])
const FALSE = new Set(['false', 'False', 'FALSE'])

/**
 * `what` names the value in messages as the user wrote it: `input 'wait'` or `--wait`
 * (inputName / flagName).
 */
export const inputName = (name: string) => `input '${name}'`
export const flagName = (name: string) => `--${name}`

/** A boolean input; empty means `fallback`. */
export function parseBoolean(what: string, raw: string | undefined, fallback: boolean): boolean {
  const v = (raw ?? '').trim()
  if (!v) return fallback
  if (TRUE.has(v)) return true
  if (FALSE.has(v)) return false
  throw new UsageError(
    `${what} must be true or false, not ${JSON.stringify(v.slice(0, 40))}`,
    'write true or false (YAML 1.2: true/True/TRUE, false/False/FALSE)'
  )
}

/**
 * A duration in milliseconds: Go syntax (`30s`, `5m`, `1h30m`) or a plain number of seconds (the
 * older form, still accepted). Empty means 0.
 */
export function parseSecondsOrDuration(what: string, raw: string | undefined): number {
  const v = (raw ?? '').trim()
  if (!v) return 0
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000
  let ms: number
  try {
    ms = parseDuration(v)
  } catch {
    throw new UsageError(
      `${what} is not a duration: ${JSON.stringify(v.slice(0, 40))}`,
      "write a duration like '30s', '5m', '1h30m' (a plain number is seconds)"
    )
  }
  if (ms < 0) throw new UsageError(`${what} must not be negative: ${v}`)
  return ms
}

/** A whole number from 1 to `max`; empty means unset. */
export function parsePositiveInteger(
  what: string,
  raw: string | undefined,
  max: number
): number | undefined {
  const v = (raw ?? '').trim()
  if (!v) return undefined
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > max)
    throw new UsageError(
      `${what} must be a whole number from 1 to ${max}, not ${JSON.stringify(v.slice(0, 40))}`
    )
  return Number(v)
}

/** A Git identity written `Name <email>`. */
export function parseIdentity(what: string, raw: string): GitIdentity {
  const m = /^\s*([^<>]*?)\s*<([^<>\s]+@[^<>\s]+)>\s*$/.exec(raw)
  // eslint-disable-next-line no-control-regex
  if (!m || !m[1] || /[\x00-\x1f\x7f]/.test(raw))
    throw new UsageError(
      `${what} must be 'Name <email>', not ${JSON.stringify(raw.slice(0, 80))}`,
      "e.g. 'Release Bot <bot@example.com>'"
    )
  return { name: m[1], email: m[2] }
}

/** The identity GitHub shows as github-actions[bot] (its user ID is 41898282). */
export const GITHUB_ACTIONS_IDENTITY: Readonly<GitIdentity> = Object.freeze({
  name: 'github-actions[bot]',
  email: '41898282+github-actions[bot]@users.noreply.github.com'
})
