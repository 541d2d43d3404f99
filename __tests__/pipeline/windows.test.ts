/** Promotion windows: Allow/Deny, one-shot and recurring, time zones and DST, next open/close. */
import { describe, expect, test } from '@jest/globals'
import {
  compileWindow,
  evaluateSchedule,
  parseICalTime,
  type PromotionWindowSpec
} from '../../src/pipeline/windows.js'

const at = (iso: string) => new Date(iso)
const schedule = (specs: PromotionWindowSpec[], iso: string) =>
  evaluateSchedule(
    specs.map((s) => compileWindow(s)),
    at(iso)
  )

const businessHours: PromotionWindowSpec = {
  name: 'business-hours',
  kind: 'Allow',
  rrule: 'FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR',
  dtstart: 'TZID=America/New_York:20260105T090000',
  dtend: 'TZID=America/New_York:20260105T170000'
}

describe('promotion windows', () => {
  test('no windows: always open', () => {
    expect(schedule([], '2026-07-01T12:00:00Z')).toEqual({ open: true })
  })

  test('an Allow window opens the schedule only while active, in its own time zone', () => {
    // Wednesday 2026-07-01, 10:00 in New York (EDT, UTC-4) = 14:00Z: open.
    const open = schedule([businessHours], '2026-07-01T14:00:00Z')
    expect(open.open).toBe(true)
    expect(open.nextClose?.toISOString()).toBe('2026-07-01T21:00:00.000Z') // 17:00 EDT
    expect(open.nextCloseReason).toContain("'business-hours'")
    // 08:00 EDT: closed until 09:00 EDT.
    const closed = schedule([businessHours], '2026-07-01T12:00:00Z')
    expect(closed.open).toBe(false)
    expect(closed.reason).toContain('outside Allow window')
    expect(closed.nextOpen?.toISOString()).toBe('2026-07-01T13:00:00.000Z')
  })

  test('Friday evening: the next opening is Monday 09:00 local', () => {
    const s = schedule([businessHours], '2026-07-03T22:00:00Z') // Fri 18:00 EDT
    expect(s.open).toBe(false)
    expect(s.nextOpen?.toISOString()).toBe('2026-07-06T13:00:00.000Z')
  })

  test('09:00 local stays 09:00 local across the DST change (winter UTC-5, summer UTC-4)', () => {
    // Monday 2026-03-09 (after the US change on 8 March): 09:00 EDT = 13:00Z.
    expect(schedule([businessHours], '2026-03-09T13:30:00Z').open).toBe(true)
    // Friday 2026-03-06 (before): 09:00 EST = 14:00Z, so 13:30Z is still closed.
    const before = schedule([businessHours], '2026-03-06T13:30:00Z')
    expect(before.open).toBe(false)
    expect(before.nextOpen?.toISOString()).toBe('2026-03-06T14:00:00.000Z')
  })

  test('a Deny window closes the schedule even inside an Allow window', () => {
    const freeze: PromotionWindowSpec = {
      name: 'year-end-freeze',
      kind: 'Deny',
      dtstart: '20261220T000000Z',
      dtend: '20270104T000000Z'
    }
    const s = schedule([businessHours, freeze], '2026-12-22T15:00:00Z') // Tue 10:00 EST
    expect(s.open).toBe(false)
    expect(s.reason).toContain("Deny window 'year-end-freeze'")
    // Reopens on the first Allow occurrence after the freeze: Mon 4 Jan 09:00 EST.
    expect(s.nextOpen?.toISOString()).toBe('2027-01-04T14:00:00.000Z')
  })

  test('a one-shot Allow window that has passed: closed with no known reopening', () => {
    const s = schedule(
      [{ name: 'once', kind: 'Allow', dtstart: '20260101T000000Z', dtend: '20260102T000000Z' }],
      '2026-02-01T00:00:00Z'
    )
    expect(s.open).toBe(false)
    expect(s.nextOpen).toBeUndefined()
  })

  test('a recurring Deny window (nightly) with an open schedule gives the next close', () => {
    const nightly: PromotionWindowSpec = {
      name: 'nightly',
      kind: 'Deny',
      rrule: 'FREQ=DAILY',
      dtstart: 'TZID=Europe/Berlin:20260101T220000',
      dtend: 'TZID=Europe/Berlin:20260102T060000'
    }
    const s = schedule([nightly], '2026-07-01T12:00:00Z') // 14:00 CEST
    expect(s.open).toBe(true)
    expect(s.nextClose?.toISOString()).toBe('2026-07-01T20:00:00.000Z') // 22:00 CEST
    const night = schedule([nightly], '2026-07-01T23:00:00Z') // 01:00 CEST, inside
    expect(night.open).toBe(false)
    expect(night.nextOpen?.toISOString()).toBe('2026-07-02T04:00:00.000Z') // 06:00 CEST
  })

  test('bad specs name the field', () => {
    expect(() => parseICalTime('2026-01-01 09:00', 'w.dtstart')).toThrow(/not an iCal date-time/)
    expect(() => parseICalTime('TZID=Mars/Olympus:20260101T090000', 'w.dtstart')).toThrow(
      /unknown time zone 'Mars\/Olympus'/
    )
    expect(() =>
      compileWindow({ name: 'x', kind: 'Allow', rrule: 'FREQ=DAILY', dtstart: '20260101T090000Z' })
    ).toThrow(/dtend - dtstart/)
    expect(() =>
      compileWindow({
        name: 'x',
        kind: 'Allow',
        rrule: 'FREQ=SOMETIMES',
        dtstart: '20260101T090000Z',
        dtend: '20260101T100000Z'
      })
    ).toThrow(/not an RFC 5545 RRULE|FREQ/)
  })

  test('sub-hourly rules are refused (they would expand millions of occurrences)', () => {
    expect(() =>
      compileWindow({
        name: 'busy',
        kind: 'Allow',
        rrule: 'FREQ=SECONDLY',
        dtstart: '20260101T000000Z',
        dtend: '20260101T000001Z'
      })
    ).toThrow(/HOURLY or longer/)
  })

  test('an hourly rule years after its dtstart is evaluated', () => {
    const s = schedule(
      [
        {
          name: 'first-half-hour',
          kind: 'Allow',
          rrule: 'FREQ=HOURLY',
          dtstart: '20200101T000000Z',
          dtend: '20200101T003000Z'
        }
      ],
      '2026-07-01T12:45:00Z'
    )
    expect(s).toMatchObject({ open: false, nextOpen: at('2026-07-01T13:00:00Z') })
  })
})
