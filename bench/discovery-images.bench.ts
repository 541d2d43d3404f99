// Image discovery cost: registry requests and wall time, first vs unchanged runs.
// npm run bench -- discovery-images
import { discoverImages, RequestStats } from '../src/discovery/image/index.js'
import type { ImageSubscriptionLike } from '../src/discovery/image/index.js'
import { defaultServices } from '../src/runtime/services.js'
import type { ImageMetadataCacheEntry } from '../src/state/types.js'
import { MemoryLogger } from '../src/util/logger.js'
import { startFakeRegistry } from '../__tests__/support/registry.js'

const services = defaultServices({})

async function run(sub: ImageSubscriptionLike, cache: Record<string, ImageMetadataCacheEntry>) {
  const stats = new RequestStats()
  const t0 = performance.now()
  const res = await discoverImages(sub, { services, logger: new MemoryLogger(), cache, stats })
  const ms = performance.now() - t0
  return { res, stats, ms }
}

function row(label: string, r: Awaited<ReturnType<typeof run>>): string {
  const c = r.stats.counts
  return `| ${label} | ${r.stats.total} | ${c.tags} | ${c['manifest-head']} | ${c['manifest-get']} | ${c['blob-get']} | ${r.ms.toFixed(0)} |`
}

const fake = await startFakeRegistry()
const rows: string[] = []
let failed = false
const check = (ok: boolean, what: string) => {
  if (!ok) {
    failed = true
    console.error(`TARGET MISSED: ${what}`)
  }
}

// 5,000 semver tags, SemVer + discoveryLimit 20.
const tags: Record<string, { created: string }> = {}
for (let i = 0; i < 5000; i++) {
  const v = `${Math.floor(i / 500)}.${Math.floor(i / 20) % 25}.${i % 20}`
  tags[v] = { created: new Date(Date.UTC(2020, 0, 1) + i * 60_000).toISOString() }
}
for (const pageSize of [1000, 100]) {
  fake.maxPage = pageSize
  const repo = `bench/semver-${pageSize}`
  fake.setTags(repo, tags)
  const pages = Math.ceil(5000 / pageSize)
  for (const cacheByTag of [true, false]) {
    const sub = { repoURL: `${fake.host}/${repo}`, discoveryLimit: 20, cacheByTag }
    const cache: Record<string, ImageMetadataCacheEntry> = {}
    const first = await run(sub, cache)
    const second = await run(sub, cache)
    const label = `SemVer, 5,000 tags, pages of ${pageSize}, cacheByTag=${cacheByTag}`
    rows.push(row(`${label}: first`, first), row(`${label}: unchanged`, second))
    check(first.stats.total <= pages + 20, `${label}: first run ≤ ${pages} pages + 20 HEADs`)
    if (cacheByTag)
      check(second.stats.total === pages, `${label}: unchanged run = ${pages} tag pages only`)
    else check(second.stats.manifestRequests <= 20, `${label}: unchanged run ≤ 20 HEADs`)
  }
}

// NewestBuild on 1,000 tags.
fake.maxPage = 1000
const builds: Record<string, { created: string }> = {}
for (let i = 0; i < 1000; i++)
  builds[`build-${String(i).padStart(5, '0')}`] = {
    created: new Date(Date.UTC(2024, 0, 1) + i * 3_600_000).toISOString()
  }
for (const cacheByTag of [false, true]) {
  const repo = `bench/newest-${cacheByTag}`
  fake.setTags(repo, builds)
  const sub = {
    repoURL: `${fake.host}/${repo}`,
    imageSelectionStrategy: 'NewestBuild' as const,
    cacheByTag
  }
  const cache: Record<string, ImageMetadataCacheEntry> = {}
  const first = await run(sub, cache)
  const second = await run(sub, cache)
  for (let i = 0; i < 10; i++) fake.putTag(repo, `new-${i}`, { created: '2030-01-01T00:00:00Z' })
  const third = await run(sub, cache)
  const label = `NewestBuild, 1,000 tags, cacheByTag=${cacheByTag}`
  rows.push(
    row(`${label}: first`, first),
    row(`${label}: unchanged`, second),
    row(`${label}: +10 new tags`, third)
  )
  check(
    second.stats.counts['manifest-get'] + second.stats.counts['blob-get'] === 0,
    `${label}: unchanged run fetches no metadata`
  )
  check(third.stats.counts['manifest-get'] === 10, `${label}: metadata only for the 10 new tags`)
}
await fake.close()

console.log('| run | requests | tag pages | HEAD manifest | GET manifest | GET blob | ms |')
console.log('|---|---|---|---|---|---|---|')
for (const r of rows) console.log(r)
process.exitCode = failed ? 1 : 0
