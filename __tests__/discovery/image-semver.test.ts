import { describe, expect, it } from '@jest/globals'
import {
  filterTags,
  parseConstraint,
  parseSemver,
  sortLexicalDesc,
  sortSemverDesc
} from '../../src/discovery/semver.js'
import { ConfigFieldError } from '../../src/util/errors.js'

describe('filterTags', () => {
  const tags = ['1.0.0', '1.1.0-rc.1', 'latest', 'sha-abc123', 'v2.0.0', '2.0.0-debug']
  it('keeps everything without regexes', () => {
    expect(filterTags(tags, {})).toEqual(tags)
  })
  it('allow regexes are unanchored and any-match', () => {
    expect(filterTags(tags, { allowTagsRegexes: ['rc', '^sha-'] })).toEqual([
      '1.1.0-rc.1',
      'sha-abc123'
    ])
  })
  it('ignore regexes win over allow regexes', () => {
    expect(
      filterTags(tags, { allowTagsRegexes: ['\\d'], ignoreTagsRegexes: ['debug$', 'rc'] })
    ).toEqual(['1.0.0', 'sha-abc123', 'v2.0.0'])
  })
  it('accepts RE2 (?i) and names the field of a bad regex', () => {
    expect(filterTags(['LATEST', 'x'], { allowTagsRegexes: ['(?i)^latest$'] })).toEqual(['LATEST'])
    expect(() => filterTags(tags, { ignoreTagsRegexes: ['ok', '('] }, 'image.')).toThrow(
      /image\.ignoreTagsRegexes\[1\]: invalid regular expression/
    )
  })
})

describe('parseSemver', () => {
  it('strict requires major.minor.patch, leading v allowed', () => {
    expect(parseSemver('1.2.3')?.version).toBe('1.2.3')
    expect(parseSemver('v1.2.3-rc.1+b5')?.version).toBe('1.2.3-rc.1')
    expect(parseSemver('1.2')).toBeNull()
    expect(parseSemver('1')).toBeNull()
    expect(parseSemver('abc123')).toBeNull()
    expect(parseSemver('latest')).toBeNull()
    expect(parseSemver('01.2.3')).toBeNull()
  })
  it('loose accepts partial versions', () => {
    expect(parseSemver('1.2', false)?.version).toBe('1.2.0')
    expect(parseSemver('v7', false)?.version).toBe('7.0.0')
    expect(parseSemver('7a', false)).toBeNull()
  })
})

describe('parseConstraint (Masterminds syntax)', () => {
  const ok = (c: string, v: string) => parseConstraint(c).check(parseSemver(v, false)!)
  it('handles caret, tilde, wildcards, comparisons, commas, OR, != and hyphen ranges', () => {
    expect(ok('^1.26.0', '1.27.3')).toBe(true)
    expect(ok('^1.26.0', '2.0.0')).toBe(false)
    expect(ok('^1.2', '1.9.0')).toBe(true)
    expect(ok('~1.2', '1.3.0')).toBe(false)
    expect(ok('1.2.x', '1.2.9')).toBe(true)
    expect(ok('>= 1.2, < 3.0', '2.5.0')).toBe(true)
    expect(ok('>= 1.2, < 3.0', '3.0.0')).toBe(false)
    expect(ok('<1.0 || >=2.0', '1.5.0')).toBe(false)
    expect(ok('<1.0 || >=2.0', '2.1.0')).toBe(true)
    expect(ok('>=1.0, != 1.5.0', '1.5.0')).toBe(false)
    expect(ok('>=1.0, != 1.5.0', '1.6.0')).toBe(true)
    expect(ok('1.2 - 1.4.5', '1.4.5')).toBe(true)
    expect(ok('1.2 - 1.4.5', '1.4.6')).toBe(false)
    expect(ok('>=v1.2.0', '1.3.0')).toBe(true)
    expect(ok('', '0.0.1-alpha')).toBe(true)
  })
  it('excludes prereleases unless the constraint names one', () => {
    expect(ok('>=1.0.0', '1.1.0-rc.1')).toBe(false)
    expect(ok('>=1.1.0-rc.0', '1.1.0-rc.1')).toBe(true)
  })
  it('rejects garbage with the field name', () => {
    expect(() => parseConstraint('not a range!', 'image.constraint')).toThrow(ConfigFieldError)
    expect(() => parseConstraint('>=foo', 'image.constraint')).toThrow(/image\.constraint/)
  })
})

describe('sorting', () => {
  it('sorts semver descending with a lexical tie-break, dropping non-versions', () => {
    expect(
      sortSemverDesc(['1.0.0', 'v1.0.0', '1.10.0', '1.9.0', 'latest', '2.0.0-rc.1', '1.2'])
    ).toEqual(['2.0.0-rc.1', '1.10.0', '1.9.0', 'v1.0.0', '1.0.0'])
  })
  it('applies the constraint and strictness', () => {
    expect(sortSemverDesc(['1.0.0', '1.2', '2.0.0', '1.5.1'], { constraint: '^1.0.0' })).toEqual([
      '1.5.1',
      '1.0.0'
    ])
    expect(
      sortSemverDesc(['1.0.0', '1.2', '2.0.0'], { constraint: '^1.0.0', strict: false })
    ).toEqual(['1.2', '1.0.0'])
  })
  it('sorts lexically descending by bytes', () => {
    expect(sortLexicalDesc(['a', 'B', 'b', '10', '9'])).toEqual(['b', 'a', 'B', '9', '10'])
  })
})
