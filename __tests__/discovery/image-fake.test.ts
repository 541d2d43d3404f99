import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import {
  discoverImages,
  parseImageReference,
  RegistryClient,
  RequestStats,
  type ImageSubscriptionLike
} from '../../src/discovery/image/index.js'
import { nextLink, parseWwwAuthenticate } from '../../src/oci/client.js'
import { parseRetryAfter } from '../../src/http/retry.js'
import { defaultServices } from '../../src/runtime/services.js'
import type { ImageMetadataCacheEntry } from '../../src/state/types.js'
import { WaybillError } from '../../src/util/errors.js'
import { MemoryLogger } from '../../src/util/logger.js'
import { startFakeRegistry, type FakeRegistry } from '../support/registry.js'

/**
 * What distribution 2.8.2 cannot show: Link pagination, 429 with Retry-After and 5xx, served
 * by the spec-faithful fake in __tests__/support/registry.ts. Also request-count guarantees of
 * the metadata cache.
 */

const services = defaultServices({})

async function discover(
  sub: ImageSubscriptionLike,
  cache: Record<string, ImageMetadataCacheEntry> = {},
  client = { retries: 2, retryBaseMs: 5, timeoutMs: 5000 }
) {
  const stats = new RequestStats()
  const result = await discoverImages(sub, {
    services,
    logger: new MemoryLogger(),
    cache,
    stats,
    client
  })
  return { result, stats }
}

const versions = (n: number) =>
  Object.fromEntries(
    Array.from({ length: n }, (_, i) => [
      `${Math.floor(i / 100)}.${Math.floor(i / 10) % 10}.${i % 10}`,
      {}
    ])
  )

describe('reference parsing', () => {
  it('maps Docker Hub names and keeps other registries as written', () => {
    expect(parseImageReference('nginx')).toEqual({
      registry: 'registry-1.docker.io',
      repository: 'library/nginx',
      tag: undefined,
      digest: undefined
    })
    expect(parseImageReference('docker.io/bitnami/redis:7.2').repository).toBe('bitnami/redis')
    expect(parseImageReference('index.docker.io/nginx').repository).toBe('library/nginx')
    expect(parseImageReference('ghcr.io/acme/app@sha256:' + 'a'.repeat(64))).toMatchObject({
      registry: 'ghcr.io',
      repository: 'acme/app',
      digest: 'sha256:' + 'a'.repeat(64)
    })
    expect(parseImageReference('localhost:5000/x:1')).toMatchObject({
      registry: 'localhost:5000',
      repository: 'x',
      tag: '1'
    })
    expect(parseImageReference('oci://127.0.0.1:5000/charts/app:0.1.0')).toMatchObject({
      registry: '127.0.0.1:5000',
      repository: 'charts/app',
      tag: '0.1.0'
    })
    expect(() => parseImageReference('Upper/Case')).toThrow(/not a valid image reference/)
  })

  it('uses HTTPS except for loopback and insecure registries', () => {
    const logger = new MemoryLogger()
    expect(new RegistryClient('ghcr.io', { services, logger }).baseUrl).toBe('https://ghcr.io')
    expect(new RegistryClient('127.0.0.5:80', { services, logger }).scheme).toBe('http')
    expect(new RegistryClient('localhost:5000', { services, logger }).scheme).toBe('http')
    const s = { ...services, insecureRegistries: ['registry.lan:5000'] }
    expect(new RegistryClient('registry.lan:5000', { services: s, logger }).scheme).toBe('http')
  })

  it('parses challenges, Link headers and Retry-After', () => {
    expect(
      parseWwwAuthenticate(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:a/b:pull,push"'
      )
    ).toEqual({
      scheme: 'bearer',
      params: {
        realm: 'https://auth.docker.io/token',
        service: 'registry.docker.io',
        scope: 'repository:a/b:pull,push'
      }
    })
    expect(
      nextLink(
        '</v2/x/tags/list?next_page=abc&n=50>; rel="next"',
        'https://quay.io/v2/x/tags/list?n=50'
      )
    ).toBe('https://quay.io/v2/x/tags/list?next_page=abc&n=50')
    expect(nextLink('<https://a/1>; rel="prev", <https://a/3>; rel=next', 'https://a/2')).toBe(
      'https://a/3'
    )
    expect(nextLink('<https://a/1>; rel="prev"', 'https://a/2')).toBeUndefined()
    expect(parseRetryAfter('3')).toBe(3000)
    expect(parseRetryAfter(new Date(Date.now() + 10_000).toUTCString())).toBeGreaterThan(8000)
  })
})

describe('tags and retries on the fake registry', () => {
  let fake: FakeRegistry
  beforeAll(async () => {
    fake = await startFakeRegistry()
  })
  afterAll(async () => fake?.close())

  it('follows relative Link headers through every page', async () => {
    fake.setTags('paged/app', versions(250))
    fake.maxPage = 100
    fake.linkStyle = 'relative'
    const { result, stats } = await discover({
      repoURL: `${fake.host}/paged/app`,
      discoveryLimit: 3
    })
    expect(stats.counts.tags).toBe(3)
    expect(result.references.map((r) => r.tag)).toEqual(['2.4.9', '2.4.8', '2.4.7'])
    expect(fake.requests.filter((r) => r.path.includes('next_page')).length).toBe(2)
  })

  it('follows absolute Link headers with `last`', async () => {
    fake.linkStyle = 'absolute'
    const { result, stats } = await discover({
      repoURL: `${fake.host}/paged/app`,
      imageSelectionStrategy: 'Lexical',
      discoveryLimit: 1
    })
    expect(stats.counts.tags).toBe(3)
    expect(result.references.map((r) => r.tag)).toEqual(['2.4.9'])
    fake.linkStyle = 'relative'
  })

  it('honours Retry-After on 429 and then succeeds', async () => {
    fake.setTags('limited/app', { '1.0.0': {} })
    fake.fail(/limited\/app\/tags/, 429, 1, '1')
    const started = Date.now()
    const { result, stats } = await discover({ repoURL: `${fake.host}/limited/app` })
    expect(Date.now() - started).toBeGreaterThanOrEqual(950)
    expect(stats.counts.tags).toBe(2)
    expect(result.references.map((r) => r.tag)).toEqual(['1.0.0'])
  })

  it('retries 5xx with backoff and then succeeds', async () => {
    fake.fail(/limited\/app\/manifests/, 503, 2)
    const { result, stats } = await discover({ repoURL: `${fake.host}/limited/app` })
    expect(result.references).toHaveLength(1)
    expect(stats.counts['manifest-head']).toBe(3)
  })

  it('gives up on persistent 5xx naming the host and the status', async () => {
    fake.fail(/limited\/app\/tags/, 500, 10)
    const err = await discover({ repoURL: `${fake.host}/limited/app` }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(WaybillError)
    expect((err as Error).message).toContain(`registry ${fake.host} failed (HTTP 500)`)
    expect((err as Error).message).toContain('after 3 attempts')
    expect((err as WaybillError).hint).toMatch(/retry later/)
    fake.clearFailures()
  })

  it('rate limiting that lasts fails with advice to use credentials', async () => {
    const f = { match: /limited\/app\/tags/, status: 429 }
    fake.fail(f.match, f.status, 3, '0')
    const err = (await discover({ repoURL: `${fake.host}/limited/app` }).catch(
      (e: unknown) => e
    )) as WaybillError
    expect(err.message).toContain(`registry ${fake.host} rate-limited`)
    expect(err.message).toContain('HTTP 429')
    expect(err.hint).toContain(`registry-credentials for ${fake.host}`)
    // A Retry-After longer than the client accepts fails at once.
    fake.fail(f.match, f.status, 1, '3600')
    const started = Date.now()
    await expect(discover({ repoURL: `${fake.host}/limited/app` })).rejects.toThrow(/HTTP 429/)
    expect(Date.now() - started).toBeLessThan(1000)
  })

  it('computes the digest from the body when Docker-Content-Digest is missing', async () => {
    const digest = fake.putTag('old/app', '1.0.0')
    fake.omitDigestHeader = true
    const { result, stats } = await discover({ repoURL: `${fake.host}/old/app` })
    fake.omitDigestHeader = false
    expect(result.references).toEqual([{ tag: '1.0.0', digest }])
    expect(stats.counts['manifest-get']).toBe(1)
  })
})

describe('metadata cache: request counts', () => {
  let fake: FakeRegistry
  beforeAll(async () => {
    fake = await startFakeRegistry()
    fake.maxPage = 100
  })
  afterAll(async () => fake?.close())

  it('SemVer: first run = pages + limit HEADs; unchanged with cacheByTag = pages only', async () => {
    fake.setTags('cache/semver', versions(300))
    const sub = { repoURL: `${fake.host}/cache/semver`, discoveryLimit: 20, cacheByTag: true }
    const cache: Record<string, ImageMetadataCacheEntry> = {}
    const first = await discover(sub, cache)
    expect(first.result.references).toHaveLength(20)
    expect(first.stats.counts).toMatchObject({ tags: 3, 'manifest-head': 20, 'manifest-get': 0 })
    expect(first.stats.total).toBe(23)
    const second = await discover(sub, cache)
    expect(second.result).toEqual(first.result)
    expect(second.stats.total).toBe(3)
    // Without cacheByTag a mutable tag could move: one HEAD per candidate.
    const third = await discover({ ...sub, cacheByTag: false }, cache)
    expect(third.stats.counts['manifest-head']).toBe(20)
    expect(third.stats.counts['manifest-get']).toBe(0)
  })

  it('SemVer without cacheByTag sees a re-pointed tag', async () => {
    fake.setTags('cache/moving', { '1.0.0': {}, '1.1.0': {} })
    const sub = { repoURL: `${fake.host}/cache/moving` }
    const cache = {}
    const a = await discover(sub, cache)
    const moved = fake.putTag('cache/moving', '1.1.0', { salt: 'rebuilt' })
    const b = await discover(sub, cache)
    expect(b.result.references[0]).toEqual({ tag: '1.1.0', digest: moved })
    expect(b.result.references[0].digest).not.toBe(a.result.references[0].digest)
  })

  it('NewestBuild: the second run fetches metadata only for new tags', async () => {
    const tags: Record<string, { created: string }> = {}
    for (let i = 0; i < 200; i++)
      tags[`build-${String(i).padStart(4, '0')}`] = {
        created: new Date(Date.UTC(2024, 0, 1) + i * 3600_000).toISOString()
      }
    fake.setTags('cache/builds', tags)
    const sub = {
      repoURL: `${fake.host}/cache/builds`,
      imageSelectionStrategy: 'NewestBuild' as const,
      discoveryLimit: 5
    }
    const cache: Record<string, ImageMetadataCacheEntry> = {}
    const first = await discover(sub, cache)
    expect(first.result.references.map((r) => r.tag)).toEqual([
      'build-0199',
      'build-0198',
      'build-0197',
      'build-0196',
      'build-0195'
    ])
    expect(first.stats.counts).toMatchObject({
      tags: 2,
      'manifest-head': 0,
      'manifest-get': 200,
      'blob-get': 200
    })
    fake.putTag('cache/builds', 'hotfix', { created: '2030-01-01T00:00:00Z' })
    const second = await discover(sub, cache)
    expect(second.result.references[0].tag).toBe('hotfix')
    expect(second.stats.counts).toMatchObject({
      'manifest-head': 201,
      'manifest-get': 1,
      'blob-get': 1
    })
    const byTag = { ...sub, cacheByTag: true }
    await discover(byTag, cache)
    const fourth = await discover(byTag, cache)
    expect(fourth.stats.total).toBe(fourth.stats.counts.tags)
  })
})
