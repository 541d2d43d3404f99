import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { World, currentAlias, freightWith, type Repo } from './harness.js'
import { hasDockerRegistry, skipReason } from '../support/registry.js'

const d = hasDockerRegistry ? describe : describe.skip
if (!hasDockerRegistry) console.warn(skipReason)

d('examples/grouped-services end to end', () => {
  let world: World
  let deploy: Repo
  const rendered = (stage: string) => world.file(deploy, `stage/${stage}`, 'storefront.yaml')
  const imageLines = (text: string | undefined) =>
    (text ?? '')
      .split('\n')
      .filter((l) => l.includes('image:'))
      .map((l) => l.replace(/^\s*-?\s*/, '').replace(`${world.registry!.host}/acme/`, ''))
      .sort()

  beforeAll(async () => {
    world = await World.start({ registry: true })
    deploy = world.repo('storefront-deploy', world.exampleFiles('grouped-services'))
  })
  afterAll(() => world?.close())

  it('validates as shipped', async () => {
    expect((await world.run(deploy, 'validate')).exitCode).toBe(0)
  })

  it('one image without the other makes no freight', async () => {
    await world.pushImage('acme/storefront-web', '1.0.0')
    await world.pushImage('acme/storefront-api', '0.0.1-rc.1') // not a release: no candidate
    const res = await world.run(deploy, 'reconcile')
    expect(res.exitCode).toBe(0)
    const state = await world.state(deploy)
    expect(Object.keys(state.freight)).toHaveLength(0)
    expect(world.branches(deploy)).not.toContain('stage/test')
  })

  it('with both images, one freight carries both and test and uat render both', async () => {
    await world.pushImage('acme/storefront-api', '1.0.0')
    world.advance(6)
    const res = await world.run(deploy, 'reconcile')
    expect(res.exitCode).toBe(0)
    const state = await world.state(deploy)
    const all = Object.values(state.freight)
    expect(all).toHaveLength(1)
    expect(all[0].images.map((i) => `${i.repoURL.split('/').pop()}:${i.tag}`).sort()).toEqual([
      'storefront-api:1.0.0',
      'storefront-web:1.0.0'
    ])
    for (const stage of ['test', 'uat']) {
      expect(currentAlias(state, stage)).toBe(all[0].alias)
      expect(imageLines(rendered(stage))).toEqual([
        'image: storefront-api:1.0.0',
        'image: storefront-web:1.0.0'
      ])
      expect(rendered(stage)).toContain(`namespace: storefront-${stage}`)
    }
  })

  it('a new back end makes freight pairing it with the current front end; both move together', async () => {
    await world.pushImage('acme/storefront-api', '1.1.0')
    world.advance(6)
    await world.run(deploy, 'reconcile')
    const state = await world.state(deploy)
    const [f] = freightWith(state, {
      images: { 'storefront-web': '1.0.0', 'storefront-api': '1.1.0' }
    })
    expect(f).toBeDefined()
    expect(currentAlias(state, 'test')).toBe(f.alias)
    expect(currentAlias(state, 'uat')).toBe(f.alias)
    expect(imageLines(rendered('uat'))).toEqual([
      'image: storefront-api:1.1.0',
      'image: storefront-web:1.0.0'
    ])
  })

  it('new tags of both at once make a single freight', async () => {
    const before = Object.keys((await world.state(deploy)).freight).length
    await world.pushImage('acme/storefront-web', '2.0.0')
    await world.pushImage('acme/storefront-api', '2.0.0')
    world.advance(6)
    await world.run(deploy, 'reconcile')
    const state = await world.state(deploy)
    expect(Object.keys(state.freight)).toHaveLength(before + 1)
    const [f] = freightWith(state, {
      images: { 'storefront-web': '2.0.0', 'storefront-api': '2.0.0' }
    })
    expect(currentAlias(state, 'uat')).toBe(f.alias)
    expect(imageLines(rendered('test'))).toEqual([
      'image: storefront-api:2.0.0',
      'image: storefront-web:2.0.0'
    ])
  })

  it('prod receives the pair by hand; an earlier pair can be rolled back as a unit', async () => {
    expect((await world.run(deploy, 'promote', { stage: 'prod' })).exitCode).toBe(0)
    expect(imageLines(rendered('prod'))).toEqual([
      'image: storefront-api:2.0.0',
      'image: storefront-web:2.0.0'
    ])
    const state = await world.state(deploy)
    const [older] = freightWith(state, {
      images: { 'storefront-web': '1.0.0', 'storefront-api': '1.1.0' }
    })
    const res = await world.run(deploy, 'promote', { stage: 'prod', freight: older.alias })
    expect(res.exitCode).toBe(0)
    expect(imageLines(rendered('prod'))).toEqual([
      'image: storefront-api:1.1.0',
      'image: storefront-web:1.0.0'
    ])
    expect(currentAlias(await world.state(deploy), 'prod')).toBe(older.alias)
  })
})
