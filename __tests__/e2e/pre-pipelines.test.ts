import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { World, currentAlias, freightByCommit, freightByImageTag, type Repo } from './harness.js'
import { hasDockerRegistry, skipReason } from '../support/registry.js'
import { sh } from '../support/git.js'

const d = hasDockerRegistry ? describe : describe.skip
if (!hasDockerRegistry) console.warn(skipReason)

d('examples/pre-pipelines end to end', () => {
  let world: World
  let gitops: Repo
  let rendered: Repo
  const head = (r: Repo, branch = 'main') =>
    sh('git', ['--git-dir', r.bare, 'rev-parse', branch]).trim()
  const manifest = 'manifests/shop-deployment-shop.yaml'
  const image = (tag: string) => `image: ${world.registry!.host}/acme/shop:${tag}`

  beforeAll(async () => {
    world = await World.start({ registry: true })
    // The repository pipeline 1 writes to (its own README stays untouched).
    rendered = world.repo('shop-rendered', { 'README.md': '# Rendered manifests of the shop\n' })
    gitops = world.repo('shop-gitops', world.exampleFiles('pre-pipelines'))
  })
  afterAll(() => world?.close())

  it('validates as shipped', async () => {
    expect((await world.run(gitops, 'validate')).exitCode).toBe(0)
  })

  it('pipeline 1 renders the image into the other repository; pipeline 2 has nothing yet', async () => {
    await world.pushImage('acme/shop', '1.0.0')
    const res = await world.run(gitops, 'reconcile')
    expect(res.exitCode).toBe(0)
    const state = await world.state(gitops)
    const img = freightByImageTag(state, '1.0.0')!
    expect(currentAlias(state, 'render')).toBe(img.alias)
    expect(world.files(rendered, 'main')).toEqual(['README.md', manifest])
    expect(world.file(rendered, 'main', manifest)).toContain(image('1.0.0'))
    expect(world.file(rendered, 'main', manifest)).toContain('namespace: shop')
    // The README-only commit touched no manifests/: no freight from it.
    expect(Object.values(state.freight).filter((f) => f.origin.name === 'shop-rendered')).toEqual(
      []
    )
    expect(currentAlias(state, 'staging')).toBeUndefined()
    expect(world.branches(gitops)).not.toContain('stage/staging')
  })

  it('on the next run, pipeline 2 discovers the rendered commit and deploys it to staging', async () => {
    const rendering = head(rendered)
    world.advance(6)
    const res = await world.run(gitops, 'reconcile')
    expect(res.exitCode).toBe(0)
    const state = await world.state(gitops)
    const f = freightByCommit(state, rendering)!
    expect(f).toBeDefined()
    expect(f.origin.name).toBe('shop-rendered')
    expect(f.images).toEqual([])
    expect(currentAlias(state, 'staging')).toBe(f.alias)
    expect(currentAlias(state, 'prod')).toBeUndefined()
    expect(world.files(gitops, 'stage/staging')).toEqual(['shop-deployment-shop.yaml'])
    expect(world.file(gitops, 'stage/staging', 'shop-deployment-shop.yaml')).toBe(
      world.file(rendered, rendering, manifest)
    )
    // Image freight never enters pipeline 2, nor rendered freight pipeline 1.
    expect(Object.keys(state.stages.staging.freightHistory[0].items)).toEqual([
      'Warehouse/shop-rendered'
    ])
    expect(Object.keys(state.stages.render.freightHistory[0].items)).toEqual([
      'Warehouse/shop-image'
    ])
  })

  it('a new image flows through both pipelines, one run apart; prod takes it by hand', async () => {
    await world.pushImage('acme/shop', '1.1.0')
    world.advance(6)
    expect((await world.run(gitops, 'reconcile')).exitCode).toBe(0)
    expect(world.file(rendered, 'main', manifest)).toContain(image('1.1.0'))
    expect(world.file(gitops, 'stage/staging', 'shop-deployment-shop.yaml')).toContain(
      image('1.0.0')
    )
    const second = head(rendered)
    world.advance(6)
    expect((await world.run(gitops, 'reconcile')).exitCode).toBe(0)
    let state = await world.state(gitops)
    const f2 = freightByCommit(state, second)!
    expect(currentAlias(state, 'staging')).toBe(f2.alias)
    expect(world.file(gitops, 'stage/staging', 'shop-deployment-shop.yaml')).toContain(
      image('1.1.0')
    )
    expect(
      (await world.run(gitops, 'promote', { stage: 'prod', freight: 'latest' })).exitCode
    ).toBe(0)
    state = await world.state(gitops)
    expect(currentAlias(state, 'prod')).toBe(f2.alias)
    expect(world.file(gitops, 'stage/prod', 'shop-deployment-shop.yaml')).toContain(image('1.1.0'))
    expect(
      sh('git', ['--git-dir', gitops.bare, 'log', '-1', '--format=%s', 'stage/prod']).trim()
    ).toBe(`deploy rendered ${second}`)
  })
})
