import { WaybillError } from './errors.js'

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000
}

/**
 * Go's time.ParseDuration, in milliseconds: the durations Kargo writes (`5m0s`, `1h30m`, `500ms`,
 * `0`), with an optional sign. The one parser for every duration in config, steps and expressions.
 */
export function parseDuration(text: string): number {
  const s = String(text).trim()
  if (s === '0' || s === '+0' || s === '-0') return 0
  const neg = s.startsWith('-')
  const body = neg || s.startsWith('+') ? s.slice(1) : s
  const re = /(\d+(?:\.\d+)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy
  let total = 0
  let consumed = 0
  for (let m = re.exec(body); m; m = re.exec(body)) {
    total += parseFloat(m[1]) * UNIT_MS[m[2]]
    consumed = re.lastIndex
  }
  if (!body || consumed !== body.length) {
    throw new WaybillError(
      `'${text}' is not a duration`,
      "write durations like '30s', '5m', '1h30m'"
    )
  }
  return neg ? -total : total
}
