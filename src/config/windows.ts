/*
 * Promotion windows (Kargo's ProjectConfig.spec.promotionWindows), parsed and compiled: each is
 * a one-shot interval (dtstart..dtend) or an RFC 5545 recurrence (rrule) of dtend - dtstart long.
 * The loader compiles every window (so errors name the field); the pipeline evaluates the
 * schedule (src/pipeline/windows.ts).
 *
 * Time zones: `TZID=Europe/Paris:20260101T090000` is wall-clock time in that zone. Recurrences
 * are expanded in wall-clock time and each occurrence converted to an instant afterwards, so a
 * 09:00–17:00 window stays 09:00–17:00 local across daylight-saving changes (RFC 5545's nominal
 * durations). A time without TZID or Z is read as UTC.
 */
import { DateTime } from 'luxon'
import * as rruleModule from 'rrule'
import type { Options as RRuleOptions } from 'rrule'
import type { StageSelector } from './schema.js'

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
  /** The stages it applies to; all stages when absent. */
  stageSelector?: StageSelector
}

export interface ParsedTime {
  /** Wall-clock fields, as a UTC Date whose fields are the local time. */
  wall: Date
  zone: string
}

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
    throw new WindowSpecError(
      `${field}.rrule`,
      `'${spec.rrule}' has no valid FREQ (YEARLY, MONTHLY, WEEKLY, DAILY or HOURLY)`
    )
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
  const periods: Record<number, number> = {
    [RRule.HOURLY]: hour,
    [RRule.DAILY]: 24 * hour,
    [RRule.WEEKLY]: 7 * 24 * hour
  }
  const unit = periods[options.freq] as number | undefined
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
