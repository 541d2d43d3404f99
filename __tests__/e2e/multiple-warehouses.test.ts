import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { World, freightWith, lastPromotion, stageFreight, type Repo } from './harness.js'
import { gitIn } from '../support/git.js'
import type { State } from '../../src/state/types.js'
import { hasDockerRegistry, skipReason } from '../support/registry.js'

const d = hasDockerRegistry ? describe : describe.skip
if (!hasDockerRegistry) console.warn(skipReason)

const configMap = (greeting: string) =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: guestbook\ndata:\n  GREETING: ${greeting}\n`

d('examples/multiple-warehouses end to end', () => {
  let world: World
  let gitops: Repo
  let c0: string
  const manifests = (stage: string) => world.file(gitops, `stage/${stage}`, 'manifests.yaml')
  const imageOf = (state: State, tag: string) =>
    freightWith(state, { warehouse: 'images', images: { guestbook: tag } })[0]
  const configOf = (state: State, commit: string) =>
    freightWith(state, { warehouse: 'config', commit })[0]
  /** The stage's current collection as origin → freight name. */
  const items = (state: State, stage: string) =>
    Object.fromEntries(
      Object.entries(state.stages[stage]?.freightHistory[0]?.items ?? {}).map(([k, v]) => [
        k,
        v.name
      ])
    )
  const expectRendered = (stage: string, tag: string, greeting: string) => {
    const m = manifests(stage)!
    expect(m).toContain(`acme/guestbook:${tag}`)
    expect(m).toMatch(new RegExp(`GREETING: ${greeting}\\n`))
  }

  beforeAll(async () => {
    world = await World.start({ registry: true })
    gitops = world.repo('gitops', world.exampleFiles('multiple-warehouses'))
    c0 = gitIn(gitops.work, 'rev-parse', 'HEAD')
  })
  afterAll(() => world?.close())

  it('validates as shipped', async () => {
    expect((await world.run(gitops, 'validate')).exitCode).toBe(0)
  })

  it('each warehouse makes its own freight; test and uat combine one of each', async () => {
    await world.pushImage('acme/guestbook', '1.0.0')
    const res = await world.run(gitops, 'reconcile')
    expect(res.logs).not.toMatch(/error:/)
    expect(res.exitCode).toBe(0)
    const state = await world.state(gitops)
    const i1 = imageOf(state, '1.0.0')
    const k0 = configOf(state, c0)
    expect(i1.commits).toEqual([])
    expect(k0.images).toEqual([])
    for (const stage of ['test', 'uat']) {
      expect(items(state, stage)).toEqual({
        'Warehouse/images': i1.name,
        'Warehouse/config': k0.name
      })
      expectRendered(stage, '1.0.0', 'Hello')
    }
  })

  it('images move on their fast cadence and carry the current config along', async () => {
    await world.pushImage('acme/guestbook', '1.1.0')
    world.advance(2) // images are due (1m), config is not (10m)
    await world.run(gitops, 'reconcile')
    const state = await world.state(gitops)
    expect(state.warehouses.config.lastDiscoveredAt).toBe(
      state.warehouses.config.discovered!.discoveredAt
    )
    const i2 = imageOf(state, '1.1.0')
    const k0 = configOf(state, c0)
    for (const stage of ['test', 'uat']) {
      expect(items(state, stage)).toEqual({
        'Warehouse/images': i2.name,
        'Warehouse/config': k0.name
      })
      expectRendered(stage, '1.1.0', 'Hello')
    }
    // The promotion was for the image; its collection names both.
    const p = lastPromotion(state, 'uat')!
    expect(p.freight).toBe(i2.name)
    expect(Object.keys(p.freightCollection!.items).sort()).toEqual([
      'Warehouse/config',
      'Warehouse/images'
    ])
  })

  it('a config commit is found on its slower cadence and carries the current image along', async () => {
    const c1 = world.commit(gitops, { 'base/configmap.yaml': configMap('Howdy') }, 'howdy')
    world.advance(2)
    await world.run(gitops, 'reconcile')
    let state = await world.state(gitops)
    expect(configOf(state, c1)).toBeUndefined() // not due yet
    world.advance(9)
    await world.run(gitops, 'reconcile')
    state = await world.state(gitops)
    const k1 = configOf(state, c1)
    expect(k1).toBeDefined()
    for (const stage of ['test', 'uat']) {
      expect(items(state, stage)).toEqual({
        'Warehouse/images': imageOf(state, '1.1.0').name,
        'Warehouse/config': k1.name
      })
      expectRendered(stage, '1.1.0', 'Howdy')
    }
  })

  it('an image and a config change discovered together both land, neither undoing the other', async () => {
    await world.pushImage('acme/guestbook', '1.2.0')
    const c2 = world.commit(gitops, { 'base/configmap.yaml': configMap('Hi') }, 'hi')
    world.advance(11)
    const count = (s: State) => Object.values(s.promotions).filter((p) => p.stage === 'test')
    const before = count(await world.state(gitops)).length
    const res = await world.run(gitops, 'reconcile')
    expect(res.exitCode).toBe(0)
    const state = await world.state(gitops)
    // One promotion per origin; the second starts from what the first deployed, so no third
    // promotion is needed to repair a collection that put the old image back.
    expect(count(state).length).toBe(before + 2)
    const [latest, previous] = state.stages.test.freightHistory
    expect(Object.keys(latest.items)).toHaveLength(2)
    expect(
      Object.values(previous.items).filter(
        (i) => !Object.values(latest.items).some((l) => l.name === i.name)
      )
    ).toHaveLength(1)
    for (const stage of ['test', 'uat']) {
      expect(items(state, stage)).toEqual({
        'Warehouse/images': imageOf(state, '1.2.0').name,
        'Warehouse/config': configOf(state, c2).name
      })
      expectRendered(stage, '1.2.0', 'Hi')
    }
  })

  it('prod: "latest" needs --warehouse; config must soak 24h in uat first', async () => {
    await expect(
      world.run(gitops, 'promote', { stage: 'prod', freight: 'latest' })
    ).rejects.toThrow(/pass --warehouse/)
    await expect(
      world.run(gitops, 'promote', { stage: 'prod', freight: 'latest', warehouse: 'config' })
    ).rejects.toThrow(/no freight from config is available to prod/)
    world.advance(24 * 60)
    const res = await world.run(gitops, 'promote', {
      stage: 'prod',
      freight: 'latest',
      warehouse: 'config'
    })
    expect(res.exitCode).toBe(0)
    const state = await world.state(gitops)
    const c2 = gitIn(gitops.work, 'log', '-1', '--format=%H', '--', 'base')
    expect(items(state, 'prod')['Warehouse/config']).toBe(configOf(state, c2).name)
    expect(items(state, 'prod')['Warehouse/images']).toBe(imageOf(state, '1.2.0').name)
    expectRendered('prod', '1.2.0', 'Hi')
  })

  it('a new image reaches prod by hand without waiting for the config soak', async () => {
    await world.pushImage('acme/guestbook', '1.3.0')
    world.advance(2)
    await world.run(gitops, 'reconcile')
    const res = await world.run(gitops, 'promote', {
      stage: 'prod',
      freight: 'latest',
      warehouse: 'images'
    })
    expect(res.exitCode).toBe(0)
    const state = await world.state(gitops)
    const prod = stageFreight(state, 'prod')
    expect(prod.map((f) => f.origin.name).sort()).toEqual(['config', 'images'])
    expect(items(state, 'prod')['Warehouse/images']).toBe(imageOf(state, '1.3.0').name)
    expectRendered('prod', '1.3.0', 'Hi')
  })
})
