import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import path from 'node:path'
import { loadProjectOrThrow } from '../../src/config/index.js'
import { runDiscovery, type DiscoveryRun } from '../../src/discovery/index.js'
import { discoverImages } from '../../src/discovery/image/index.js'
import { GitCloneCache } from '../../src/discovery/git/index.js'
import { defaultServices, type Services } from '../../src/runtime/services.js'
import { StateStore } from '../../src/state/store.js'
import type { State } from '../../src/state/types.js'
import { MemoryLogger } from '../../src/util/logger.js'
import { commitAndPush, gitIn, makeRepo, sh, tempDir } from '../support/git.js'
import { startGitHttpServer, type GitHttpServer } from '../support/git-http.js'
import {
  hasDockerRegistry,
  pushImage,
  skipReason,
  startRegistry,
  type TestRegistry
} from '../support/registry.js'
import {
  always,
  firstN,
  startFaultProxy,
  type Fault,
  type FaultProxy
} from '../support/fault-proxy.js'

/**
 * Discovery through a fault-injecting proxy in front of the real docker-registry and the real
 * `git http-backend`: transient faults are retried within the budget; persistent ones fail with
 * a message naming the host; a failed discovery never records partial freight.
 */
if (!hasDockerRegistry) console.warn(skipReason)
const d = hasDockerRegistry ? describe : describe.skip

const TOKEN = 'ghs_faultProxyToken0123456789abcdef'
/** Short timeouts and backoff so the budget is spent in seconds. */
const CLIENT = { timeoutMs: 1500, retries: 3, retryBaseMs: 20, maxRetryAfterMs: 5000 }
const GIT_NETWORK = { retries: 3, retryBaseMs: 20, lowSpeedTimeSec: 2 }

d('reliability: network faults during discovery', () => {
  let registry: TestRegistry
  let regProxy: FaultProxy
  let gitServer: GitHttpServer
  let gitProxy: FaultProxy
  let gitRoot: string

  beforeAll(async () => {
    registry = await startRegistry()
    for (const tag of ['1.0.0', '1.1.0', '1.2.0']) await pushImage(registry, 'acme/app', tag)
    regProxy = await startFaultProxy(registry.url)
    gitRoot = tempDir('waybill-fault-git-')
    const app = makeRepo({ 'app.txt': '1\n' }, path.join(gitRoot, 'src'))
    commitAndPush(app.work, { 'app.txt': '2\n' }, 'two')
    sh('git', ['clone', '-q', '--bare', app.bare, path.join(gitRoot, 'acme', 'app.git')])
    gitServer = await startGitHttpServer(gitRoot, { token: TOKEN })
    gitProxy = await startFaultProxy(gitServer.url)
  }, 60_000)
  afterAll(async () => {
    await regProxy?.close()
    await gitProxy?.close()
    await gitServer?.close()
    await registry?.close()
  })

  function services(): Services {
    const s = defaultServices({})
    s.gitCredentials = [{ urlPrefix: `${gitProxy.url}/`, credentials: { token: TOKEN } }]
    return s
  }

  /** A config repo with one warehouse, its state branch, and one discovery run through the proxies. */
  async function discover(sub: 'image' | 'git' | 'both'): Promise<{
    run: DiscoveryRun
    state: State
    logs: string
    ms: number
    cfg: ReturnType<typeof makeRepo>
  }> {
    const subs: string[] = []
    if (sub !== 'git')
      subs.push(`    - image: {repoURL: '${regProxy.host}/acme/app', constraint: '^1.0.0'}`)
    if (sub !== 'image') subs.push(`    - git: {repoURL: '${gitProxy.url}/acme/app.git'}`)
    const cfg = makeRepo(
      {
        '.waybill/warehouse.yaml': [
          'apiVersion: kargo.akuity.io/v1alpha1',
          'kind: Warehouse',
          'metadata: {name: app}',
          'spec:',
          '  subscriptions:',
          ...subs,
          ''
        ].join('\n')
      },
      tempDir()
    )
    const logger = new MemoryLogger()
    const model = await loadProjectOrThrow(cfg.work, '.waybill', logger)
    const store = new StateStore({
      repoDir: cfg.work,
      remote: 'origin',
      branch: 'waybill/state',
      logger
    })
    const started = Date.now()
    const gitCache = new GitCloneCache({ logger, network: GIT_NETWORK })
    try {
      const run = await runDiscovery(
        {
          model,
          store,
          services: services(),
          logger,
          now: () => new Date(),
          gitCache,
          discoverers: {
            images: (s, o) => discoverImages(s, { ...o, client: CLIENT })
          }
        },
        { force: true }
      )
      return { run, state: await store.read(), logs: logger.text(), ms: Date.now() - started, cfg }
    } finally {
      await gitCache.dispose()
    }
  }

  const transient: Array<[string, Fault]> = [
    ['connection reset', { kind: 'reset' }],
    ['timeout (no answer)', { kind: 'hang' }],
    ['429 with Retry-After', { kind: 'status', status: 429, retryAfter: '1' }],
    ['500', { kind: 'status', status: 500 }],
    ['502', { kind: 'status', status: 502 }],
    ['503', { kind: 'status', status: 503 }],
    ['truncated body', { kind: 'truncate', bytes: 10 }],
    ['slow response', { kind: 'slow', delayMs: 300 }]
  ]

  for (const [name, fault] of transient) {
    it(`registry: ${name} on the first two requests is retried and freight is complete`, async () => {
      regProxy.setPlan(firstN(2, fault, /\/v2\/acme\/app\//))
      const res = await discover('image')
      regProxy.setPlan(undefined)
      expect(res.run.errors).toEqual([])
      const freight = Object.values(res.state.freight)
      expect(freight).toHaveLength(1)
      expect(freight[0].images.map((i) => i.tag)).toEqual(['1.2.0'])
      expect(freight[0].images[0].digest).toMatch(/^sha256:[0-9a-f]{64}$/)
      if (fault.kind === 'status' && fault.retryAfter) expect(res.ms).toBeGreaterThanOrEqual(1900)
    }, 30_000)
  }

  for (const [name, fault] of transient.filter(([, f]) => f.kind !== 'slow')) {
    it(`git: ${name} on the first two requests is retried and freight is complete`, async () => {
      gitProxy.setPlan(firstN(2, fault))
      const res = await discover('git')
      gitProxy.setPlan(undefined)
      expect(res.run.errors).toEqual([])
      const freight = Object.values(res.state.freight)
      expect(freight).toHaveLength(1)
      expect(freight[0].commits[0].id).toMatch(/^[0-9a-f]{40}$/)
      expect(res.logs).not.toContain(TOKEN)
    }, 30_000)
  }

  it('git: a slow server is waited for', async () => {
    gitProxy.setPlan(firstN(2, { kind: 'slow', delayMs: 300 }))
    const res = await discover('git')
    gitProxy.setPlan(undefined)
    expect(res.run.errors).toEqual([])
    expect(Object.values(res.state.freight)).toHaveLength(1)
  }, 30_000)

  const persistent: Array<[string, Fault, RegExp]> = [
    ['503', { kind: 'status', status: 503 }, /HTTP 503|503/],
    ['connection reset', { kind: 'reset' }, /reset|socket|ECONNRESET|network|closed/i],
    [
      'a Retry-After beyond the budget',
      { kind: 'status', status: 429, retryAfter: '3600' },
      /429|rate/i
    ],
    ['no answer', { kind: 'hang' }, /did not answer|timed out|timeout|too slow/i]
  ]

  for (const [name, fault, pattern] of persistent) {
    it(`registry and git: ${name} on every request fails with a message naming the host, and records no freight`, async () => {
      const started = Date.now()
      regProxy.setPlan(always(fault, /\/v2\/acme\/app\//))
      const image = await discover('image')
      regProxy.setPlan(undefined)
      expect(image.run.errors).toHaveLength(1)
      expect(image.run.errors[0].message).toContain(regProxy.host)
      expect(image.run.errors[0].message).toMatch(pattern)
      expect(image.state.freight).toEqual({})
      expect(image.state.warehouses.app.lastError).toContain(regProxy.host)

      // A warehouse with an image and a git subscription: the git side fails, nothing is half-recorded.
      gitProxy.setPlan(always(fault))
      const both = await discover('both')
      gitProxy.setPlan(undefined)
      expect(both.run.errors).toHaveLength(1)
      expect(both.run.errors[0].message).toContain(gitProxy.host)
      expect(both.run.errors[0].message).not.toContain(TOKEN)
      expect(both.state.freight).toEqual({})
      expect(both.logs).not.toContain(TOKEN)
      console.log(`network faults: persistent ${name}: both failed in ${Date.now() - started} ms`)
    }, 60_000)
  }

  it('a failed discovery after a good one leaves the recorded freight as it was', async () => {
    const good = await discover('both')
    expect(good.run.errors).toEqual([])
    const before = gitIn(good.cfg.work, 'ls-remote', 'origin', 'refs/heads/waybill/state')
    const logger = new MemoryLogger()
    const model = await loadProjectOrThrow(good.cfg.work, '.waybill', logger)
    const store = new StateStore({
      repoDir: good.cfg.work,
      remote: 'origin',
      branch: 'waybill/state',
      logger
    })
    regProxy.setPlan(always({ kind: 'status', status: 502 }))
    const gitCache = new GitCloneCache({ logger, network: GIT_NETWORK })
    const run = await runDiscovery(
      {
        model,
        store,
        services: services(),
        logger,
        now: () => new Date(),
        gitCache,
        discoverers: { images: (s, o) => discoverImages(s, { ...o, client: CLIENT }) }
      },
      { force: true }
    )
    await gitCache.dispose()
    regProxy.setPlan(undefined)
    expect(run.errors).toHaveLength(1)
    const after = await store.read()
    expect(after.freight).toEqual(good.state.freight)
    expect(after.warehouses.app.discovered).toEqual(good.state.warehouses.app.discovered)
    expect(after.warehouses.app.lastError).toMatch(/502/)
    expect(gitIn(good.cfg.work, 'ls-remote', 'origin', 'refs/heads/waybill/state')).not.toBe(before)
  }, 60_000)
})
