import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { World, currentAlias, freightByImageTag, type Repo } from './harness.js'
import { hasDockerRegistry, skipReason } from '../support/registry.js'

const d = hasDockerRegistry ? describe : describe.skip
if (!hasDockerRegistry) console.warn(skipReason)

d('examples/control-flow end to end', () => {
  let world: World
  let repo: Repo
  const image = (tag: string) => `image: ${world.registry!.host}/acme/shop:${tag}`
  const rendered = (stage: string) =>
    world.file(repo, `stage/${stage}`, `shop-${stage}-deployment-shop.yaml`)

  beforeAll(async () => {
    world = await World.start({ registry: true })
    repo = world.repo('shop-gitops', world.exampleFiles('control-flow'))
  })
  afterAll(() => world?.close())

  it('validates as shipped', async () => {
    expect((await world.run(repo, 'validate')).exitCode).toBe(0)
  })

  it('freight verified in qa only waits in front of the gate', async () => {
    await world.pushImage('acme/shop', '1.0.0')
    expect((await world.run(repo, 'reconcile')).exitCode).toBe(0)
    const state = await world.state(repo)
    const f = freightByImageTag(state, '1.0.0')!
    expect(currentAlias(state, 'qa')).toBe(f.alias)
    expect(currentAlias(state, 'uat')).toBeUndefined()
    expect(currentAlias(state, 'release')).toBeUndefined()
    expect(f.status.verifiedIn.release).toBeUndefined()
    expect(world.branches(repo).filter((b) => b.startsWith('stage/'))).toEqual(['stage/qa'])
  })

  it('once uat verifies it too, the gate verifies it at once and both regions deploy it', async () => {
    const res = await world.run(repo, 'promote', { stage: 'uat', freight: 'latest' })
    expect(res.exitCode).toBe(0)
    // promote runs only that promotion; the gate and the regions move on the next reconcile.
    expect((await world.run(repo, 'reconcile')).exitCode).toBe(0)
    const state = await world.state(repo)
    const f = freightByImageTag(state, '1.0.0')!
    expect(Object.keys(f.status.verifiedIn).sort()).toEqual([
      'prod-eu',
      'prod-us',
      'qa',
      'release',
      'uat'
    ])
    // The gate holds the freight as its current freight, with no promotion ever run there.
    expect(currentAlias(state, 'release')).toBe(f.alias)
    expect(Object.values(state.promotions).some((p) => p.stage === 'release')).toBe(false)
    expect(world.branches(repo)).not.toContain('stage/release')
    for (const s of ['prod-eu', 'prod-us']) {
      expect(currentAlias(state, s)).toBe(f.alias)
      expect(rendered(s)).toContain(image('1.0.0'))
      expect(rendered(s)).toContain(`namespace: shop-${s}`)
    }
  })

  it('promoting to the gate is refused: there is nothing to run', async () => {
    await expect(
      world.run(repo, 'promote', { stage: 'release', freight: 'latest' })
    ).rejects.toThrow(/control-flow stage/)
  })

  it('the gate is an approval point: approved freight skips uat and rolls out', async () => {
    await world.pushImage('acme/shop', '1.0.1')
    world.advance(6)
    expect((await world.run(repo, 'reconcile')).exitCode).toBe(0)
    let state = await world.state(repo)
    const hotfix = freightByImageTag(state, '1.0.1')!
    const old = freightByImageTag(state, '1.0.0')!
    expect(currentAlias(state, 'qa')).toBe(hotfix.alias)
    expect(currentAlias(state, 'release')).toBe(old.alias)
    expect(currentAlias(state, 'prod-eu')).toBe(old.alias)

    const approved = await world.run(repo, 'approve', { stage: 'release', freight: hotfix.alias })
    expect(approved.exitCode).toBe(0)
    state = await world.state(repo)
    expect(state.freight[hotfix.name].status.approvedFor.release?.actor).toBe('e2e-tester')
    expect(
      state.audit.some(
        (a) => a.action === 'approve' && a.stage === 'release' && a.freight === hotfix.name
      )
    ).toBe(true)
    // Approval alone deploys nothing; the next run moves the freight.
    expect(rendered('prod-eu')).toContain(image('1.0.0'))

    world.advance(1)
    expect((await world.run(repo, 'reconcile')).exitCode).toBe(0)
    state = await world.state(repo)
    const f = state.freight[hotfix.name]
    expect(f.status.verifiedIn.release).toBeDefined()
    expect(f.status.verifiedIn.uat).toBeUndefined()
    expect(currentAlias(state, 'uat')).toBe(old.alias)
    expect(currentAlias(state, 'release')).toBe(hotfix.alias)
    for (const s of ['prod-eu', 'prod-us']) {
      expect(currentAlias(state, s)).toBe(hotfix.alias)
      expect(rendered(s)).toContain(image('1.0.1'))
    }
  })
})
