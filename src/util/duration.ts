import { WaybillError } from './errors.js'

/**
 * Durations in Go syntax (`time.ParseDuration` / `Duration.String`), the form Kargo writes:
 * `5m0s`, `1h30m`, `1.5h`, `500ms`, `0`. Waybill keeps durations as milliseconds (a float: `250us`
 * is 0.25). The one parser and the formatters for every duration in config, steps, expressions
 * and messages.
 */

const NS_PER_UNIT: Record<string, number> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  μs: 1e3, // Greek mu, which Go also accepts
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9
}

/** A Go duration (units ns, us/µs, ms, s, m, h; any unit may repeat), without the sign and `0`. */
const UNIT_TERM = /(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y

/** Go's time.ParseDuration, in milliseconds; throws a WaybillError with a hint otherwise. */
export function parseDuration(text: string): number {
  const s = String(text).trim()
  if (s === '0' || s === '+0' || s === '-0') return 0
  const neg = s.startsWith('-')
  const body = neg || s.startsWith('+') ? s.slice(1) : s
  const re = new RegExp(UNIT_TERM.source, 'gy')
  let ns = 0
  let consumed = 0
  for (let m = re.exec(body); m; m = re.exec(body)) {
    ns += parseFloat(m[1]) * NS_PER_UNIT[m[2]]
    consumed = re.lastIndex
  }
  if (!body || consumed !== body.length) {
    throw new WaybillError(
      `'${text}' is not a duration`,
      "write durations like '30s', '5m', '1h30m'"
    )
  }
  const ms = ns / 1e6
  return neg ? -ms : ms
}

/** True when `text` is a Go duration parseDuration accepts. */
export function isDuration(text: string): boolean {
  try {
    parseDuration(text)
    return true
  } catch {
    return false
  }
}

/** `value / 10^digits` as a decimal without trailing zeros (integer arithmetic: no float noise). */
function decimal(value: number, digits: number): string {
  const scale = 10 ** digits
  const whole = Math.floor(value / scale)
  const frac = String(value % scale)
    .padStart(digits, '0')
    .replace(/0+$/, '')
  return frac ? `${whole}.${frac}` : String(whole)
}

/**
 * Go's Duration.String(): `1h0m0s`, `1m30s`, `1.5s`, `500ms`, `1.5µs`, `0s`. Expressions show
 * durations this way, exactly as Kargo's expr-lang functions do.
 */
export function formatDuration(ms: number): string {
  const neg = ms < 0
  const ns = Math.round(Math.abs(ms) * 1e6)
  let out: string
  if (ns === 0) return '0s'
  if (ns < 1e3) out = `${ns}ns`
  else if (ns < 1e6) out = `${decimal(ns, 3)}µs`
  else if (ns < 1e9) out = `${decimal(ns, 6)}ms`
  else {
    const h = Math.floor(ns / 3600e9)
    const m = Math.floor((ns % 3600e9) / 60e9)
    const s = decimal(ns % 60e9, 9)
    out = h ? `${h}h${m}m${s}s` : m ? `${m}m${s}s` : `${s}s`
  }
  return (neg ? '-' : '') + out
}

/**
 * The short form for messages: Go syntax without zero parts (`1h`, `1h30m`, `5m`, `1m30s`,
 * `1.5s`, `250ms`). `resolutionMs` truncates first (1000: whole seconds), for elapsed times where
 * milliseconds are noise.
 */
export function formatDurationShort(ms: number, resolutionMs = 1): string {
  const neg = ms < 0
  const total = Math.floor(Math.round(Math.abs(ms)) / resolutionMs) * resolutionMs
  if (total === 0) return resolutionMs >= 1000 ? '0s' : '0ms'
  let out: string
  if (total < 1000) out = `${total}ms`
  else {
    const h = Math.floor(total / 3_600_000)
    const m = Math.floor((total % 3_600_000) / 60_000)
    const s = total % 60_000
    out = `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${s ? `${decimal(s, 3)}s` : ''}`
  }
  return (neg ? '-' : '') + out
}
