import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { World, currentAlias, freightByImageTag, type Repo } from './harness.js'
import { hasDockerRegistry, skipReason } from '../support/registry.js'

const d = hasDockerRegistry ? describe : describe.skip
if (!hasDockerRegistry) console.warn(skipReason)

d('examples/helm-layout end to end', () => {
  let world: World
  let chart: Repo
  let image: string
  const manifests = (stage: string) => world.file(chart, `stage/${stage}`, 'manifests.yaml')
  const values = (stage: string) => world.file(chart, 'main', `stages/${stage}/values.yaml`)

  beforeAll(async () => {
    world = await World.start({ registry: true })
    chart = world.repo('shop-chart', world.exampleFiles('helm-layout'))
    image = `${world.registry!.host}/acme/shop`
  })
  afterAll(() => world?.close())

  it('validates as shipped', async () => {
    expect((await world.run(chart, 'validate')).exitCode).toBe(0)
  })

  it('a new tag is written to the stage values and the chart is rendered per stage', async () => {
    await world.pushImage('acme/shop', '3.1.0')
    const res = await world.run(chart, 'reconcile')
    expect(res.logs).not.toMatch(/error:/)
    expect(res.exitCode).toBe(0)
    const state = await world.state(chart)
    const f = freightByImageTag(state, '3.1.0')!
    expect(currentAlias(state, 'test')).toBe(f.alias)
    expect(currentAlias(state, 'uat')).toBe(f.alias)
    expect(currentAlias(state, 'prod')).toBeUndefined()
    for (const stage of ['test', 'uat']) {
      expect(world.files(chart, `stage/${stage}`)).toEqual(['manifests.yaml'])
      const m = manifests(stage)!
      expect(m).toContain('# Source: shop/templates/deployment.yaml')
      expect(m).toContain('# Source: shop/templates/service.yaml')
      expect(m).toContain(`image: "${image}:3.1.0"`)
      expect(m).toContain(`namespace: shop-${stage}`)
      expect(m).toContain('name: shop-shop')
      expect(m).toContain('replicas: 1')
      expect(m).toContain('value: "Hello"')
      expect(m).toContain('helm.sh/chart: shop-0.3.0')
      // yaml-update kept the comments of the stage values on main.
      expect(values(stage)).toBe(
        `# ${stage}: overrides of ../../values.yaml. image.tag is set by each promotion (yaml-update).\n` +
          `replicaCount: 1\nimage:\n  tag: 3.1.0 # the tag ${stage} runs`
      )
    }
    expect(values('prod')).toContain('tag: 3.0.0 # the tag prod runs')
  })

  it('the values commits on main are not freight (the warehouse watches the image only)', async () => {
    world.advance(6)
    await world.run(chart, 'reconcile')
    expect(Object.keys((await world.state(chart)).freight)).toHaveLength(1)
  })

  it('prod renders with its values (3 replicas) when promoted by hand', async () => {
    expect((await world.run(chart, 'promote', { stage: 'prod', freight: 'latest' })).exitCode).toBe(
      0
    )
    const m = manifests('prod')!
    expect(m).toContain('replicas: 3')
    expect(m).toContain('namespace: shop-prod')
    expect(m).toContain(`image: "${image}:3.1.0"`)
    expect(values('prod')).toContain('tag: 3.1.0 # the tag prod runs')
  })

  it('a base values change in the chart reaches every stage on its next promotion', async () => {
    const base = world.exampleFiles('helm-layout')['values.yaml']
    world.commit(chart, { 'values.yaml': base.replace('greeting: Hello', 'greeting: Howdy') })
    await world.pushImage('acme/shop', '3.2.0')
    world.advance(6)
    await world.run(chart, 'reconcile')
    const state = await world.state(chart)
    expect(currentAlias(state, 'uat')).toBe(freightByImageTag(state, '3.2.0')!.alias)
    expect(manifests('uat')).toContain('value: "Howdy"')
    expect(manifests('uat')).toContain(`image: "${image}:3.2.0"`)
    expect(manifests('prod')).toContain('value: "Hello"')
  })
})
