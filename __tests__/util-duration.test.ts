import { describe, expect, it } from '@jest/globals'
import { parseDuration } from '../src/util/duration.js'

describe('parseDuration (Go time.ParseDuration)', () => {
  it.each([
    ['5m0s', 300_000],
    ['1h30m', 5_400_000],
    ['500ms', 500],
    ['1.5h', 5_400_000],
    ['0', 0],
    ['-30s', -30_000],
    ['250us', 0.25]
  ])('%s = %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms))
  it.each(['', '5', '5 m', '1d', 'm5', '5m-1s'])('rejects %j with a hint', (text) => {
    expect(() => parseDuration(text)).toThrow(/is not a duration/)
  })
})
