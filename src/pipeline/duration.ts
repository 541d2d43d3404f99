import { WaybillError } from '../util/errors.js'

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** Go-style durations as Kargo writes them: `5m0s`, `1h`, `1.5h`, `30s`. */
export function parseDuration(text: string): number {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g
  let total = 0
  let consumed = 0
  for (const m of text.matchAll(re)) {
    total += parseFloat(m[1]) * UNIT_MS[m[2]]
    consumed += m[0].length
  }
  if (consumed !== text.length || consumed === 0) {
    throw new WaybillError(
      `'${text}' is not a duration`,
      "write durations like '30s', '5m', '1h30m'"
    )
  }
  return total
}
