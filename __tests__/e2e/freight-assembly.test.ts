import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { World, currentAlias, freightWith, type Repo } from './harness.js'
import { gitIn } from '../support/git.js'
import { hasDockerRegistry, skipReason } from '../support/registry.js'

const d = hasDockerRegistry ? describe : describe.skip
if (!hasDockerRegistry) console.warn(skipReason)

const CONFIG_V2 =
  'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shop\ndata:\n  PAYMENTS_URL: https://payments.acme.dev/v2\n'

d('examples/freight-assembly end to end', () => {
  let world: World
  let gitops: Repo
  let c0: string
  let c1: string
  /** CLI values as a user writes them (ghcr.io/…, github.com/…), pointed at the local servers. */
  const image = (tag: string) => world.rewrite({ v: `ghcr.io/acme/shop=${tag}` }).v
  const commit = (id: string) => world.rewrite({ v: `https://github.com/acme/gitops.git=${id}` }).v
  const manifests = (stage: string) => world.file(gitops, `stage/${stage}`, 'manifests.yaml')

  beforeAll(async () => {
    world = await World.start({ registry: true })
    gitops = world.repo('gitops', world.exampleFiles('freight-assembly'))
    c0 = gitIn(gitops.work, 'rev-parse', 'HEAD')
  })
  afterAll(() => world?.close())

  it('validates as shipped', async () => {
    expect((await world.run(gitops, 'validate')).exitCode).toBe(0)
  })

  it('discovery records candidates but creates no freight', async () => {
    await world.pushImage('acme/shop', '1.0.0')
    const res = await world.run(gitops, 'reconcile')
    expect(res.exitCode).toBe(0)
    expect(res.logs).toContain('freightCreationPolicy is Manual')
    await world.pushImage('acme/shop', '2.0.0') // needs PAYMENTS_URL v2
    c1 = world.commit(gitops, { 'base/configmap.yaml': CONFIG_V2 }, 'payments v2')
    world.commit(gitops, { 'README.md': 'notes\n' }, 'docs') // not a candidate: path filter
    world.advance(6)
    expect((await world.run(gitops, 'reconcile')).exitCode).toBe(0)
    const state = await world.state(gitops)
    expect(Object.keys(state.freight)).toHaveLength(0)
    const found = state.warehouses.shop.discovered!
    expect(found.images[0].references.map((r) => r.tag)).toEqual(['2.0.0', '1.0.0'])
    expect(found.git[0].commits.map((c) => c.id)).toEqual([c1, c0])
    expect(world.branches(gitops)).not.toContain('stage/test')
  })

  it('assembles a compatible older combination, which is then promoted', async () => {
    const res = await world.run(gitops, 'assemble', {
      warehouse: 'shop',
      image: [image('1.0.0')],
      commit: [commit(c0.slice(0, 7))]
    })
    expect(res.exitCode).toBe(0)
    let state = await world.state(gitops)
    const [f] = freightWith(state, { images: { shop: '1.0.0' }, commit: c0 })
    expect(f).toBeDefined()
    expect(Object.keys(state.freight)).toHaveLength(1)
    expect(JSON.parse(res.outputs!.freight)[0]).toMatchObject({ alias: f.alias, created: true })
    expect(state.audit.some((a) => a.action === 'assemble' && a.actor === 'e2e-tester')).toBe(true)
    await world.run(gitops, 'reconcile')
    state = await world.state(gitops)
    expect(currentAlias(state, 'test')).toBe(f.alias)
    expect(currentAlias(state, 'uat')).toBe(f.alias)
    expect(manifests('uat')).toContain('acme/shop:1.0.0')
    expect(manifests('uat')).toContain('payments.acme.dev/v1')
  })

  it('without picks, assembles the newest candidate of each subscription', async () => {
    const res = await world.run(gitops, 'assemble', { warehouse: 'shop' })
    expect(res.exitCode).toBe(0)
    let state = await world.state(gitops)
    const [f] = freightWith(state, { images: { shop: '2.0.0' }, commit: c1 })
    expect(f).toBeDefined()
    await world.run(gitops, 'reconcile')
    state = await world.state(gitops)
    expect(currentAlias(state, 'uat')).toBe(f.alias)
    expect(manifests('test')).toContain('acme/shop:2.0.0')
    expect(manifests('test')).toContain('payments.acme.dev/v2')
  })

  it('--clone keeps the other artifacts of an existing freight', async () => {
    await world.pushImage('acme/shop', '1.0.1') // a hotfix of the 1.x line
    world.advance(6)
    await world.run(gitops, 'discover')
    const before = await world.state(gitops)
    const [old] = freightWith(before, { images: { shop: '1.0.0' }, commit: c0 })
    const res = await world.run(gitops, 'assemble', {
      warehouse: 'shop',
      clone: old.alias,
      image: [image('1.0.1')]
    })
    expect(res.exitCode).toBe(0)
    const state = await world.state(gitops)
    const [f] = freightWith(state, { images: { shop: '1.0.1' } })
    expect(f.commits.map((c) => c.id)).toEqual([c0])
  })

  it('assembling the same combination again creates nothing', async () => {
    const before = Object.keys((await world.state(gitops)).freight).length
    const res = await world.run(gitops, 'assemble', {
      warehouse: 'shop',
      image: [image('2.0.0')],
      commit: [commit(c1)]
    })
    expect(res.exitCode).toBe(0)
    expect(JSON.parse(res.outputs!.freight)[0].created).toBe(false)
    expect(Object.keys((await world.state(gitops)).freight)).toHaveLength(before)
  })

  it('refuses candidates discovery did not find, naming the ones it did', async () => {
    const before = await world.state(gitops)
    await expect(
      world.run(gitops, 'assemble', { warehouse: 'shop', image: [image('9.9.9')] })
    ).rejects.toMatchObject({
      message: expect.stringContaining("has no discovered candidate '9.9.9'"),
      hint: expect.stringContaining('2.0.0, 1.0.1, 1.0.0')
    })
    // A real commit on main, but outside the path filter: never a candidate.
    const docs = gitIn(gitops.work, 'rev-parse', 'HEAD')
    expect(docs).not.toBe(c1)
    await expect(
      world.run(gitops, 'assemble', { warehouse: 'shop', commit: [commit(docs)] })
    ).rejects.toThrow(/has no discovered commit/)
    await expect(
      world.run(gitops, 'assemble', {
        warehouse: 'shop',
        image: [world.rewrite({ v: 'ghcr.io/acme/other=1.0.0' }).v]
      })
    ).rejects.toThrow(/no subscription for image/)
    await expect(world.run(gitops, 'assemble', { warehouse: 'nope' })).rejects.toThrow(
      /warehouse 'nope' does not exist/
    )
    const after = await world.state(gitops)
    expect(Object.keys(after.freight)).toEqual(Object.keys(before.freight))
  })

  it('prod takes assembled freight by hand', async () => {
    const res = await world.run(gitops, 'promote', { stage: 'prod', freight: 'latest' })
    expect(res.exitCode).toBe(0)
    const state = await world.state(gitops)
    const [f] = freightWith(state, { images: { shop: '2.0.0' }, commit: c1 })
    expect(currentAlias(state, 'prod')).toBe(f.alias)
    expect(manifests('prod')).toContain('acme/shop:2.0.0')
    expect(manifests('prod')).toContain('payments.acme.dev/v2')
  })
})
