import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import {
  clearTokenCache,
  discoverImages,
  RequestStats,
  type ImageSubscriptionLike
} from '../../src/discovery/image/index.js'
import type { ImageSubscription } from '../../src/config/schema.js'
import { defaultServices, type Services } from '../../src/runtime/services.js'
import type { ImageMetadataCacheEntry } from '../../src/state/types.js'
import { errorMessage, WaybillError } from '../../src/util/errors.js'
import { MemoryLogger, redact } from '../../src/util/logger.js'
import {
  freePort,
  hasDockerRegistry,
  hasHtpasswd,
  pushImage,
  pushIndex,
  skipReason,
  startRegistry,
  type TestRegistry
} from '../support/registry.js'

/** Image discovery against Debian's real docker-registry (distribution 2.8.2) on loopback. */

if (!hasDockerRegistry) console.warn(skipReason)
const d = hasDockerRegistry ? describe : describe.skip

function services(extra: Partial<Services> = {}): Services {
  return { ...defaultServices({}), ...extra }
}

// The config layer's parsed type fits the discovery input.
export const _fits = (s: ImageSubscription): ImageSubscriptionLike => s

async function discover(
  sub: ImageSubscriptionLike,
  o: { services?: Services; cache?: Record<string, ImageMetadataCacheEntry> } = {}
) {
  const stats = new RequestStats()
  const logger = new MemoryLogger()
  const result = await discoverImages(sub, {
    services: o.services ?? services(),
    logger,
    cache: o.cache ?? {},
    stats,
    client: { retries: 1, retryBaseMs: 10, timeoutMs: 5000 }
  })
  return { result, stats, logger }
}

async function failure(p: Promise<unknown>): Promise<WaybillError> {
  try {
    await p
  } catch (err) {
    if (err instanceof WaybillError) return err
    throw err
  }
  throw new Error('expected a failure')
}

d('image discovery on an open registry', () => {
  let reg: TestRegistry
  const digests: Record<string, string> = {}
  beforeAll(async () => {
    reg = await startRegistry()
    for (const tag of ['1.0.0', '1.1.0', 'v1.2.0', '2.0.0-rc.1', 'latest', '1.2', 'sha-abc1234'])
      digests[tag] = await pushImage(reg, 'team/app', tag, { salt: tag })
  })
  afterAll(async () => reg?.close())

  it('SemVer (default): semver tags newest first with digests, one HEAD per candidate', async () => {
    const { result, stats } = await discover({ repoURL: `${reg.host}/team/app` })
    expect(result.repoURL).toBe(`${reg.host}/team/app`)
    expect(result.references.map((r) => r.tag)).toEqual(['2.0.0-rc.1', 'v1.2.0', '1.1.0', '1.0.0'])
    for (const r of result.references) expect(r.digest).toBe(digests[r.tag])
    expect(stats.counts.tags).toBe(1)
    expect(stats.counts['manifest-head']).toBe(4)
    expect(stats.counts['manifest-get']).toBe(0)
  })

  it('SemVer with a Masterminds constraint, discoveryLimit and loose semvers', async () => {
    const a = await discover({
      repoURL: `${reg.host}/team/app`,
      constraint: '>=1.0, <2.0',
      discoveryLimit: 2
    })
    expect(a.result.references.map((r) => r.tag)).toEqual(['v1.2.0', '1.1.0'])
    expect(a.stats.counts['manifest-head']).toBe(2)
    const b = await discover({
      repoURL: `${reg.host}/team/app`,
      constraint: '^1.1',
      strictSemvers: false
    })
    expect(b.result.references.map((r) => r.tag)).toEqual(['v1.2.0', '1.2', '1.1.0'])
  })

  it('Lexical with allow and ignore regexes', async () => {
    const { result } = await discover({
      repoURL: `${reg.host}/team/app`,
      imageSelectionStrategy: 'Lexical',
      allowTagsRegexes: ['^sha-', 'latest', '^1\\.'],
      ignoreTagsRegexes: ['^1\\.0']
    })
    expect(result.references.map((r) => r.tag)).toEqual(['sha-abc1234', 'latest', '1.2', '1.1.0'])
  })

  it('NewestBuild: annotation, then labels, then config created; an index takes its newest image', async () => {
    const repo = 'team/builds'
    await pushImage(reg, repo, 'a', { created: '2024-01-01T00:00:00Z' })
    await pushImage(reg, repo, 'b', {
      created: '2020-01-01T00:00:00Z',
      labels: { 'org.label-schema.build-date': '2024-03-01T00:00:00Z' }
    })
    await pushImage(reg, repo, 'c', {
      created: '2025-06-01T00:00:00Z',
      annotations: { 'org.opencontainers.image.created': '2024-02-01T00:00:00Z' }
    })
    await pushIndex(
      reg,
      repo,
      'd',
      [
        { created: '2023-01-01T00:00:00Z', architecture: 'amd64' },
        { created: '2024-04-01T00:00:00Z', architecture: 'arm64', variant: 'v8' }
      ],
      { attestation: true }
    )
    const cache: Record<string, ImageMetadataCacheEntry> = {}
    const sub = { repoURL: `${reg.host}/${repo}`, imageSelectionStrategy: 'NewestBuild' as const }
    const first = await discover(sub, { cache })
    expect(first.result.references.map((r) => [r.tag, r.createdAt])).toEqual([
      ['d', '2024-04-01T00:00:00.000Z'],
      ['b', '2024-03-01T00:00:00.000Z'],
      ['c', '2024-02-01T00:00:00.000Z'],
      ['a', '2024-01-01T00:00:00.000Z']
    ])
    // First run: a GET per tag (digest from the header), per child for the index, and configs.
    expect(first.stats.counts['manifest-head']).toBe(0)
    expect(first.stats.counts['manifest-get']).toBe(4 + 2)
    expect(first.stats.counts['blob-get']).toBe(3 + 2)
    expect(cache[`${reg.host}/${repo}@${first.result.references[0].digest}`].platforms).toEqual([
      'linux/amd64',
      'linux/arm64/v8'
    ])

    // Unchanged: one HEAD per tag, no metadata.
    const second = await discover(sub, { cache })
    expect(second.result).toEqual(first.result)
    expect(second.stats.counts['manifest-head']).toBe(4)
    expect(second.stats.counts['manifest-get'] + second.stats.counts['blob-get']).toBe(0)

    // A new tag: metadata for it only.
    await pushImage(reg, repo, 'e', { created: '2024-05-01T00:00:00Z' })
    const third = await discover(sub, { cache })
    expect(third.result.references[0].tag).toBe('e')
    expect(third.stats.counts['manifest-get']).toBe(1)
    expect(third.stats.counts['blob-get']).toBe(1)

    // cacheByTag: after one run that fills the tag keys, only the tag list is read.
    const byTag = { ...sub, cacheByTag: true }
    await discover(byTag, { cache })
    const fourth = await discover(byTag, { cache })
    expect(fourth.result.references.map((r) => r.tag)).toEqual(['e', 'd', 'b', 'c', 'a'])
    expect(fourth.stats.total).toBe(1)
    expect(fourth.stats.counts.tags).toBe(1)
  })

  it('Digest follows a mutable tag and sees a re-push', async () => {
    const repo = 'team/mutable'
    const d1 = await pushImage(reg, repo, 'latest', { salt: 'one' })
    const sub = {
      repoURL: `${reg.host}/${repo}`,
      imageSelectionStrategy: 'Digest' as const,
      constraint: 'latest',
      cacheByTag: true // never used by Digest
    }
    const cache: Record<string, ImageMetadataCacheEntry> = {}
    const a = await discover(sub, { cache })
    expect(a.result.references).toEqual([{ tag: 'latest', digest: d1 }])
    expect(a.stats.counts.tags).toBe(0)
    const d2 = await pushImage(reg, repo, 'latest', { salt: 'two' })
    expect(d2).not.toBe(d1)
    const b = await discover(sub, { cache })
    expect(b.result.references).toEqual([{ tag: 'latest', digest: d2 }])
    const missing = await discover({ ...sub, constraint: 'nope' })
    expect(missing.result.references).toEqual([])
    const err = await failure(discover({ ...sub, constraint: '' }))
    expect(err.message).toMatch(/image\.constraint: the Digest strategy requires constraint/)
  })

  it('selects a platform from an index, skipping attestation entries', async () => {
    const repo = 'team/multi'
    const { digest } = await pushIndex(
      reg,
      repo,
      '3.0.0',
      [
        { architecture: 'amd64', created: '2024-01-01T00:00:00Z' },
        {
          architecture: 'arm64',
          variant: 'v8',
          created: '2024-01-02T00:00:00Z',
          annotations: { 'org.opencontainers.image.source': 'https://example.invalid/arm' }
        }
      ],
      { attestation: true, annotations: { 'org.opencontainers.image.title': 'multi' } }
    )
    await pushImage(reg, repo, '2.0.0', { architecture: 'amd64' })
    await pushImage(reg, repo, '1.0.0', { architecture: 's390x' })

    const arm = await discover({ repoURL: `${reg.host}/${repo}`, platform: 'linux/arm64' })
    expect(arm.result.platform).toBe('linux/arm64')
    expect(arm.result.references.map((r) => r.tag)).toEqual(['3.0.0'])
    expect(arm.result.references[0].digest).toBe(digest)
    expect(arm.result.references[0].createdAt).toBe('2024-01-02T00:00:00.000Z')
    expect(arm.result.references[0].annotations).toEqual({
      'org.opencontainers.image.title': 'multi',
      'org.opencontainers.image.source': 'https://example.invalid/arm'
    })

    const amd = await discover({ repoURL: `${reg.host}/${repo}`, platform: 'linux/amd64' })
    expect(amd.result.references.map((r) => r.tag)).toEqual(['3.0.0', '2.0.0'])

    const unknown = await discover({ repoURL: `${reg.host}/${repo}`, platform: 'unknown/unknown' })
    expect(unknown.result.references).toEqual([])
    const windows = await discover({ repoURL: `${reg.host}/${repo}`, platform: 'windows/amd64' })
    expect(windows.result.references).toEqual([])
  })

  it('a missing repository fails naming the host, the repository and what to check', async () => {
    const err = await failure(discover({ repoURL: `${reg.host}/team/nope` }))
    expect(err.message).toContain(`repository team/nope not found on registry ${reg.host}`)
    expect(err.message).toContain('HTTP 404')
    expect(err.hint).toMatch(/check repoURL/)
  })

  it('refuses deprecated fields and tags in repoURL', async () => {
    await expect(discover({ repoURL: `${reg.host}/team/app`, allowTags: '^v' })).rejects.toThrow(
      /image\.allowTags: allowTags is deprecated/
    )
    await expect(discover({ repoURL: `${reg.host}/team/app`, ignoreTags: ['x'] })).rejects.toThrow(
      /ignoreTagsRegexes|ignoreTags is deprecated/
    )
    await expect(
      discover({ repoURL: `${reg.host}/team/app`, semverConstraint: '^1' })
    ).rejects.toThrow(/image\.semverConstraint/)
    await expect(discover({ repoURL: `${reg.host}/team/app:1.0.0` })).rejects.toThrow(
      /includes a tag or digest/
    )
  })
})

d('registry down', () => {
  it('fails fast naming the host', async () => {
    const port = await freePort()
    const started = Date.now()
    const err = await failure(discover({ repoURL: `127.0.0.1:${port}/x/y` }))
    expect(err.message).toContain(`cannot reach registry 127.0.0.1:${port}`)
    expect(err.message).toContain('ECONNREFUSED')
    expect(err.hint).toMatch(/host and port/)
    expect(Date.now() - started).toBeLessThan(3000)
  })
})

const h = hasHtpasswd ? describe : describe.skip
if (hasDockerRegistry && !hasHtpasswd)
  console.warn('SKIPPED htpasswd tests: python3 crypt cannot make bcrypt hashes')

h('Basic auth (htpasswd)', () => {
  let reg: TestRegistry
  let digest = ''
  beforeAll(async () => {
    reg = await startRegistry({ mode: 'htpasswd', users: { ci: 'ci-secret-pass' } })
    digest = await pushImage(reg, 'private/app', '1.0.0')
  })
  afterAll(async () => reg?.close())

  it('uses the credentials for the host after the Basic challenge', async () => {
    const s = services({
      registryCredentials: { [reg.host]: { username: 'ci', password: 'ci-secret-pass' } }
    })
    const { result, stats } = await discover(
      { repoURL: `${reg.host}/private/app` },
      { services: s }
    )
    expect(result.references).toEqual([{ tag: '1.0.0', digest }])
    expect(stats.counts.token).toBe(0)
    // The password is registered as a secret.
    expect(redact('pw ci-secret-pass')).toBe('pw ***')
  })

  it('without credentials: 401 with a hint to add them', async () => {
    const err = await failure(discover({ repoURL: `${reg.host}/private/app` }))
    expect(err.message).toContain(`registry ${reg.host} denied access (HTTP 401)`)
    expect(err.hint).toContain(`add credentials for ${reg.host} to registry-credentials`)
  })

  it('with a wrong password: 401 with a hint to check them', async () => {
    const s = services({
      registryCredentials: { [reg.host]: { username: 'ci', password: 'wrong-pass' } }
    })
    const err = await failure(discover({ repoURL: `${reg.host}/private/app` }, { services: s }))
    expect(errorMessage(err)).toContain(`check registry-credentials for ${reg.host}`)
  })
})

d('Bearer token flow (auth: token with a local token issuer)', () => {
  let reg: TestRegistry
  let digest = ''
  beforeAll(async () => {
    reg = await startRegistry({
      mode: 'token',
      users: { robot: 'robot-secret-pass' },
      anonymousPull: ['public/app']
    })
    digest = await pushImage(reg, 'private/app', ['1.0.0', '1.1.0'])
    await pushImage(reg, 'public/app', '0.1.0')
  })
  afterAll(async () => reg?.close())

  it('gets a token for the repository scope with Basic credentials and caches it', async () => {
    clearTokenCache()
    const s = services({
      registryCredentials: { [reg.host]: { username: 'robot', password: 'robot-secret-pass' } }
    })
    const a = await discover({ repoURL: `${reg.host}/private/app` }, { services: s })
    expect(a.result.references).toEqual([
      { tag: '1.1.0', digest },
      { tag: '1.0.0', digest }
    ])
    expect(a.stats.counts.token).toBe(1)
    const last = reg.issuer!.requests.at(-1)!
    expect(last).toEqual({ user: 'robot', scopes: ['repository:private/app:pull'], ok: true })
    const b = await discover({ repoURL: `${reg.host}/private/app` }, { services: s })
    expect(b.stats.counts.token).toBe(0)
    expect(b.result).toEqual(a.result)
  })

  it('anonymous tokens work for public repositories', async () => {
    clearTokenCache()
    const { result } = await discover({ repoURL: `${reg.host}/public/app` })
    expect(result.references.map((r) => r.tag)).toEqual(['0.1.0'])
    expect(reg.issuer!.requests.at(-1)!.user).toBeNull()
  })

  it('anonymous access to a private repository is denied with a hint', async () => {
    clearTokenCache()
    const err = await failure(discover({ repoURL: `${reg.host}/private/app` }))
    expect(err.message).toContain(`registry ${reg.host} denied access (HTTP 401)`)
    expect(err.hint).toContain(reg.host)
  })

  it('bad credentials are refused by the token service, naming the registry', async () => {
    clearTokenCache()
    const s = services({
      registryCredentials: { [reg.host]: { username: 'robot', password: 'not-the-password' } }
    })
    const err = await failure(discover({ repoURL: `${reg.host}/private/app` }, { services: s }))
    expect(err.message).toContain(`for registry ${reg.host} refused the credentials (HTTP 401)`)
    expect(err.hint).toContain(`check registry-credentials for ${reg.host}`)
  })
})
