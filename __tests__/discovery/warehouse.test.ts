import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import type { Warehouse } from '../../src/config/schema.js'
import { runDiscovery, type RunDiscoveryContext } from '../../src/discovery/index.js'
import { GitCloneCache } from '../../src/discovery/git/index.js'
import { discoverWarehouse, isDue, warehouseSpecHash } from '../../src/discovery/warehouse.js'
import { freightId } from '../../src/freight/id.js'
import { defaultServices } from '../../src/runtime/services.js'
import { StateStore } from '../../src/state/store.js'
import type { DiscoveredImages } from '../../src/state/types.js'
import { MemoryLogger } from '../../src/util/logger.js'
import { commitAndPush, gitIn, makeRepo, showFile } from '../support/git.js'
import { readBranchState } from '../support/state-branch.js'

type Sub = Warehouse['spec']['subscriptions'][number]

function warehouse(
  name: string,
  subscriptions: Sub[],
  spec: Partial<Warehouse['spec']> = {}
): Warehouse {
  return {
    apiVersion: 'kargo.akuity.io/v1alpha1',
    kind: 'Warehouse',
    metadata: { name },
    spec: { interval: '5m0s', freightCreationPolicy: 'Automatic', subscriptions, ...spec }
  }
}

function gitSub(repoURL: string, extra: Record<string, unknown> = {}, name?: string): Sub {
  return {
    ...(name ? { name } : {}),
    git: {
      repoURL,
      commitSelectionStrategy: 'NewestFromBranch',
      strictSemvers: true,
      discoveryLimit: 20,
      ...extra
    }
  }
}

const services = defaultServices({})
const caches: GitCloneCache[] = []
afterAll(async () => {
  for (const c of caches) await c.dispose()
})
function cache() {
  const c = new GitCloneCache({ workspace: '' })
  caches.push(c)
  return c
}

describe('discoverWarehouse', () => {
  let app: ReturnType<typeof makeRepo>
  let cfg: ReturnType<typeof makeRepo>
  beforeAll(() => {
    app = makeRepo({ 'src/main.go': '1' })
    cfg = makeRepo({ 'base/app.yaml': '1' })
    gitIn(app.work, 'tag', 'v1.0.0')
    gitIn(app.work, 'push', '-q', 'origin', 'v1.0.0')
    gitIn(cfg.work, 'tag', 'v1.0.0')
    gitIn(cfg.work, 'push', '-q', 'origin', 'v1.0.0')
  })

  it('builds freight from the best candidate of every subscription, with Kargo’s ID', async () => {
    const wh = warehouse('guestbook', [
      gitSub(app.url, {}, 'app'),
      gitSub(cfg.url, { includePaths: ['base'] })
    ])
    const now = new Date('2025-01-01T00:00:00Z')
    const r = await discoverWarehouse(wh, undefined, {
      services,
      logger: new MemoryLogger(),
      gitCache: cache(),
      now
    })
    expect(r.problems).toEqual([])
    const head = gitIn(app.work, 'rev-parse', 'HEAD')
    const cfgHead = gitIn(cfg.work, 'rev-parse', 'HEAD')
    const f = r.candidateFreight!
    expect(f.commits).toEqual([
      expect.objectContaining({
        repoURL: app.url,
        id: head,
        branch: 'main',
        message: 'initial',
        subscriptionName: 'app'
      }),
      expect.objectContaining({ repoURL: cfg.url, id: cfgHead, branch: 'main' })
    ])
    expect(f.name).toBe(
      freightId({
        origin: { kind: 'Warehouse', name: 'guestbook' },
        commits: [
          { repoURL: app.url, id: head, subscriptionName: 'app' },
          { repoURL: cfg.url, id: cfgHead }
        ]
      })
    )
    expect(f.alias).toMatch(/^[a-z]+-[a-z]+$/)
    expect(f.discoveredAt).toBe('2025-01-01T00:00:00.000Z')
    expect(r.discovered.git.map((g) => g.subscriptionName)).toEqual(['app', undefined])
  })

  it('gives no freight when a subscription has no candidate, and names failing subscriptions', async () => {
    const wh = warehouse('w', [
      gitSub(app.url),
      gitSub(cfg.url, { includePaths: ['nothing-here'] })
    ])
    const r = await discoverWarehouse(wh, undefined, {
      services,
      logger: new MemoryLogger(),
      gitCache: cache(),
      now: new Date()
    })
    expect(r.candidateFreight).toBeUndefined()
    expect(r.problems).toEqual([
      expect.stringMatching(
        /^no commits discovered for subscription \(git file:.*spec\.subscriptions\[1\]\)/
      )
    ])
    const bad = warehouse('broken', [gitSub(app.url), gitSub(app.url + '-missing', {}, 'gone')])
    await expect(
      discoverWarehouse(bad, undefined, {
        services,
        logger: new MemoryLogger(),
        gitCache: cache(),
        now: new Date()
      })
    ).rejects.toThrow(
      /discovery of warehouse 'broken' failed: subscription 'gone' \(git file:.*-missing/
    )
  })

  it('gates creation with freightCreationCriteria over the [0] candidates', async () => {
    const subs = [
      gitSub(app.url, { commitSelectionStrategy: 'SemVer' }),
      gitSub(cfg.url, { commitSelectionStrategy: 'SemVer' })
    ]
    const expr = `commitFrom('${app.url}').Tag == commitFrom('${cfg.url}').Tag`
    const opts = () => ({
      services,
      logger: new MemoryLogger(),
      gitCache: cache(),
      now: new Date()
    })
    const ok = await discoverWarehouse(
      warehouse('pair', subs, { freightCreationCriteria: { expression: expr } }),
      undefined,
      opts()
    )
    expect(ok.problems).toEqual([])
    expect(ok.candidateFreight?.commits.map((c) => c.tag)).toEqual(['v1.0.0', 'v1.0.0'])
    // Only one side released v1.1.0: criteria not satisfied, no freight.
    commitAndPush(app.work, { 'src/main.go': '2' }, 'two')
    gitIn(app.work, 'tag', 'v1.1.0')
    gitIn(app.work, 'push', '-q', 'origin', 'v1.1.0')
    const no = await discoverWarehouse(
      warehouse('pair', subs, { freightCreationCriteria: { expression: expr } }),
      undefined,
      opts()
    )
    expect(no.candidateFreight).toBeUndefined()
    expect(no.problems).toEqual([`freight creation criteria not satisfied: ${expr}`])
    const broken = await discoverWarehouse(
      warehouse('pair', subs, { freightCreationCriteria: { expression: 'commitFrom(' } }),
      undefined,
      opts()
    )
    expect(broken.candidateFreight).toBeUndefined()
    expect(broken.problems[0]).toMatch(/CriteriaEvaluationFailed/)
  })

  it('Manual policy records candidates only', async () => {
    const r = await discoverWarehouse(
      warehouse('manual', [gitSub(app.url)], { freightCreationPolicy: 'Manual' }),
      undefined,
      { services, logger: new MemoryLogger(), gitCache: cache(), now: new Date() }
    )
    expect(r.candidateFreight).toBeUndefined()
    expect(r.discovered.git[0].commits.length).toBeGreaterThan(0)
    expect(r.problems).toEqual([expect.stringMatching(/Manual/)])
  })

  it('runs image subscriptions through the image discoverer and images go into the freight', async () => {
    const images: DiscoveredImages = {
      repoURL: 'ghcr.io/acme/web',
      references: [
        { tag: '1.2.0', digest: 'sha256:' + 'a'.repeat(64) },
        { tag: '1.1.0', digest: 'sha256:' + 'b'.repeat(64) }
      ]
    }
    const seen: string[] = []
    const wh = warehouse(
      'mixed',
      [
        {
          image: {
            repoURL: 'ghcr.io/acme/web',
            imageSelectionStrategy: 'SemVer',
            strictSemvers: true,
            discoveryLimit: 20,
            cacheByTag: false
          }
        },
        gitSub(cfg.url)
      ],
      { freightCreationCriteria: { expression: "imageFrom('ghcr.io/acme/web').Tag == '1.2.0'" } }
    )
    const r = await discoverWarehouse(
      wh,
      { imageCache: { 'x@y': { digest: 'y' } } },
      {
        services,
        logger: new MemoryLogger(),
        gitCache: cache(),
        now: new Date(),
        discoverers: {
          images: async (sub, o) => {
            seen.push(sub.repoURL)
            o.cache['ghcr.io/acme/web@sha256:new'] = { digest: 'sha256:new' }
            return images
          }
        }
      }
    )
    expect(seen).toEqual(['ghcr.io/acme/web'])
    expect(r.candidateFreight?.images).toEqual([
      { repoURL: 'ghcr.io/acme/web', tag: '1.2.0', digest: images.references[0].digest }
    ])
    expect(Object.keys(r.imageCache).sort()).toEqual(['ghcr.io/acme/web@sha256:new', 'x@y'])
  })

  it('is due by interval and on spec change', () => {
    const wh = warehouse('w', [gitSub(app.url)], { interval: '10m' })
    const t0 = new Date('2025-01-01T00:00:00Z')
    const st = {
      lastDiscoveredAt: t0.toISOString(),
      specHash: warehouseSpecHash(wh),
      discovered: { discoveredAt: t0.toISOString(), git: [], images: [], charts: [] }
    }
    expect(isDue(wh, undefined, t0)).toBe(true)
    expect(isDue(wh, st, new Date(t0.getTime() + 9 * 60_000))).toBe(false)
    expect(isDue(wh, st, new Date(t0.getTime() + 10 * 60_000))).toBe(true)
    const changed = warehouse('w', [gitSub(app.url, { includePaths: ['src'] })], {
      interval: '10m'
    })
    expect(isDue(changed, st, new Date(t0.getTime() + 60_000))).toBe(true)
  })
})

describe('runDiscovery', () => {
  it('records results and new freight in one state commit, idempotently, and short-circuits', async () => {
    const app = makeRepo({ 'src/main.go': '1', 'builds/out.yaml': '0' })
    const config = makeRepo({ 'README.md': 'config' })
    const logger = new MemoryLogger()
    const store = new StateStore({
      repoDir: config.work,
      remote: 'origin',
      branch: 'waybill/state',
      logger
    })
    let now = new Date('2025-01-01T00:00:00Z')
    const model = {
      warehouses: new Map([
        ['guestbook', warehouse('guestbook', [gitSub(app.url, { excludePaths: ['builds'] })])],
        [
          'portal',
          warehouse('portal', [gitSub(app.url, { includePaths: ['src'] })], {
            freightCreationPolicy: 'Manual'
          })
        ]
      ])
    }
    const ctx: RunDiscoveryContext = { model, store, services, logger, now: () => now }
    const first = await runDiscovery(ctx)
    expect(first.errors).toEqual([])
    expect(first.newFreight).toHaveLength(1)
    const f = first.newFreight[0]
    expect(f.origin.name).toBe('guestbook')
    // One monorepo, two warehouses: one clone.
    expect(first.stats).toMatchObject({ clones: 1, fetches: 1, lsRemote: 2 })
    const subject = gitIn(config.bare, 'log', '-1', '--format=%s', 'waybill/state')
    expect(subject).toBe(`discovery: ${f.alias} (guestbook)`)
    expect(gitIn(config.bare, 'rev-list', '--count', 'waybill/state')).toBe('1')
    const state = readBranchState(config.bare)!
    expect(Object.keys(state.freight)).toEqual([f.name])
    expect(state.warehouses.portal.discovered!.git[0].commits).toHaveLength(1)
    expect(state.warehouses.guestbook.lastFreightID).toBe(f.name)

    // Not due yet: nothing discovered, no commit.
    now = new Date('2025-01-01T00:01:00Z')
    const early = await runDiscovery(ctx)
    expect(early.skipped).toEqual(['guestbook', 'portal'])
    expect(gitIn(config.bare, 'rev-list', '--count', 'waybill/state')).toBe('1')

    // Forced, nothing changed: ls-remote only, same freight ID → no duplicate.
    const again = await runDiscovery(ctx, { force: true })
    expect(again.newFreight).toEqual([])
    expect(again.outcomes.find((o) => o.warehouse === 'guestbook')!.existing).toBe(f.name)
    expect(again.stats).toMatchObject({ lsRemote: 2, clones: 0, fetches: 0 })
    // …and no state commit just to move lastDiscoveredAt (the branch stays an audit trail)…
    expect(gitIn(config.bare, 'rev-list', '--count', 'waybill/state')).toBe('1')
    // …until the hourly heartbeat records that discovery still ran.
    now = new Date('2025-01-01T01:00:30Z')
    await runDiscovery(ctx, { force: true })
    expect(gitIn(config.bare, 'log', '-1', '--format=%s', 'waybill/state')).toBe(
      'discovery: guestbook, portal (no new freight)'
    )
    const beat = JSON.parse(showFile(config.bare, 'waybill/state', 'state.json')!)
    expect(beat.warehouses.guestbook.lastDiscoveredAt).toBe('2025-01-01T01:00:30.000Z')

    // Output written back under builds/: no new freight. A source change: new freight.
    commitAndPush(app.work, { 'builds/out.yaml': '1' }, 'render')
    const loop = await runDiscovery(ctx, { warehouses: ['guestbook'] })
    expect(loop.newFreight).toEqual([])
    commitAndPush(app.work, { 'src/main.go': '2' }, 'feature')
    const fresh = await runDiscovery(ctx, { warehouses: ['guestbook'] })
    expect(fresh.newFreight).toHaveLength(1)
    expect(fresh.newFreight[0].alias).not.toBe(f.alias)
    await expect(runDiscovery(ctx, { warehouses: ['nope'] })).rejects.toThrow(
      /unknown warehouse: nope/
    )
  })

  it('records a failing warehouse’s error and still records the others', async () => {
    const app = makeRepo({ a: '1' })
    const config = makeRepo({ 'README.md': 'config' })
    const logger = new MemoryLogger()
    const store = new StateStore({
      repoDir: config.work,
      remote: 'origin',
      branch: 'waybill/state',
      logger
    })
    const model = {
      warehouses: new Map([
        ['good', warehouse('good', [gitSub(app.url)])],
        ['bad', warehouse('bad', [gitSub(app.url, { branch: 'missing' })])]
      ])
    }
    const run = await runDiscovery({ model, store, services, logger, now: () => new Date() })
    expect(run.errors).toEqual([
      {
        warehouse: 'bad',
        message: expect.stringMatching(/warehouse 'bad'.*branch 'missing' not found/)
      }
    ])
    expect(run.newFreight.map((f) => f.origin.name)).toEqual(['good'])
    const state = JSON.parse(showFile(config.bare, 'waybill/state', 'state.json')!)
    expect(state.warehouses.bad.lastError).toMatch(/branch 'missing' not found/)
    expect(gitIn(config.bare, 'log', '-1', '--format=%s', 'waybill/state')).toMatch(
      /; failed: bad$/
    )
  })
})
