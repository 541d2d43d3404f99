import { describe, expect, it } from '@jest/globals'
import { createHash } from 'node:crypto'
import { freightCollectionId, freightId, freightIdParts, shortId } from '../../src/freight/id.js'
import {
  goPathJoin,
  normalizeChartUrl,
  normalizeGitUrl,
  normalizeImageUrl
} from '../../src/freight/urls.js'
import { ADJECTIVES, ANIMALS, generateAlias, isValidAlias } from '../../src/freight/alias.js'

const sha1 = (s: string) => createHash('sha1').update(s).digest('hex')
const W = (name: string) => ({ kind: 'Warehouse' as const, name })

describe('normalizeGitUrl (Kargo NormalizeGit)', () => {
  it.each([
    ['https://github.com/x/y', 'https://github.com/x/y'],
    ['https://github.com/x/y.git', 'https://github.com/x/y'],
    ['https://github.com/x/y/', 'https://github.com/x/y'],
    ['https://github.com/x/y.git/', 'https://github.com/x/y'],
    ['HTTPS://GitHub.com/Org/Repo.git', 'https://github.com/org/repo'],
    ['https://user:pass@github.com/x/y.git', 'https://github.com/x/y'],
    ['http://token@git.example.com:8080/x/y', 'http://git.example.com:8080/x/y'],
    ['ssh://git@github.com/x/y.git', 'ssh://git@github.com/x/y'],
    ['ssh://git@github.com:2222/x/y/', 'ssh://git@github.com:2222/x/y'],
    ['git@github.com:x/y.git', 'ssh://git@github.com/x/y'],
    ['git@GitHub.com:X/Y', 'ssh://git@github.com/x/y'],
    ['https://github.com/x/y\u0000.git', 'https://github.com/x/y']
  ])('%s → %s', (input, expected) => {
    expect(normalizeGitUrl(input)).toBe(expected)
  })

  it('returns URLs with a query string and unparsable input unchanged', () => {
    expect(normalizeGitUrl('https://github.com/x/y.git?ref=main')).toBe(
      'https://github.com/x/y.git?ref=main'
    )
    expect(normalizeGitUrl('not a url at all')).toBe('not a url at all')
  })
})

describe('normalizeChartUrl / normalizeImageUrl (Kargo NormalizeChart / NormalizeImage)', () => {
  it.each([
    ['oci://ghcr.io/org/charts/app', 'ghcr.io/org/charts/app'],
    ['OCI://GHCR.io/Org/Charts/App', 'ghcr.io/org/charts/app'],
    ['oci://registry-1.docker.io/library/nginx', 'registry-1.docker.io/library/nginx'],
    ['oci://docker.io/library/nginx', 'nginx'],
    ['oci://docker.io/bitnamicharts/nginx', 'bitnamicharts/nginx'],
    ['oci://index.docker.io/library/redis', 'redis'],
    ['oci://localhost:5000/charts/app', 'localhost:5000/charts/app'],
    ['https://Charts.Example.com/stable/', 'https://charts.example.com/stable/']
  ])('chart %s → %s', (input, expected) => {
    expect(normalizeChartUrl(input)).toBe(expected)
  })

  it('normalizes images: tag/digest dropped, Docker Hub shortened, invalid input unchanged', () => {
    expect(normalizeImageUrl('nginx')).toBe('nginx')
    expect(normalizeImageUrl('library/nginx:1.25')).toBe('nginx')
    expect(normalizeImageUrl('docker.io/bitnami/nginx')).toBe('bitnami/nginx')
    expect(normalizeImageUrl('ghcr.io/org/app@sha256:' + 'a'.repeat(64))).toBe('ghcr.io/org/app')
    expect(normalizeImageUrl('127.0.0.1:5000/app:v1')).toBe('127.0.0.1:5000/app')
    expect(normalizeImageUrl('ghcr.io/Org/App')).toBe('ghcr.io/Org/App') // uppercase: invalid
  })

  it('joins like Go path.Join (cleans double slashes)', () => {
    expect(goPathJoin('ghcr.io/org/charts', 'app')).toBe('ghcr.io/org/charts/app')
    expect(goPathJoin('https://charts.example.com/', 'nginx')).toBe(
      'https:/charts.example.com/nginx'
    )
    expect(goPathJoin('a/b/', '')).toBe('a/b')
    expect(goPathJoin('a/./b/../c', 'd')).toBe('a/c/d')
  })
})

describe('freightId (Kargo GenerateFreightID)', () => {
  it('hashes origin and one commit', () => {
    const id = freightId({
      origin: W('w'),
      commits: [{ repoURL: 'https://github.com/x/y', id: 'abc' }]
    })
    expect(id).toBe(sha1('Warehouse/w:' + ['https://github.com/x/y:abc'].join('|')))
    expect(id).toMatch(/^[0-9a-f]{40}$/)
    expect(shortId(id)).toBe(id.slice(0, 7))
  })

  it('normalizes Git URLs, includes tag and subscriptionName for commits', () => {
    const id = freightId({
      origin: W('guestbook'),
      commits: [
        {
          repoURL: 'https://user@GitHub.com/Acme/App.git/',
          id: 'deadbeef',
          tag: 'v1.2.3',
          subscriptionName: 'app'
        }
      ]
    })
    expect(id).toBe(sha1('Warehouse/guestbook:https://github.com/acme/app:v1.2.3:deadbeef:app'))
    // Same commit with a different tag: a different freight.
    const retagged = freightId({
      origin: W('guestbook'),
      commits: [
        {
          repoURL: 'https://github.com/acme/app',
          id: 'deadbeef',
          tag: 'v1.2.4',
          subscriptionName: 'app'
        }
      ]
    })
    expect(retagged).not.toBe(id)
    // SCP form normalizes to ssh://.
    expect(
      freightId({ origin: W('w'), commits: [{ repoURL: 'git@github.com:x/y.git', id: 'c1' }] })
    ).toBe(sha1('Warehouse/w:ssh://git@github.com/x/y:c1'))
  })

  it('does not normalize image repoURLs; includes tag, digest and subscriptionName', () => {
    const digest = 'sha256:' + '1'.repeat(64)
    const id = freightId({
      origin: W('w'),
      images: [{ repoURL: 'Docker.io/Library/Nginx', tag: '1.25', digest, subscriptionName: 's' }]
    })
    expect(id).toBe(sha1(`Warehouse/w:Docker.io/Library/Nginx:1.25@${digest}:s`))
  })

  it('normalizes charts (oci:// stripped, Docker Hub library/ dropped) and joins the name', () => {
    expect(
      freightId({
        origin: W('w'),
        charts: [{ repoURL: 'oci://docker.io/bitnamicharts', name: 'redis', version: '18.0.0' }]
      })
    ).toBe(sha1('Warehouse/w:bitnamicharts/redis:18.0.0'))
    expect(
      freightId({
        origin: W('w'),
        charts: [{ repoURL: 'oci://registry-1.docker.io/library/redis', version: '18.0.0' }]
      })
    ).toBe(sha1('Warehouse/w:registry-1.docker.io/library/redis:18.0.0'))
    expect(
      freightId({
        origin: W('w'),
        charts: [{ repoURL: 'oci://docker.io/library/redis', version: '18.0.0' }]
      })
    ).toBe(sha1('Warehouse/w:redis:18.0.0'))
    expect(
      freightId({
        origin: W('w'),
        charts: [
          { repoURL: 'OCI://ghcr.io/acme/charts/app', version: '1.0.0', subscriptionName: 'c' }
        ]
      })
    ).toBe(sha1('Warehouse/w:ghcr.io/acme/charts/app:1.0.0:c'))
    expect(
      freightId({
        origin: W('w'),
        charts: [{ repoURL: 'https://Charts.Example.com/', name: 'nginx', version: '2.0.0' }]
      })
    ).toBe(sha1('Warehouse/w:https:/charts.example.com/nginx:2.0.0'))
  })

  it('sorts parts byte-wise, so artifact order does not matter', () => {
    const digest = 'sha256:' + 'f'.repeat(64)
    const a = {
      origin: W('w'),
      commits: [
        { repoURL: 'https://github.com/b/b', id: '2' },
        { repoURL: 'https://github.com/a/a', id: '1' }
      ],
      images: [{ repoURL: 'ghcr.io/z/img', tag: 'v1', digest }],
      charts: [{ repoURL: 'oci://ghcr.io/c', name: 'chart', version: '1.0.0' }],
      artifacts: [{ artifactType: 'Custom', subscriptionName: 'x', version: 'v9' }]
    }
    const parts = [
      'https://github.com/b/b:2',
      'https://github.com/a/a:1',
      `ghcr.io/z/img:v1@${digest}`,
      'ghcr.io/c/chart:1.0.0',
      'Custom:x:v9'
    ].sort()
    expect(freightIdParts(a)).toEqual(parts)
    expect(freightId(a)).toBe(sha1('Warehouse/w:' + parts.join('|')))
    const reversed = {
      ...a,
      commits: [...a.commits].reverse()
    }
    expect(freightId(reversed)).toBe(freightId(a))
    // Uppercase sorts before lowercase (byte order), as in Go.
    expect(
      freightIdParts({
        origin: W('w'),
        artifacts: [
          { artifactType: 'b', subscriptionName: 's', version: '1' },
          { artifactType: 'B', subscriptionName: 's', version: '1' }
        ]
      })
    ).toEqual(['B:s:1', 'b:s:1'])
  })

  it('depends on the origin', () => {
    const commits = [{ repoURL: 'https://github.com/x/y', id: 'abc' }]
    expect(freightId({ origin: W('a'), commits })).not.toBe(freightId({ origin: W('b'), commits }))
    expect(freightId({ origin: W('empty') })).toBe(sha1('Warehouse/empty:'))
  })

  it('computes collection IDs from sorted names joined with a comma', () => {
    expect(freightCollectionId(['b', 'a', 'c'])).toBe(sha1('a,b,c'))
    expect(freightCollectionId([])).toBe(sha1(''))
  })
})

describe('generateAlias', () => {
  it('has word lists of about 100 distinct words each', () => {
    expect(new Set(ADJECTIVES).size).toBe(ADJECTIVES.length)
    expect(new Set(ANIMALS).size).toBe(ANIMALS.length)
    expect(ADJECTIVES.length).toBeGreaterThanOrEqual(100)
    expect(ANIMALS.length).toBeGreaterThanOrEqual(100)
  })

  it('is adjective-animal, deterministic per ID, and unique against taken aliases', () => {
    const id = sha1('some freight')
    const a = generateAlias(id, new Set())
    expect(a).toMatch(/^[a-z]+-[a-z]+$/)
    expect(ADJECTIVES).toContain(a.split('-')[0])
    expect(ANIMALS).toContain(a.split('-')[1])
    expect(generateAlias(id, new Set())).toBe(a)
    const b = generateAlias(id, new Set([a]))
    expect(b).not.toBe(a)
    expect(generateAlias(id, new Set([a]))).toBe(b)
    expect(isValidAlias(a)).toBe(true)
    expect(isValidAlias('Bad Alias')).toBe(false)
  })

  it('gives 3,000 IDs 3,000 distinct aliases', () => {
    const taken = new Set<string>()
    for (let i = 0; i < 3000; i++) taken.add(generateAlias(sha1(String(i)), taken))
    expect(taken.size).toBe(3000)
  })

  it('falls back to a numeric suffix when every word pair is taken', () => {
    const all = new Set<string>()
    for (const a of ADJECTIVES) for (const n of ANIMALS) all.add(`${a}-${n}`)
    const alias = generateAlias(sha1('x'), all)
    expect(alias).toMatch(/^[a-z]+-[a-z]+-2$/)
  })
})
