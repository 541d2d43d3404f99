import { HostValue, timeValue, typeName } from './values.js'

/**
 * expr-lang's date(str[, layout[, timezone]]) with Go reference-time layouts
 * (`2006-01-02 15:04:05`). Without a layout the formats expr-lang tries are tried in turn.
 */

const DEFAULT_LAYOUTS = [
  '2006-01-02',
  '15:04:05',
  '2006-01-02 15:04:05',
  '2006-01-02T15:04:05Z07:00', // RFC3339 (fractional seconds accepted, as Go does)
  '02 Jan 06 15:04 MST', // RFC822
  'Monday, 02-Jan-06 15:04:05 MST', // RFC850
  'Mon, 02 Jan 2006 15:04:05 MST' // RFC1123
]

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December'
]
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday']

type Field = 'year' | 'year2' | 'month' | 'monthName' | 'day' | 'hour' | 'hour12' | 'minute'
type Token = { re: string; field?: Field | 'second' | 'frac' | 'ampm' | 'zone' | 'abbr' | 'skip' }

// Longest first, as Go's layout scanner matches them.
const LAYOUT_TOKENS: Array<[string, Token]> = [
  ['January', { re: `(${MONTHS.join('|')})`, field: 'monthName' }],
  ['Monday', { re: `(?:${DAYS.join('|')})` }],
  ['Z07:00', { re: '(Z|[+-]\\d{2}:\\d{2})', field: 'zone' }],
  ['-07:00', { re: '([+-]\\d{2}:\\d{2})', field: 'zone' }],
  ['Z0700', { re: '(Z|[+-]\\d{4})', field: 'zone' }],
  ['-0700', { re: '([+-]\\d{4})', field: 'zone' }],
  ['2006', { re: '(\\d{4})', field: 'year' }],
  ['Jan', { re: `(${MONTHS.map((m) => m.slice(0, 3)).join('|')})`, field: 'monthName' }],
  ['Mon', { re: `(?:${DAYS.map((d) => d.slice(0, 3)).join('|')})` }],
  ['MST', { re: '([A-Z]{3,5}|[+-]\\d{2,4})', field: 'abbr' }],
  ['Z07', { re: '(Z|[+-]\\d{2})', field: 'zone' }],
  ['-07', { re: '([+-]\\d{2})', field: 'zone' }],
  ['_2', { re: ' ?(\\d{1,2})', field: 'day' }],
  ['01', { re: '(\\d{2})', field: 'month' }],
  ['02', { re: '(\\d{2})', field: 'day' }],
  ['03', { re: '(\\d{2})', field: 'hour12' }],
  ['04', { re: '(\\d{2})', field: 'minute' }],
  ['05', { re: '(\\d{2})', field: 'second' }],
  ['06', { re: '(\\d{2})', field: 'year2' }],
  ['15', { re: '(\\d{1,2})', field: 'hour' }],
  ['PM', { re: '(AM|PM)', field: 'ampm' }],
  ['pm', { re: '(am|pm)', field: 'ampm' }],
  ['1', { re: '(\\d{1,2})', field: 'month' }],
  ['2', { re: '(\\d{1,2})', field: 'day' }],
  ['3', { re: '(\\d{1,2})', field: 'hour12' }],
  ['4', { re: '(\\d{1,2})', field: 'minute' }],
  ['5', { re: '(\\d{1,2})', field: 'second' }]
]

interface Compiled {
  re: RegExp
  fields: string[]
}

const compiled = new Map<string, Compiled>()

function compile(layout: string): Compiled {
  const hit = compiled.get(layout)
  if (hit) return hit
  let re = '^'
  const fields: string[] = []
  let i = 0
  while (i < layout.length) {
    // Fractional seconds: ".000" / ".999" (or with ','), and Go also accepts them after "05".
    const frac = /^[.,](0+|9+)/.exec(layout.slice(i))
    if (frac) {
      re += frac[1][0] === '0' ? `[.,](\\d{${frac[1].length}})` : '(?:[.,](\\d+))?'
      fields.push('frac')
      i += frac[0].length
      continue
    }
    const tok = LAYOUT_TOKENS.find(([t]) => layout.startsWith(t, i))
    if (tok) {
      re += tok[1].re
      if (tok[1].field) fields.push(tok[1].field)
      if (tok[0] === '05' || tok[0] === '5') {
        re += '(?:[.,](\\d+))?'
        fields.push('frac')
      }
      i += tok[0].length
      continue
    }
    re += layout[i].replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    i++
  }
  const c = { re: new RegExp(re + '$'), fields }
  if (compiled.size > 100) compiled.clear()
  compiled.set(layout, c)
  return c
}

/** Offset of an IANA zone from UTC at a given instant, in minutes. */
function zoneOffset(zone: string, utcMs: number): number {
  let fmt: Intl.DateTimeFormat
  try {
    fmt = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric'
    })
  } catch {
    throw new Error(`unknown time zone ${zone}`)
  }
  const parts = Object.fromEntries(fmt.formatToParts(new Date(utcMs)).map((p) => [p.type, p.value]))
  const wall = Date.UTC(
    +parts.year,
    +parts.month - 1,
    +parts.day,
    +parts.hour,
    +parts.minute,
    +parts.second
  )
  return Math.round((wall - Math.floor(utcMs / 1000) * 1000) / 60_000)
}

function parseWith(text: string, layout: string, zone: string | undefined): HostValue | undefined {
  const { re, fields } = compile(layout)
  const m = re.exec(text)
  if (!m) return undefined
  let year = 0
  let month = 1
  let day = 1
  let hour = 0
  let minute = 0
  let second = 0
  let ms = 0
  let pm: boolean | undefined
  let offset: number | undefined
  fields.forEach((f, k) => {
    const v = m[k + 1]
    if (v === undefined) return
    switch (f) {
      case 'year':
        year = +v
        break
      case 'year2':
        year = +v + (+v >= 69 ? 1900 : 2000)
        break
      case 'month':
        month = +v
        break
      case 'monthName':
        month = MONTHS.findIndex((n) => n.startsWith(v)) + 1
        break
      case 'day':
        day = +v
        break
      case 'hour':
      case 'hour12':
        hour = +v
        break
      case 'minute':
        minute = +v
        break
      case 'second':
        second = +v
        break
      case 'frac':
        ms = Math.floor(Number(`0.${v}`) * 1000)
        break
      case 'ampm':
        pm = v.toLowerCase() === 'pm'
        break
      case 'zone':
        if (v === 'Z') offset = 0
        else {
          const d = v.replace(':', '')
          const sign = d[0] === '-' ? -1 : 1
          offset = sign * (+d.slice(1, 3) * 60 + (d.length > 3 ? +d.slice(3, 5) : 0))
        }
        break
      case 'abbr':
        if (/^[+-]/.test(v))
          offset = (v[0] === '-' ? -1 : 1) * (+v.slice(1, 3) * 60 + +(v.slice(3, 5) || 0))
        else if (v === 'UTC' || v === 'GMT') offset = 0
        break
    }
  })
  if (pm !== undefined) hour = (hour % 12) + (pm ? 12 : 0)
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) {
    return undefined
  }
  const wall = Date.UTC(year, month - 1, day, hour, minute, second, ms)
  const probe = new Date(wall)
  if (probe.getUTCDate() !== day) return undefined // 31 Feb and the like
  if (offset !== undefined) return timeValue(wall - offset * 60_000)
  if (zone && zone !== 'UTC') {
    // The wall clock is in `zone`: correct for its offset (twice, across a DST change).
    let utc = wall - zoneOffset(zone, wall) * 60_000
    utc = wall - zoneOffset(zone, utc) * 60_000
    return timeValue(utc)
  }
  return timeValue(wall)
}

export function dateValue(text: string, layout?: string, zone?: string): HostValue {
  if (zone) zoneOffset(zone, Date.now()) // unknown zones fail even when the text has an offset
  const layouts = layout === undefined ? DEFAULT_LAYOUTS : [layout]
  for (const l of layouts) {
    const t = parseWith(text, l, zone)
    if (t) return t
  }
  throw new Error(
    layout === undefined
      ? `invalid date ${JSON.stringify(text)}`
      : `cannot parse ${JSON.stringify(text)} as ${JSON.stringify(layout)}`
  )
}

/** expr-lang's type(): Go kind names, and package-qualified names for time values. */
export function goTypeName(v: unknown): string {
  if (v instanceof HostValue) {
    if (v.kind === 'Time') return 'time.Time'
    if (v.kind === 'Duration') return 'time.Duration'
    return v.kind
  }
  return typeName(v)
}
