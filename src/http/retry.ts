/** Retry timing shared by every HTTP client: exponential backoff and Retry-After. */

/** A Retry-After value (seconds, or an HTTP date) as milliseconds to wait; undefined if absent or invalid. */
export function parseRetryAfter(
  value: string | null | undefined,
  now = Date.now()
): number | undefined {
  if (!value) return undefined
  if (/^\s*\d+\s*$/.test(value)) return parseInt(value, 10) * 1000
  const t = Date.parse(value)
  return Number.isNaN(t) ? undefined : Math.max(0, t - now)
}

/** The wait before retry `attempt` (0-based): base·2ⁿ, ±25 % jitter so that clients spread out. */
export function backoffMs(baseMs: number, attempt: number, random = Math.random): number {
  return baseMs * 2 ** attempt * (0.75 + random() * 0.5)
}

/** Statuses worth another attempt for a request that may be repeated: 429 and every 5xx. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status >= 500
}
