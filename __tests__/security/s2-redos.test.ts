import { describe, expect, it } from '@jest/globals'
import {
  GitSubscriptionSchema,
  ImageSubscriptionSchema,
  StageSelectorSchema
} from '../../src/config/schema.js'
import { compilePathFilter } from '../../src/discovery/path-filter.js'
import { filterTags } from '../../src/discovery/semver.js'
import { autoPromotionEnabled } from '../../src/pipeline/policies.js'
import type { ProjectModel } from '../../src/config/index.js'
import { ConfigFieldError } from '../../src/util/errors.js'
import { compileUserRegex } from '../../src/util/regex.js'

/**
 * Issue 12, item 7: a pathological allowTagsRegexes / includePaths pattern plus one crafted tag or
 * file name hung discovery on JavaScript's backtracking engine. User patterns now run on RE2JS
 * (linear time, Go/RE2 syntax like Kargo).
 */

const CATASTROPHIC = '(a+)+$'
// 2^40 backtracking steps on a backtracking engine; microseconds on RE2.
const CRAFTED = 'a'.repeat(40) + '!'

function timed<T>(fn: () => T): { value: T; ms: number } {
  const start = performance.now()
  const value = fn()
  return { value, ms: performance.now() - start }
}

describe('user patterns run in linear time', () => {
  it('allowTagsRegexes and ignoreTagsRegexes', () => {
    const tags = [CRAFTED, 'aaa', 'v1.0.0']
    const allow = timed(() => filterTags(tags, { allowTagsRegexes: [CATASTROPHIC] }))
    expect(allow.value).toEqual(['aaa'])
    const ignore = timed(() => filterTags(tags, { ignoreTagsRegexes: [CATASTROPHIC] }))
    expect(ignore.value).toEqual([CRAFTED, 'v1.0.0'])
    expect(allow.ms + ignore.ms).toBeLessThan(2000)
  })

  it('includePaths / excludePaths regex: selectors', () => {
    const filter = compilePathFilter([`regex:${CATASTROPHIC}`], [`regexp:^(x+x+)+y$`], 'git')
    const { value, ms } = timed(() => filter.matches([CRAFTED, 'x'.repeat(40)]))
    expect(value).toBe(false)
    expect(ms).toBeLessThan(2000)
  })

  it('stage selector regex: names', () => {
    const model = {
      stages: new Map([[CRAFTED, { metadata: { labels: {} } }]]),
      projectConfig: {
        spec: {
          promotionPolicies: [
            { stageSelector: { name: `regex:${CATASTROPHIC}` }, autoPromotionEnabled: true }
          ]
        }
      }
    } as unknown as ProjectModel
    const { value, ms } = timed(() => autoPromotionEnabled(model, CRAFTED))
    expect(value).toBe(false)
    expect(ms).toBeLessThan(2000)
  })

  it('keeps Go syntax Kargo users write: (?i), classes, named groups', () => {
    expect(filterTags(['V1.2', 'x'], { allowTagsRegexes: ['(?i)^v\\d+\\.\\d+$'] })).toEqual([
      'V1.2'
    ])
    expect(compileUserRegex('^[[:alpha:]]+-(?P<n>\\d+)$', 'f').test('abc-12')).toBe(true)
  })
})

describe('patterns RE2 cannot run are refused with the field named', () => {
  it('at discovery', () => {
    const err = (() => {
      try {
        filterTags(['a'], { allowTagsRegexes: ['ok', '(a)\\1'] }, 'image.')
      } catch (e) {
        return e
      }
    })()
    expect(err).toBeInstanceOf(ConfigFieldError)
    expect((err as ConfigFieldError).field).toBe('image.allowTagsRegexes[1]')
    expect((err as Error).message).toMatch(/invalid escape sequence/)
    expect((err as ConfigFieldError).hint).toMatch(/no backreferences/)
    expect(() => compilePathFilter(['regex:(?=x)'], [], 'spec.subscriptions[0].git')).toThrow(
      /spec\.subscriptions\[0\]\.git\.includePaths\[0\].*Perl syntax/
    )
  })

  it('when the config is validated', () => {
    const image = ImageSubscriptionSchema.safeParse({
      repoURL: 'ghcr.io/acme/app',
      ignoreTagsRegexes: ['(?!rc)']
    })
    expect(image.success).toBe(false)
    expect(JSON.stringify(image.error?.issues)).toMatch(/ignoreTagsRegexes.*Go\/RE2 syntax/)
    const git = GitSubscriptionSchema.safeParse({
      repoURL: 'https://github.com/acme/app',
      excludePaths: ['regexp:(a)\\1', 'glob:*.md']
    })
    expect(git.success).toBe(false)
    expect(git.error?.issues.map((i) => i.path.join('.'))).toEqual(['excludePaths.0'])
    expect(StageSelectorSchema.safeParse({ name: 'regex:(?<=x)y' }).success).toBe(false)
    expect(StageSelectorSchema.safeParse({ name: 'regex:^prod-.*' }).success).toBe(true)
  })
})
