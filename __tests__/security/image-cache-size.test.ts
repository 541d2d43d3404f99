import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import {
  discoverImages,
  RequestStats,
  type ImageSubscriptionLike
} from '../../src/discovery/image/index.js'
import { defaultServices } from '../../src/runtime/services.js'
import { compact } from '../../src/state/serialize.js'
import type { ImageMetadataCacheEntry } from '../../src/state/types.js'
import { MemoryLogger } from '../../src/util/logger.js'
import { startFakeRegistry, type FakeImageSpec, type FakeRegistry } from '../support/registry.js'

/**
 * The image metadata cache lives in state.json: a registry with many tags and big annotations
 * must not grow it without bound (a 67 MB state.json over the 50 MB read limit bricked every
 * later command). It keeps what the next discovery needs, annotations only for selected images.
 */
const services = defaultServices({})
const ANNOTATIONS = { 'org.example.notes': 'n'.repeat(3000) }

function builds(from: number, to: number): Record<string, FakeImageSpec> {
  const tags: Record<string, FakeImageSpec> = {}
  for (let i = from; i < to; i++)
    tags[`build-${String(i).padStart(4, '0')}`] = {
      created: new Date(Date.UTC(2024, 0, 1) + i * 3_600_000).toISOString(),
      annotations: ANNOTATIONS
    }
  return tags
}

describe('security: the image metadata cache is bounded', () => {
  let fake: FakeRegistry
  beforeAll(async () => {
    fake = await startFakeRegistry()
    fake.maxPage = 1000
  })
  afterAll(async () => fake?.close())

  /** One discovery on a copy of the cache, as a warehouse discovery does; returns the new cache. */
  async function discover(
    sub: ImageSubscriptionLike,
    before: Record<string, ImageMetadataCacheEntry>
  ) {
    const cache = { ...before }
    const stats = new RequestStats()
    const result = await discoverImages(sub, { services, logger: new MemoryLogger(), cache, stats })
    return { result, cache, stats }
  }

  it('NewestBuild over 500 tags with 3 KB annotations keeps annotations for the selected images only', async () => {
    fake.setTags('big/app', builds(0, 500))
    const sub = {
      repoURL: `${fake.host}/big/app`,
      imageSelectionStrategy: 'NewestBuild' as const,
      discoveryLimit: 5
    }
    const first = await discover(sub, {})
    expect(first.result.references.map((r) => r.tag)).toEqual([
      'build-0499',
      'build-0498',
      'build-0497',
      'build-0496',
      'build-0495'
    ])
    for (const r of first.result.references) expect(r.annotations).toEqual(ANNOTATIONS)
    const entries = Object.values(first.cache)
    expect(entries).toHaveLength(500)
    expect(entries.filter((e) => e.annotations)).toHaveLength(5)
    // Every image: digest, build time, platforms (what sorting and platform checks use).
    const bytes = Buffer.byteLength(compact(first.cache))
    expect(bytes).toBeLessThan(500 * 300 + 5 * 3200)

    // The newest five are deleted: the next five are selected and get their annotations back.
    fake.setTags('big/app', builds(0, 495))
    const second = await discover(sub, first.cache)
    expect(second.result.references.map((r) => r.tag)[0]).toBe('build-0494')
    for (const r of second.result.references) expect(r.annotations).toEqual(ANNOTATIONS)
    expect(second.stats.counts['manifest-get']).toBe(5)
    // Entries of deleted tags are gone.
    expect(Object.keys(second.cache)).toHaveLength(495)

    // Most tags are deleted: the cache shrinks with the listing.
    fake.setTags('big/app', builds(400, 495))
    const third = await discover(sub, second.cache)
    expect(Object.keys(third.cache)).toHaveLength(95)
    // An unchanged run fetches no metadata.
    const fourth = await discover(sub, third.cache)
    expect(fourth.stats.counts['manifest-get'] ?? 0).toBe(0)
    expect(fourth.result).toEqual(third.result)
  }, 120_000)

  it('entries of other repositories in the same cache are left alone', async () => {
    fake.setTags('small/app', builds(0, 3))
    const other = { 'ghcr.io/acme/other@sha256:1': { digest: 'sha256:1' } }
    const { cache } = await discover(
      { repoURL: `${fake.host}/small/app`, imageSelectionStrategy: 'NewestBuild' },
      other
    )
    expect(cache['ghcr.io/acme/other@sha256:1']).toEqual({ digest: 'sha256:1' })
    expect(Object.keys(cache)).toHaveLength(4)
  })
})
