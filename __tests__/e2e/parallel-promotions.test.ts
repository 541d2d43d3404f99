import fs from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { World, freightByCommit, lastPromotion, stageFreight, type Repo } from './harness.js'
import { gitIn, sh } from '../support/git.js'
import { stagesYaml, gitWarehouseYaml, autoPromoteAllYaml } from '../support/resources.js'
import { openPipeline } from '../../src/pipeline/context.js'
import { reconcilePipeline } from '../../src/pipeline/reconcile.js'
import { runDiscovery } from '../../src/discovery/index.js'
import { MemoryLogger } from '../../src/util/logger.js'

/**
 * Promotions of independent stages run side by side, up to the parallel limit; the state branch
 * gets a few commits per reconcile however many stages promote (one write claims them all,
 * results are written in batches); and each promotion's log lines are printed as one block.
 *
 * Each promotion does one `http` request to a server of this test that holds it HOLD_MS and
 * counts the requests in flight: the only clock-independent witness of how many ran at once.
 */
const K = 6
const STAGES = Array.from({ length: K }, (_, i) => `s${i + 1}`)
const HOLD_MS = 400

function config(srcUrl: string, serverUrl: string): Record<string, string> {
  return {
    '.waybill/project-config.yaml': autoPromoteAllYaml('parallel'),
    '.waybill/warehouse.yaml': gitWarehouseYaml('app', srcUrl),
    '.waybill/task.yaml': `
apiVersion: kargo.akuity.io/v1alpha1
kind: PromotionTask
metadata: { name: deploy }
spec:
  steps:
    - uses: http
      as: hold
      config:
        url: ${serverUrl}/hold/\${{ ctx.stage }}
        timeout: 30s
`,
    '.waybill/stages.yaml': stagesYaml(
      Object.fromEntries(
        STAGES.map((s) => [s, { warehouse: 'app', sources: '{ direct: true }', task: 'deploy' }])
      )
    )
  }
}

/** Holds every request HOLD_MS; records how many were in flight at most, and which stages asked. */
class HoldServer {
  inFlight = 0
  maxInFlight = 0
  readonly paths: string[] = []
  private readonly server = http.createServer((req, res) => {
    this.inFlight++
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight)
    this.paths.push(req.url ?? '')
    setTimeout(() => {
      this.inFlight--
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end('{"ok":true}')
    }, HOLD_MS)
  })
  url = ''

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve))
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
  }
  reset(): void {
    this.maxInFlight = 0
    this.paths.length = 0
  }
  close(): Promise<void> {
    this.server.closeAllConnections()
    return new Promise((resolve) => this.server.close(() => resolve()))
  }
}

describe('parallel promotions', () => {
  let world: World
  let gitops: Repo
  let src: Repo
  const server = new HoldServer()
  let version = 0

  const stateTip = () =>
    sh('git', ['--git-dir', gitops.bare, 'rev-parse', '--verify', '-q', 'refs/heads/waybill/state'])
  const commitsSince = (before: string) =>
    sh('git', [
      '--git-dir',
      gitops.bare,
      'log',
      '--format=%s',
      `${before}..refs/heads/waybill/state`
    ])
      .split('\n')
      .filter(Boolean)
      .reverse()

  /** A new commit on the subscribed repository, and time enough for the warehouse to be due. */
  function newSourceCommit(): string {
    version++
    const id = world.commit(src, { 'app.txt': `v${version}\n` }, `v${version}`)
    world.advance(6)
    return id
  }

  /** Every stage runs the freight of `commit`, each by a Succeeded promotion that ran its request. */
  async function expectAllPromoted(commit: string) {
    const state = await world.state(gitops)
    const f = freightByCommit(state, commit)
    expect(f).toBeDefined()
    for (const stage of STAGES) {
      expect({ stage, freight: stageFreight(state, stage).map((x) => x.name) }).toEqual({
        stage,
        freight: [f!.name]
      })
      const p = lastPromotion(state, stage, f!.name)
      expect({ stage, phase: p?.phase, message: p?.message }).toMatchObject({
        stage,
        phase: 'Succeeded'
      })
      expect(p!.lease).toBeUndefined()
    }
    // One request per stage, none twice.
    expect([...server.paths].sort()).toEqual(STAGES.map((s) => `/hold/${s}`).sort())
    return f!
  }

  beforeAll(async () => {
    await server.start()
    world = await World.start()
    src = world.repo('app-src', { 'app.txt': 'v0\n' })
    gitops = world.repo('gitops', config(src.url, server.url))
    expect((await world.run(gitops, 'validate')).exitCode).toBe(0)
    // The first reconcile creates the state branch and promotes v0 everywhere (default limit).
    const first = await world.run(gitops, 'reconcile')
    expect(first.exitCode).toBe(0)
    await expectAllPromoted(gitIn(src.work, 'rev-parse', 'HEAD'))
  })
  afterAll(async () => {
    await world?.close()
    await server.close()
  })
  beforeEach(() => server.reset())

  it('limit 3: all promote, at most 3 and at least 2 at once; few state commits; one log block each', async () => {
    const commit = newSourceCommit()
    const before = stateTip()
    const res = await world.run(gitops, 'reconcile', {}, { parallelPromotions: 3 })
    expect(res.exitCode).toBe(0)
    const f = await expectAllPromoted(commit)
    expect(server.maxInFlight).toBeLessThanOrEqual(3)
    expect(server.maxInFlight).toBeGreaterThanOrEqual(2)

    const commits = commitsSince(before)
    // One promotion at a time wrote 2 commits per promotion (claim, result) besides discovery and
    // auto-promotion: 2 + 2K = 14 here. Now: discovery, one opening write (auto-promotion and
    // every claim), one write of the results (the next round's opening, or a batch written on
    // time when the machine is slow).
    expect({ tooMany: commits.length > 4 ? commits : [] }).toEqual({ tooMany: [] })
    expect(commits[0]).toMatch(/^discovery: /)
    const opening = commits.filter((m) => m.includes('auto-promote:'))
    expect(opening).toHaveLength(1)
    // That one commit queued and claimed every stage's promotion.
    const state = await world.state(gitops)
    for (const stage of STAGES) {
      const p = lastPromotion(state, stage, f.name)!
      expect(opening[0]).toContain(`${f.alias} → ${stage}`)
      expect(opening[0]).toContain(`promotion: ${p.name} running`)
    }
    // And every result is in a later commit.
    const results = commits.slice(commits.indexOf(opening[0]) + 1).join('; ')
    for (const stage of STAGES)
      expect(results).toContain(`promotion: ${lastPromotion(state, stage, f.name)!.name} succeeded`)

    // Logs: each promotion's lines sit in one block under its own group line.
    const lines = res.logs.split('\n')
    const headers = lines
      .map((l, i) => ({ l, i }))
      .filter(({ l }) => /^group: promote \S+ → s\d+$/.test(l))
    expect(headers.map((h) => h.l.split('→ ')[1]).sort()).toEqual([...STAGES].sort())
    for (const [n, h] of headers.entries()) {
      const stage = h.l.split('→ ')[1]
      const end = n + 1 < headers.length ? headers[n + 1].i : lines.length
      const block = lines.slice(h.i + 1, end)
      // The block starts with this promotion's step group and holds its request and result…
      expect({ stage, block: block.slice(0, 3) }).toEqual({
        stage,
        block: [
          'group: step task-1::hold (http)',
          expect.stringMatching(
            new RegExp(`^GET http://127\\.0\\.0\\.1:\\d+/hold/${stage} → 200$`)
          ),
          expect.stringMatching(
            new RegExp(`^step task-1::hold succeeded: GET .*/hold/${stage} → 200$`)
          )
        ]
      })
      // …and nothing of another promotion.
      const foreign = block.filter((l) => /\/hold\/s\d+ /.test(l) && !l.includes(`/hold/${stage} `))
      expect({ stage, foreign }).toEqual({ stage, foreign: [] })
    }
    // Every step line of every promotion is inside its block (none printed outside a group).
    for (const stage of STAGES) {
      const at = lines
        .map((l, i) => ({ l, i }))
        .filter(({ l }) => l.includes(`/hold/${stage} `))
        .map(({ i }) => i)
      const h = headers.find((x) => x.l.endsWith(`→ ${stage}`))!
      expect(at).toEqual([h.i + 2, h.i + 3])
    }
  })

  it('limit 1: one promotion at a time', async () => {
    const commit = newSourceCommit()
    const res = await world.run(gitops, 'reconcile', {}, { parallelPromotions: 1 })
    expect(res.exitCode).toBe(0)
    await expectAllPromoted(commit)
    expect(server.maxInFlight).toBe(1)
  })

  it('results batched by count: one write claims all K, then one write per `count` results', async () => {
    const commit = newSourceCommit()
    gitIn(gitops.work, 'pull', '-q', '--rebase', 'origin', 'main')
    world.nowMs += 1000
    const logger = new MemoryLogger()
    const pipeline = await openPipeline(world.context(gitops, logger, { parallelPromotions: 3 }))
    // The run's work root exists only while promotions run in it.
    expect(fs.existsSync(pipeline.workRoot)).toBe(false)
    const discovery = await runDiscovery({
      model: pipeline.model,
      store: pipeline.store,
      services: pipeline.services,
      logger,
      now: () => pipeline.now()
    })
    expect(discovery.newFreight.map((f) => f.commits[0].id)).toEqual([commit])
    pipeline.resultBatch = { count: 2, maxAgeMs: 120_000 }
    const before = stateTip()
    const activity = await reconcilePipeline(pipeline)
    expect({
      errors: activity.errors,
      logs: activity.errors.length ? logger.text() : ''
    }).toEqual({ errors: [], logs: '' })
    expect(activity.finished.map((p) => [p.stage, p.phase]).sort()).toEqual(
      STAGES.map((s) => [s, 'Succeeded'])
    )
    await expectAllPromoted(commit)
    expect(fs.existsSync(pipeline.workRoot)).toBe(false)
    const commits = commitsSince(before)
    // 1 opening write (auto-promotion + 6 claims) + 6 results / 2 per batch; one promotion at a
    // time would have made 1 + 2 × 6 = 13.
    expect({ count: commits.length, commits }).toEqual({ count: 4, commits: expect.any(Array) })
    expect(commits[0]).toContain('auto-promote:')
    expect(commits[0].match(/ running/g)).toHaveLength(K)
    const recorded = commits.slice(1).map((m) => (m.match(/ succeeded/g) ?? []).length)
    expect(recorded).toEqual([2, 2, 2])
    expect(server.maxInFlight).toBeLessThanOrEqual(3)
    expect(server.maxInFlight).toBeGreaterThanOrEqual(2)
  })
})
