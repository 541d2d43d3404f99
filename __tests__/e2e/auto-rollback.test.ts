import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { World, currentAlias, freightByCommit, type Repo } from './harness.js'
import { gitPipeline } from './windows-support.js'
import { stagePromotions } from '../../src/pipeline/promotions.js'
import { stageYaml } from '../support/resources.js'

/** The test stage auto-promotes and rolls back when a promotion or its verification fails. */
const rollbackPolicy = (
  on: 'onPromotion' | 'onVerification'
) => `apiVersion: kargo.akuity.io/v1alpha1
kind: ProjectConfig
metadata:
  name: app
spec:
  promotionPolicies:
    - stageSelector: { name: test }
      autoPromotionEnabled: true
      autoRollback:
        ${on}: [Failed]
`

/**
 * Auto-rollback on real git: with `autoRollback.onPromotion: [Failed]`, a failed promotion is
 * followed by a promotion of the stage's last verified freight, exactly once, recorded in the
 * promotion history with its reason; the failed freight is not promoted again by itself.
 */
describe('auto-rollback end to end', () => {
  let world: World
  let gitops: Repo
  let app: Repo

  beforeAll(async () => {
    world = await World.start()
    app = world.repo('app', { 'README.md': 'app\n' })
    gitops = world.repo(
      'gitops',
      gitPipeline({
        stages: [{ name: 'test', sources: '{ direct: true }' }],
        projectConfig: rollbackPolicy('onPromotion')
      })
    )
  })
  afterAll(() => world?.close())

  it('a failed promotion promotes the previous verified freight exactly once', async () => {
    const good = world.commit(app, { 'app.txt': 'v1\n' }, 'good')
    expect((await world.run(gitops, 'reconcile')).exitCode).toBe(0)
    let state = await world.state(gitops)
    const f1 = freightByCommit(state, good)!
    expect(f1.status.verifiedIn.test).toBeDefined()
    world.advance(6)
    // A second good commit, so the rollback target is the last verified freight, not the first.
    const good2 = world.commit(app, { 'app.txt': 'v2\n' }, 'good')
    await world.run(gitops, 'reconcile')
    state = await world.state(gitops)
    const f2 = freightByCommit(state, good2)!
    expect(currentAlias(state, 'test')).toBe(f2.alias)

    world.advance(6)
    const bad = world.commit(app, { 'app.txt': 'v3\n' }, 'bad')
    const res = await world.run(gitops, 'reconcile')
    expect(res.exitCode).toBe(1)
    state = await world.state(gitops)
    const f3 = freightByCommit(state, bad)!
    const promotions = stagePromotions(state, 'test')
    // The rollback is created in the same (test-clock) millisecond as the failure: compare as a set.
    expect(promotions.map((p) => `${p.freight} ${p.phase}`).sort()).toEqual(
      [
        `${f1.name} Succeeded`,
        `${f2.name} Succeeded`,
        `${f3.name} Failed`,
        `${f2.name} Succeeded`
      ].sort()
    )
    const failed = promotions.find((p) => p.freight === f3.name)!
    const rollback = promotions.find((p) => p.rollbackOf)!
    expect(rollback.rollbackOf).toBe(failed.name)
    expect(rollback.reason).toBe(
      `rollback of ${failed.name}: promotion Failed: ${failed.message!.split('\n')[0]}`
    )
    expect(state.audit.filter((a) => a.action === 'rollback')).toEqual([
      expect.objectContaining({ promotion: rollback.name, message: rollback.reason })
    ])
    expect(currentAlias(state, 'test')).toBe(f2.alias)
    expect(world.file(gitops, 'stage/test', 'version.txt')).toBe(good2)

    // Later runs neither roll back again nor retry the failed freight.
    world.advance(10)
    await world.run(gitops, 'reconcile')
    await world.run(gitops, 'reconcile', { 'no-discover': true })
    state = await world.state(gitops)
    expect(stagePromotions(state, 'test')).toHaveLength(4)
  })
})

/**
 * `autoRollback.onVerification`: the promotion succeeds but the stage's verification (an HTTP
 * check against a local server that fails for one commit) fails; Waybill promotes the last
 * verified freight back, once, and the failed freight stays unverified.
 */
describe('auto-rollback after a failed verification', () => {
  let world: World
  let gitops: Repo
  let app: Repo
  let server: http.Server
  let broken = ''

  beforeAll(async () => {
    server = http.createServer({ keepAlive: false }, (req, res) => {
      const commit = new URL(req.url ?? '/', 'http://x').searchParams.get('commit')
      res.writeHead(commit === broken ? 500 : 200).end('{}')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/healthz`
    world = await World.start()
    app = world.repo('app', { 'README.md': 'app\n' })
    const files = gitPipeline({
      stages: [],
      projectConfig: rollbackPolicy('onVerification')
    })
    files['.waybill/stages.yaml'] = stageYaml('test', {
      warehouse: 'app',
      sources: '{ direct: true }',
      task: 'deploy',
      extra: `  verification:
    checks:
      - name: smoke
        http:
          url: ${url}?commit=\${{ commitFrom('https://github.com/acme/app.git').ID }}
          successExpression: response.status == 200
          failureExpression: response.status == 500
`
    })
    gitops = world.repo('gitops', files)
  })
  afterAll(async () => {
    await world?.close()
    await new Promise((resolve) => server?.close(resolve))
  })

  it('promotes the last verified freight back once; the failed freight stays unverified', async () => {
    const good = world.commit(app, { 'app.txt': 'v1\n' }, 'v1')
    expect((await world.run(gitops, 'reconcile')).exitCode).toBe(0)
    let state = await world.state(gitops)
    const f1 = freightByCommit(state, good)!
    expect(f1.status.verifiedIn.test).toBeDefined()

    world.advance(10)
    broken = world.commit(app, { 'app.txt': 'v2\n' }, 'v2')
    await world.run(gitops, 'reconcile')
    state = await world.state(gitops)
    const f2 = freightByCommit(state, broken)!
    expect(f2.status.verifiedIn.test).toBeUndefined()
    const promotions = stagePromotions(state, 'test')
    const deployed = promotions.find((p) => p.freight === f2.name)!
    expect(deployed.phase).toBe('Succeeded')
    const rollback = promotions.find((p) => p.rollbackOf)!
    expect(rollback).toMatchObject({
      rollbackOf: deployed.name,
      freight: f1.name,
      phase: 'Succeeded'
    })
    expect(rollback.reason).toMatch(
      new RegExp(`^rollback of ${deployed.name}: verification Failed`)
    )
    expect(currentAlias(state, 'test')).toBe(f1.alias)
    expect(world.file(gitops, 'stage/test', 'version.txt')).toBe(good)

    // Later runs neither roll back again nor promote the failed freight by themselves.
    world.advance(10)
    await world.run(gitops, 'reconcile')
    state = await world.state(gitops)
    expect(stagePromotions(state, 'test')).toHaveLength(3)
    expect(currentAlias(state, 'test')).toBe(f1.alias)
  })
})
