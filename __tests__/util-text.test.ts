import { describe, expect, it } from '@jest/globals'
import {
  hasControlCharacter,
  replaceNonPrintable,
  scalarText,
  singleLine,
  stripNonPrintable
} from '../src/util/text.js'

const C0 = '\u0000\u0007\t\n\r\u001b\u001f'
const DEL_C1 = '\u007f\u0080\u009b\u009f'
const FORMAT = '\u200b\u200e\u2028\u2029\u202e\u2066\ufeff'

describe('control characters', () => {
  it('C0 (tab and newlines included), DEL and C1 are control characters', () => {
    for (const c of [...C0, ...DEL_C1]) expect(hasControlCharacter(`a${c}b`)).toBe(true)
  })

  it('printable text, non-ASCII letters and invisible formatting are not', () => {
    expect(hasControlCharacter('plain text ~ é ü 日本 🚀')).toBe(false)
    expect(hasControlCharacter('\u00a0\u00ff')).toBe(false)
    for (const c of FORMAT) expect(hasControlCharacter(c)).toBe(false)
  })

  it('singleLine turns each run of controls into one space and trims', () => {
    expect(singleLine('fix: thing\r\n\r\nbody\u001b[31m red\u0007')).toBe(
      'fix: thing body [31m red'
    )
    expect(singleLine(`${C0}x${DEL_C1}y${C0}`)).toBe('x y')
    expect(singleLine('keeps\u200bformat')).toBe('keeps\u200bformat')
  })

  it('stripNonPrintable removes controls and invisible formatting characters', () => {
    expect(stripNonPrintable(`ht${C0}tps://ex${FORMAT}ample.com/${DEL_C1}x`)).toBe(
      'https://example.com/x'
    )
  })

  it('replaceNonPrintable replaces each one, so escapes and bidi overrides cannot act', () => {
    expect(replaceNonPrintable('\u001b[2Jstage\u202etxt.exe')).toBe(' [2Jstage txt.exe')
    expect(replaceNonPrintable('a\tb', '?')).toBe('a?b')
  })

  it('scalarText gives scalars their text and objects none', () => {
    expect(scalarText('v1')).toBe('v1')
    expect(scalarText(3)).toBe('3')
    expect(scalarText(false)).toBe('false')
    expect(scalarText(10n)).toBe('10')
    for (const v of [null, undefined, {}, ['a'], () => 1]) expect(scalarText(v)).toBeUndefined()
  })
})
