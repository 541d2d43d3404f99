// State bytes per 1,000 tags: npm run bench -- state-size
// A NewestBuild discovery (and a SemVer one with a platform) of N tags whose manifests carry 3 KB
// of annotations, against the fake registry; measures the warehouse's part of state.json (the
// image metadata cache and the discovered references) as Waybill serializes it. Exits non-zero
// when a figure is over its target (annotations must not be kept per tag).
import { discoverImages, type ImageSubscriptionLike } from '../src/discovery/image/index.js'
import { defaultServices } from '../src/runtime/services.js'
import { serializeState } from '../src/state/serialize.js'
import { emptyState, type ImageMetadataCacheEntry } from '../src/state/types.js'
import { MemoryLogger } from '../src/util/logger.js'
import { startFakeRegistry, type FakeImageSpec } from '../__tests__/support/registry.js'

const TAGS = (process.env.BENCH_TAGS ?? '1000,5000').split(',').map(Number)
const ANNOTATIONS = { 'org.opencontainers.image.description': 'd'.repeat(3 * 1024) }
/**
 * Per 1,000 tags: an entry is digest, build time and platforms under its key (twice with
 * cacheByTag); keeping 3 KB of annotations per tag, as before, cost over 3 MB.
 */
const TARGET_PER_1000 = 1024 * 1024

const services = defaultServices({})
const fake = await startFakeRegistry()
fake.maxPage = 1000
const rows: string[] = []
let failed = false

async function stateBytes(sub: ImageSubscriptionLike): Promise<number> {
  const cache: Record<string, ImageMetadataCacheEntry> = {}
  const discovered = await discoverImages(sub, { services, logger: new MemoryLogger(), cache })
  const state = emptyState()
  state.warehouses.app = {
    imageCache: cache,
    discovered: {
      discoveredAt: new Date(0).toISOString(),
      git: [],
      images: [discovered],
      charts: []
    }
  }
  return Buffer.byteLength(serializeState(state)) - Buffer.byteLength(serializeState(emptyState()))
}

for (const n of TAGS) {
  const tags: Record<string, FakeImageSpec> = {}
  for (let i = 0; i < n; i++)
    tags[`build-${String(i).padStart(6, '0')}`] = {
      created: new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString(),
      annotations: ANNOTATIONS
    }
  const repo = `bench/size-${n}`
  fake.setTags(repo, tags)
  const subs: Array<[string, ImageSubscriptionLike]> = [
    ['NewestBuild', { repoURL: `${fake.host}/${repo}`, imageSelectionStrategy: 'NewestBuild' }],
    [
      'NewestBuild, cacheByTag',
      { repoURL: `${fake.host}/${repo}`, imageSelectionStrategy: 'NewestBuild', cacheByTag: true }
    ]
  ]
  for (const [label, sub] of subs) {
    const bytes = await stateBytes(sub)
    const per1000 = Math.round((bytes / n) * 1000)
    rows.push(
      `| ${label}, ${n.toLocaleString('en-US')} tags, 3 KB annotations | ${bytes.toLocaleString('en-US')} | ${per1000.toLocaleString('en-US')} |`
    )
    if (per1000 > TARGET_PER_1000) {
      failed = true
      console.error(`TARGET MISSED: ${label}, ${n} tags: ${per1000} bytes per 1,000 tags`)
    }
  }
}
await fake.close()
console.log(
  '| discovery (discoveryLimit 20) | state bytes (warehouse) | state bytes per 1,000 tags |'
)
console.log('| --- | --- | --- |')
for (const r of rows) console.log(r)
process.exitCode = failed ? 1 : 0
