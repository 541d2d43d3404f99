import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { World, currentAlias, freightByImageTag, type Repo } from './harness.js'
import { hasDockerRegistry, skipReason } from '../support/registry.js'
import { sh } from '../support/git.js'

const d = hasDockerRegistry ? describe : describe.skip
if (!hasDockerRegistry) console.warn(skipReason)

interface MatrixEntry {
  stage: string
  freight: string
  alias: string
  reason: string
}

/**
 * The fan-out workflow of examples/fan-out-in: a plan job (`discover`, then `plan`) emits a
 * matrix of due stages; one job per entry runs `reconcile --stage <stage>` on its own runner
 * (its own checkout), in parallel.
 */
d('plan → matrix → reconcile --stage (examples/fan-out-in)', () => {
  let world: World
  let repo: Repo
  let runners = 0
  const rendered = (stage: string) =>
    world.file(repo, `stage/${stage}`, `shop-${stage}-deployment-shop.yaml`)

  async function plan(): Promise<{ include: MatrixEntry[]; hasWork: string; printed: string }> {
    const res = await world.run(repo, 'plan', {}, { json: true })
    expect(res.exitCode).toBe(0)
    const matrix = JSON.parse(res.outputs!.matrix) as { include: MatrixEntry[] }
    // --json prints the same matrix.
    expect(JSON.parse(res.logs.trim().split('\n').pop()!)).toEqual(matrix)
    return { include: matrix.include, hasWork: res.outputs!['has-work'], printed: res.logs }
  }

  /** One matrix job: a fresh checkout of the repository, `reconcile --stage`. */
  async function job(entry: MatrixEntry) {
    const work = path.join(world.root, 'runners', String(++runners))
    sh('git', ['clone', '-q', repo.bare, work])
    return world.run({ ...repo, work }, 'reconcile', { stage: [entry.stage] })
  }

  beforeAll(async () => {
    world = await World.start({ registry: true })
    repo = world.repo('shop-gitops', world.exampleFiles('fan-out-in'))
  })
  afterAll(() => world?.close())

  it('plans nothing before any freight exists', async () => {
    const p = await plan()
    expect(p.include).toEqual([])
    expect(p.hasWork).toBe('false')
  })

  it('after discovery, plans the auto-promotion of test; the job runs it', async () => {
    await world.pushImage('acme/shop', '1.0.0')
    expect((await world.run(repo, 'discover')).exitCode).toBe(0)
    const state = await world.state(repo)
    const f = freightByImageTag(state, '1.0.0')!
    // Discovery alone promotes nothing.
    expect(currentAlias(state, 'test')).toBeUndefined()
    const p = await plan()
    expect(p.hasWork).toBe('true')
    expect(p.include).toEqual([
      { stage: 'test', freight: f.name, alias: f.alias, reason: 'auto-promotion' }
    ])
    const res = await job(p.include[0])
    expect(res.exitCode).toBe(0)
    const after = await world.state(repo)
    expect(currentAlias(after, 'test')).toBe(f.alias)
    // The job only worked on its own stage: qa is due now, but untouched.
    expect(currentAlias(after, 'qa')).toBeUndefined()
    expect(rendered('test')).toContain(`${world.registry!.host}/acme/shop:1.0.0`)
  })

  it('fans out: qa and uat are planned together and their jobs run in parallel', async () => {
    world.advance(61) // uat's soak time in test
    const p = await plan()
    const state = await world.state(repo)
    const f = freightByImageTag(state, '1.0.0')!
    expect(p.include.map((e) => e.stage).sort()).toEqual(['qa', 'uat'])
    expect(p.include.every((e) => e.freight === f.name && e.reason === 'auto-promotion')).toBe(true)
    const results = await Promise.all(p.include.map((e) => job(e)))
    expect(results.map((r) => r.exitCode)).toEqual([0, 0])
    const after = await world.state(repo)
    for (const s of ['qa', 'uat']) {
      expect(currentAlias(after, s)).toBe(f.alias)
      expect(after.freight[f.name].status.verifiedIn[s]).toBeDefined()
      expect(rendered(s)).toContain(`namespace: shop-${s}`)
    }
    const promotions = Object.values(after.promotions)
    expect(promotions.map((x) => x.stage).sort()).toEqual(['qa', 'test', 'uat'])
    expect(promotions.every((x) => x.phase === 'Succeeded')).toBe(true)
  })

  it('plans nothing while only manual stages remain', async () => {
    const p = await plan()
    expect(p.include).toEqual([])
    expect(p.hasWork).toBe('false')
  })

  it('a queued manual promotion is planned as "queued"; only a gated promote of its stage runs it', async () => {
    const q = await world.run(repo, 'promote', {
      stage: 'prod-eu',
      freight: 'latest',
      'no-run': true
    })
    expect(q.exitCode).toBe(0)
    const p = await plan()
    const state = await world.state(repo)
    const f = freightByImageTag(state, '1.0.0')!
    expect(p.include).toEqual([
      { stage: 'prod-eu', freight: f.name, alias: f.alias, reason: 'queued' }
    ])
    expect(rendered('prod-eu')).toBeUndefined()
    // The fan-out job is not gated by prod-eu's environment: it must not deploy to it.
    await job(p.include[0])
    expect(currentAlias(await world.state(repo), 'prod-eu')).not.toBe(f.alias)
    expect(rendered('prod-eu')).toBeUndefined()
    // The environment-gated promote job of that stage runs what is queued for it.
    const work = path.join(world.root, 'runners', String(++runners))
    sh('git', ['clone', '-q', repo.bare, work])
    const gated = await world.run({ ...repo, work }, 'promote', {
      stage: 'prod-eu',
      freight: f.alias
    })
    expect(gated.exitCode).toBe(0)
    const after = await world.state(repo)
    expect(currentAlias(after, 'prod-eu')).toBe(f.alias)
    expect(rendered('prod-eu')).toContain(`${world.registry!.host}/acme/shop:1.0.0`)
    expect((await plan()).include).toEqual([])
  })
})
