import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { World, currentAlias, freightByImageTag, type Repo } from './harness.js'
import { sh } from '../support/git.js'
import { hasDockerRegistry, skipReason } from '../support/registry.js'

const d = hasDockerRegistry ? describe : describe.skip
if (!hasDockerRegistry) console.warn(skipReason)

d('examples/kustomize-layout end to end', () => {
  let world: World
  let deploy: Repo
  let image: string
  const rendered = (stage: string, kind: string) =>
    world.file(deploy, `stage/${stage}`, `shop-${stage}-${kind}-shop.yaml`)

  beforeAll(async () => {
    world = await World.start({ registry: true })
    deploy = world.repo('shop-deploy', world.exampleFiles('kustomize-layout'))
    image = `${world.registry!.host}/acme/shop`
  })
  afterAll(() => world?.close())

  it('validates as shipped', async () => {
    expect((await world.run(deploy, 'validate')).exitCode).toBe(0)
  })

  it('a new tag is set in each overlay and base + overlay are rendered per resource', async () => {
    await world.pushImage('acme/shop', '2.0.0')
    await world.pushImage('acme/shop', '1.9.0') // outside ^2.0.0
    const res = await world.run(deploy, 'reconcile')
    expect(res.logs).not.toMatch(/error:/)
    expect(res.exitCode).toBe(0)
    const state = await world.state(deploy)
    const f = freightByImageTag(state, '2.0.0')!
    expect(currentAlias(state, 'test')).toBe(f.alias)
    expect(currentAlias(state, 'uat')).toBe(f.alias)
    expect(currentAlias(state, 'prod')).toBeUndefined()
    for (const stage of ['test', 'uat']) {
      expect(world.files(deploy, `stage/${stage}`).sort()).toEqual([
        `shop-${stage}-deployment-shop.yaml`,
        `shop-${stage}-service-shop.yaml`
      ])
      const dep = rendered(stage, 'deployment')!
      expect(dep).toContain(`image: ${image}:2.0.0`)
      expect(dep).toContain(`namespace: shop-${stage}`)
      expect(dep).toContain('replicas: 1')
      expect(rendered(stage, 'service')).toContain('targetPort: http')
    }
    // The commit message is kustomize-set-image's, as Kargo writes it.
    const msg = sh('git', ['--git-dir', deploy.bare, 'log', '-1', '--format=%B', 'stage/test'])
    expect(msg).toContain(`${image}:2.0.0`)
    // The overlays on main are untouched: the edit lives in the promotion's working copy only.
    expect(world.file(deploy, 'main', 'stages/test/kustomization.yaml')).toContain(
      'newTag: placeholder'
    )
  })

  it('prod renders its own patch (3 replicas) when promoted by hand', async () => {
    expect(
      (await world.run(deploy, 'promote', { stage: 'prod', freight: 'latest' })).exitCode
    ).toBe(0)
    const dep = rendered('prod', 'deployment')!
    expect(dep).toContain('replicas: 3')
    expect(dep).toContain(`image: ${image}:2.0.0`)
    expect(dep).toContain('namespace: shop-prod')
  })

  it('the next tag moves test and uat; prod keeps what it was given', async () => {
    await world.pushImage('acme/shop', '2.1.0')
    world.advance(6)
    await world.run(deploy, 'reconcile')
    const state = await world.state(deploy)
    expect(currentAlias(state, 'uat')).toBe(freightByImageTag(state, '2.1.0')!.alias)
    expect(rendered('test', 'deployment')).toContain(`image: ${image}:2.1.0`)
    expect(rendered('uat', 'deployment')).toContain(`image: ${image}:2.1.0`)
    expect(rendered('prod', 'deployment')).toContain(`image: ${image}:2.0.0`)
  })
})
