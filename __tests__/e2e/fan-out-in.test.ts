import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { World, currentAlias, freightByImageTag, type Repo } from './harness.js'
import { hasDockerRegistry, skipReason } from '../support/registry.js'

const d = hasDockerRegistry ? describe : describe.skip
if (!hasDockerRegistry) console.warn(skipReason)

d('examples/fan-out-in end to end', () => {
  let world: World
  let repo: Repo
  let ab: Repo
  const image = (tag: string) => `image: ${world.registry!.host}/acme/shop:${tag}`
  const rendered = (r: Repo, stage: string) =>
    world.file(r, `stage/${stage}`, `shop-${stage}-deployment-shop.yaml`)

  beforeAll(async () => {
    world = await World.start({ registry: true })
    repo = world.repo('shop-gitops', world.exampleFiles('fan-out-in'))
  })
  afterAll(() => world?.close())

  describe('test → (qa, uat) → prod-us (OneOf) / prod-eu (All)', () => {
    it('validates as shipped', async () => {
      expect((await world.run(repo, 'validate')).exitCode).toBe(0)
    })

    it('fans out: qa gets new freight at once, uat after its soak time in test', async () => {
      await world.pushImage('acme/shop', '1.0.0')
      const res = await world.run(repo, 'reconcile')
      expect(res.exitCode).toBe(0)
      const state = await world.state(repo)
      const f = freightByImageTag(state, '1.0.0')!
      expect(currentAlias(state, 'test')).toBe(f.alias)
      expect(currentAlias(state, 'qa')).toBe(f.alias)
      expect(currentAlias(state, 'uat')).toBeUndefined()
      expect(Object.keys(f.status.verifiedIn).sort()).toEqual(['qa', 'test'])
      expect(rendered(repo, 'qa')).toContain(image('1.0.0'))
      expect(rendered(repo, 'qa')).toContain('namespace: shop-qa')
      expect(world.branches(repo)).not.toContain('stage/uat')
    })

    it('fans in with OneOf: prod-us takes freight verified in qa alone; prod-eu (All) refuses it', async () => {
      const state = await world.state(repo)
      const f = freightByImageTag(state, '1.0.0')!
      await expect(
        world.run(repo, 'promote', { stage: 'prod-eu', freight: f.alias, 'no-run': true })
      ).rejects.toThrow(/not available to prod-eu: not verified in uat/)
      const res = await world.run(repo, 'promote', { stage: 'prod-us', freight: f.alias })
      expect(res.exitCode).toBe(0)
      expect(currentAlias(await world.state(repo), 'prod-us')).toBe(f.alias)
      expect(rendered(repo, 'prod-us')).toContain(image('1.0.0'))
      expect(rendered(repo, 'prod-us')).toContain('namespace: shop-prod-us')
    })

    it('fans in with All: once uat has verified it too, prod-eu takes it', async () => {
      world.advance(61)
      const res = await world.run(repo, 'reconcile')
      expect(res.exitCode).toBe(0)
      let state = await world.state(repo)
      const f = freightByImageTag(state, '1.0.0')!
      expect(currentAlias(state, 'uat')).toBe(f.alias)
      expect(f.status.verifiedIn.uat).toBeDefined()
      expect(currentAlias(state, 'prod-eu')).toBeUndefined() // manual
      const promoted = await world.run(repo, 'promote', { stage: 'prod-eu', freight: 'latest' })
      expect(promoted.exitCode).toBe(0)
      state = await world.state(repo)
      expect(currentAlias(state, 'prod-eu')).toBe(f.alias)
      expect(rendered(repo, 'prod-eu')).toContain(image('1.0.0'))
      expect(rendered(repo, 'uat')).toContain('namespace: shop-uat')
    })

    it('a newer freight verified only in qa reaches prod-us as "latest" but not prod-eu', async () => {
      await world.pushImage('acme/shop', '1.1.0')
      world.advance(6)
      expect((await world.run(repo, 'reconcile')).exitCode).toBe(0)
      const state = await world.state(repo)
      const f1 = freightByImageTag(state, '1.0.0')!
      const f2 = freightByImageTag(state, '1.1.0')!
      expect(currentAlias(state, 'qa')).toBe(f2.alias)
      expect(currentAlias(state, 'uat')).toBe(f1.alias) // soaking
      await expect(
        world.run(repo, 'promote', { stage: 'prod-eu', freight: f2.alias, 'no-run': true })
      ).rejects.toThrow(/not available to prod-eu/)
      // "latest" for prod-eu is still the freight both have verified.
      expect(
        (await world.run(repo, 'promote', { stage: 'prod-eu', freight: 'latest' })).exitCode
      ).toBe(0)
      expect(
        (await world.run(repo, 'promote', { stage: 'prod-us', freight: 'latest' })).exitCode
      ).toBe(0)
      const after = await world.state(repo)
      expect(currentAlias(after, 'prod-us')).toBe(f2.alias)
      expect(currentAlias(after, 'prod-eu')).toBe(f1.alias)
      expect(rendered(repo, 'prod-us')).toContain(image('1.1.0'))
      expect(rendered(repo, 'prod-eu')).toContain(image('1.0.0'))
    })
  })

  describe('A/B testing: test → (a, b) → prod', () => {
    beforeAll(() => {
      // A second repository with the same files, run with config a-b-testing/.waybill; its task
      // pushes to this repository (the example names its own gitops repository).
      const files = world.exampleFiles('fan-out-in')
      for (const k of Object.keys(files))
        files[k] = files[k].split('acme/shop-gitops').join('acme/shop-ab')
      ab = world.repo('shop-ab', files)
    })
    const run = (cmd: string, args: Record<string, unknown> = {}) =>
      world.run(ab, cmd, args as never, { configDir: 'a-b-testing/.waybill' })

    it('a and b hold different freight; prod promotes the one chosen', async () => {
      expect((await run('validate')).exitCode).toBe(0)
      // Discovery makes freight of the newest matching tag (1.1.0 in the registry already).
      expect((await run('reconcile', { 'force-discover': true })).exitCode).toBe(0)
      let state = await world.state(ab)
      const v110 = freightByImageTag(state, '1.1.0')!
      expect(currentAlias(state, 'test')).toBe(v110.alias)
      expect((await run('promote', { stage: 'a', freight: 'latest' })).exitCode).toBe(0)
      await world.pushImage('acme/shop', '1.2.0')
      world.advance(6)
      expect((await run('reconcile')).exitCode).toBe(0)
      state = await world.state(ab)
      const v120 = freightByImageTag(state, '1.2.0')!
      expect(currentAlias(state, 'test')).toBe(v120.alias)
      expect(currentAlias(state, 'a')).toBe(v110.alias) // a and b are chosen by hand
      expect((await run('promote', { stage: 'b', freight: v120.alias })).exitCode).toBe(0)
      state = await world.state(ab)
      expect(currentAlias(state, 'a')).toBe(v110.alias)
      expect(currentAlias(state, 'b')).toBe(v120.alias)
      expect(currentAlias(state, 'prod')).toBeUndefined()
      expect(rendered(ab, 'a')).toContain(image('1.1.0'))
      expect(rendered(ab, 'b')).toContain(image('1.2.0'))
      expect(rendered(ab, 'b')).toContain('namespace: shop-b')
      // Nothing was pushed to the first pipeline's repository.
      expect(world.branches(repo)).not.toContain('stage/a')
      // a wins: prod takes a's freight, although b's is newer.
      expect((await run('promote', { stage: 'prod', freight: v110.alias })).exitCode).toBe(0)
      state = await world.state(ab)
      expect(currentAlias(state, 'prod')).toBe(v110.alias)
      expect(rendered(ab, 'prod')).toContain(image('1.1.0'))
      expect(rendered(ab, 'prod')).toContain('namespace: shop-prod')
      // Then b wins.
      expect((await run('promote', { stage: 'prod', freight: v120.alias })).exitCode).toBe(0)
      state = await world.state(ab)
      expect(currentAlias(state, 'prod')).toBe(v120.alias)
      expect(rendered(ab, 'prod')).toContain(image('1.2.0'))
      const history = state.stages.prod.freightHistory.map(
        (c) => state.freight[Object.values(c.items)[0].name].alias
      )
      expect(history).toEqual([v120.alias, v110.alias])
    })

    it('prod refuses freight that neither a nor b has verified', async () => {
      await world.pushImage('acme/shop', '1.3.0')
      world.advance(6)
      expect((await run('reconcile')).exitCode).toBe(0)
      const state = await world.state(ab)
      const v130 = freightByImageTag(state, '1.3.0')!
      expect(currentAlias(state, 'test')).toBe(v130.alias)
      await expect(
        run('promote', { stage: 'prod', freight: v130.alias, 'no-run': true })
      ).rejects.toThrow(/not available to prod: not verified in a; not verified in b/)
      await expect(
        run('promote', { stage: 'prod', freight: 'latest', 'no-run': true })
      ).resolves.toMatchObject({ exitCode: 0 })
    })
  })
})
