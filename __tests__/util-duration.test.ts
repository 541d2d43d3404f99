import { describe, expect, it } from '@jest/globals'
import {
  formatDuration,
  formatDurationShort,
  isDuration,
  parseDuration
} from '../src/util/duration.js'

describe('parseDuration (Go time.ParseDuration)', () => {
  it.each([
    ['5m0s', 300_000],
    ['1h30m', 5_400_000],
    ['500ms', 500],
    ['300ms', 300],
    ['1.5h', 5_400_000],
    ['.5s', 500],
    ['1.s', 1000],
    ['0', 0],
    ['-30s', -30_000],
    ['+2m', 120_000],
    ['250us', 0.25],
    ['250µs', 0.25],
    ['1000000ns', 1],
    ['1h1h', 7_200_000]
  ])('%s = %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms))
  it.each(['', '5', '5 m', '1d', 'm5', '5m-1s', '-', '1.5', 'h'])(
    'rejects %j with a hint',
    (text) => {
      expect(() => parseDuration(text)).toThrow(/is not a duration/)
      expect(isDuration(text)).toBe(false)
    }
  )
})

describe('formatDuration (Go Duration.String)', () => {
  it.each([
    [0, '0s'],
    [300, '300ms'],
    [1.5, '1.5ms'],
    [0.25, '250µs'],
    [0.000_5, '500ns'],
    [1500, '1.5s'],
    [90_000, '1m30s'],
    [300_000, '5m0s'],
    [3_600_000, '1h0m0s'],
    [5_400_000, '1h30m0s'],
    [5_400_500, '1h30m0.5s'],
    [-30_000, '-30s']
  ])('%d ms → %s', (ms, text) => expect(formatDuration(ms)).toBe(text))

  it.each(['1h30m', '1.5h', '300ms', '5m0s', '250µs', '1m0.001s'])(
    '%s survives a round trip',
    (text) => expect(parseDuration(formatDuration(parseDuration(text)))).toBe(parseDuration(text))
  )
})

describe('formatDurationShort (messages)', () => {
  it.each([
    [0, '0ms'],
    [300, '300ms'],
    [1500, '1.5s'],
    [90_000, '1m30s'],
    [300_000, '5m'],
    [3_600_000, '1h'],
    [5_400_000, '1h30m'],
    [3_601_000, '1h1s']
  ])('%d ms → %s', (ms, text) => expect(formatDurationShort(ms)).toBe(text))

  it('truncates to a resolution (elapsed times in whole seconds)', () => {
    expect(formatDurationShort(5_999, 1000)).toBe('5s')
    expect(formatDurationShort(999, 1000)).toBe('0s')
    expect(formatDurationShort(1_800_000, 1000)).toBe('30m')
  })

  it('reads back as the same duration', () => {
    for (const ms of [300, 1500, 90_000, 5_400_000, 3_601_000])
      expect(parseDuration(formatDurationShort(ms))).toBe(ms)
  })
})
