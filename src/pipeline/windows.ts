import { DateTime } from 'luxon'
import * as rruleModule from 'rrule'
import type { Options as RRuleOptions } from 'rrule'

/*
 * Promotion windows (Kargo's ProjectConfig.spec.promotionWindows): Allow and Deny windows, each
 * a one-shot interval (dtstart..dtend) or an RFC 5545 recurrence (rrule) of dtend - dtstart long.
 * A stage's schedule is open when no matching Deny window is active and, if any Allow window
 * matches the stage, at least one of them is active.
 *
 * Time zones: `TZID=Europe/Paris:20260101T090000` is wall-clock time in that zone. Recurrences
 * are expanded in wall-clock time and each occurrence converted to an instant afterwards, so a
 * 09:00–17:00 window stays 09:00–17:00 local across daylight-saving changes (RFC 5545's nominal
 * durations). A time without TZID or Z is read as UTC.
 */

// rrule ships CommonJS: the class is a named export under a bundler and tsx, `default.RRule` in Node's ESM.
type RRuleModule = {
  RRule?: typeof import('rrule').RRule
  default?: { RRule: typeof import('rrule').RRule }
}
const RRule = ((rruleModule as RRuleModule).RRule ?? (rruleModule as RRuleModule).default?.RRule)!

export type WindowKind = 'Allow' | 'Deny'

export interface PromotionWindowSpec {
  name: string
  kind: WindowKind
  rrule?: string
  dtstart?: string
  dtend?: string
}

export interface ParsedTime {
  /** Wall-clock fields, as a UTC Date whose fields are the local time. */
  wall: Date
  zone: string
}

/** How far ahead nextOpen/nextClose look: beyond this a freeze has "no known end". */
export const HORIZON_MS = 400 * 24 * 3600_000
/** Bound on occurrences expanded per window per query. */
const MAX_OCCURRENCES = 5000

export class WindowSpecError extends Error {
  constructor(
    readonly field: string,
    message: string
  ) {
    super(message)
  }
}

/** Parses an iCal date-time: `[TZID=<zone>:]YYYYMMDD[THHMMSS[Z]]`. */
export function parseICalTime(value: string, field: string): ParsedTime {
  const m = /^(?:TZID=([^:;]+):)?(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z)?)?$/.exec(
    value.trim()
  )
  if (!m)
    throw new WindowSpecError(
      field,
      `'${value}' is not an iCal date-time (e.g. 20260101T090000Z or TZID=Europe/Paris:20260101T090000)`
    )
  const [, tzid, y, mo, d, h = '00', mi = '00', s = '00', z] = m
  if (tzid && z) throw new WindowSpecError(field, `'${value}' has both TZID and Z`)
  const zone = tzid ?? 'UTC'
  if (!DateTime.local().setZone(zone).isValid)
    throw new WindowSpecError(
      field,
      `unknown time zone '${zone}' (use an IANA name such as America/New_York)`
    )
  const wall = new Date(Date.UTC(+y, +mo - 1, +d, +h, +mi, +s))
  if (wall.getUTCDate() !== +d || +h > 23 || +mi > 59 || +s > 59)
    throw new WindowSpecError(field, `'${value}' is not a valid date-time`)
  return { wall, zone }
}

/** The instant of a wall-clock time in a zone (a time in a DST gap moves forward, as iCal says). */
function toInstant(wall: Date, zone: string): number {
  if (zone === 'UTC') return wall.getTime()
  return DateTime.fromObject(
    {
      year: wall.getUTCFullYear(),
      month: wall.getUTCMonth() + 1,
      day: wall.getUTCDate(),
      hour: wall.getUTCHours(),
      minute: wall.getUTCMinutes(),
      second: wall.getUTCSeconds()
    },
    { zone }
  ).toMillis()
}

/** The wall-clock time of an instant in a zone, as a UTC Date with those fields. */
function toWall(instant: number, zone: string): Date {
  if (zone === 'UTC') return new Date(instant)
  const t = DateTime.fromMillis(instant, { zone })
  return new Date(Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second))
}

export interface CompiledWindow {
  spec: PromotionWindowSpec
  /** Occurrences [start, end) (ms) that overlap [from, to). */
  occurrences(from: number, to: number): Array<[number, number]>
}

export function compileWindow(
  spec: PromotionWindowSpec,
  field = 'promotionWindows'
): CompiledWindow {
  if (!spec.dtstart)
    throw new WindowSpecError(`${field}.dtstart`, 'is required (the start of the window)')
  const start = parseICalTime(spec.dtstart, `${field}.dtstart`)
  const end = spec.dtend ? parseICalTime(spec.dtend, `${field}.dtend`) : undefined
  if (end && end.zone !== start.zone)
    throw new WindowSpecError(
      `${field}.dtend`,
      `must use the same time zone as dtstart (${start.zone})`
    )
  const durationMs = end ? end.wall.getTime() - start.wall.getTime() : undefined
  if (durationMs !== undefined && durationMs <= 0)
    throw new WindowSpecError(`${field}.dtend`, 'must be after dtstart')
  if (!spec.rrule) {
    const s = toInstant(start.wall, start.zone)
    const e = end ? toInstant(end.wall, end.zone) : Number.POSITIVE_INFINITY
    return { spec, occurrences: (from, to) => (s < to && e > from ? [[s, e]] : []) }
  }
  if (durationMs === undefined)
    throw new WindowSpecError(
      `${field}.dtend`,
      'is required with rrule (dtend - dtstart is the length of each occurrence)'
    )
  let options: Partial<RRuleOptions>
  try {
    options = RRule.parseString(spec.rrule.replace(/^RRULE:/i, ''))
  } catch (err) {
    throw new WindowSpecError(
      `${field}.rrule`,
      `'${spec.rrule}' is not an RFC 5545 RRULE: ${(err as Error).message}`
    )
  }
  if (options.freq === undefined)
    throw new WindowSpecError(`${field}.rrule`, `'${spec.rrule}' has no FREQ`)
  // Sub-hourly windows make no sense for promotions, and expanding them from dtstart is costly.
  if (options.freq === RRule.SECONDLY || options.freq === RRule.MINUTELY)
    throw new WindowSpecError(
      `${field}.rrule`,
      'FREQ must be HOURLY or longer (YEARLY, MONTHLY, WEEKLY, DAILY, HOURLY)'
    )
  if (options.dtstart || options.tzid)
    throw new WindowSpecError(
      `${field}.rrule`,
      'must not carry DTSTART or TZID: set dtstart instead'
    )
  if (options.count !== undefined && options.count !== null && options.count > MAX_OCCURRENCES * 20)
    throw new WindowSpecError(
      `${field}.rrule`,
      `COUNT above ${MAX_OCCURRENCES * 20} is not supported`
    )
  const zone = start.zone
  const hour = 3600_000
  const unit = { [RRule.HOURLY]: hour, [RRule.DAILY]: 24 * hour, [RRule.WEEKLY]: 7 * 24 * hour }[
    options.freq
  ]
  const periodMs = unit && options.count == null ? unit * (options.interval ?? 1) : undefined
  /**
   * rrule expands from dtstart on every query, so a years-old hourly rule walks tens of thousands
   * of occurrences. Fixed-length periods (HOURLY, DAILY, WEEKLY, no COUNT) repeat exactly in
   * wall-clock time: start the expansion from dtstart plus a whole number of periods instead.
   */
  const ruleFrom = (afterWall: Date) => {
    const k = periodMs ? Math.floor((afterWall.getTime() - start.wall.getTime()) / periodMs) - 1 : 0
    const dtstart = k > 0 ? new Date(start.wall.getTime() + k * periodMs!) : start.wall
    return new RRule({ ...options, dtstart })
  }
  return {
    spec,
    occurrences(from, to) {
      // Widen by the duration (an occurrence that started earlier may still run) and a day
      // either side for zone offsets; convert each start to an instant and keep what overlaps.
      const day = 24 * 3600_000
      const after = toWall(from - durationMs - day, zone)
      const before = toWall(to + day, zone)
      const out: Array<[number, number]> = []
      let n = 0
      ruleFrom(after).between(after, before, true, (d) => {
        const s = toInstant(d, zone)
        const e = toInstant(new Date(d.getTime() + durationMs), zone)
        if (s < to && e > from) out.push([s, e])
        return ++n < MAX_OCCURRENCES
      })
      return out
    }
  }
}

export interface ScheduleState {
  open: boolean
  /** Why it is closed (the windows responsible), set when closed. */
  reason?: string
  /** When it next opens (closed only); absent when no opening is known within the horizon. */
  nextOpen?: Date
  /** When it next closes (open only), and why. */
  nextClose?: Date
  nextCloseReason?: string
}

interface Expanded {
  spec: PromotionWindowSpec
  /** Sorted by start. */
  occurrences: Array<[number, number]>
  longest: number
}

function expand(w: CompiledWindow, from: number, to: number): Expanded {
  const occurrences = w.occurrences(from, to).sort((a, b) => a[0] - b[0])
  const longest = occurrences.reduce((m, [s, e]) => Math.max(m, e - s), 0)
  return { spec: w.spec, occurrences, longest }
}

/** Binary search for the last occurrence starting at or before t, then back over overlaps. */
function activeAt(w: Expanded, t: number): boolean {
  const occ = w.occurrences
  let lo = 0
  let hi = occ.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (occ[mid][0] <= t) lo = mid + 1
    else hi = mid
  }
  for (let i = lo - 1; i >= 0 && occ[i][0] > t - w.longest - 1; i--) if (t < occ[i][1]) return true
  return false
}

function closedReason(windows: Expanded[], t: number): string | undefined {
  const deny = windows.filter((w) => w.spec.kind === 'Deny' && activeAt(w, t))
  if (deny.length) return `frozen by Deny window ${deny.map((w) => `'${w.spec.name}'`).join(', ')}`
  const allow = windows.filter((w) => w.spec.kind === 'Allow')
  if (allow.length && !allow.some((w) => activeAt(w, t)))
    return `outside Allow window ${allow.map((w) => `'${w.spec.name}'`).join(', ')}`
  return undefined
}

/** The schedule of the windows matching one stage, at `now`, with its next change. */
export function evaluateSchedule(windows: CompiledWindow[], now: Date): ScheduleState {
  if (!windows.length) return { open: true }
  const t = now.getTime()
  // Expand each window once over the horizon; the schedule can only change at a boundary.
  const expanded = windows.map((w) => expand(w, t, t + HORIZON_MS))
  const reason = closedReason(expanded, t)
  const boundaries = new Set<number>()
  for (const w of expanded)
    for (const [s, e] of w.occurrences) {
      if (s > t) boundaries.add(s)
      if (e > t && Number.isFinite(e)) boundaries.add(e)
    }
  const sorted = [...boundaries].sort((a, b) => a - b)
  if (reason) {
    const next = sorted.find((b) => closedReason(expanded, b) === undefined)
    return { open: false, reason, ...(next !== undefined ? { nextOpen: new Date(next) } : {}) }
  }
  for (const b of sorted) {
    const why = closedReason(expanded, b)
    if (why) return { open: true, nextClose: new Date(b), nextCloseReason: why }
  }
  return { open: true }
}
