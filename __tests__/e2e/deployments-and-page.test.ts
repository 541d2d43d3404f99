import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { World, currentAlias, freightByImageTag, type Repo } from './harness.js'
import { hasDockerRegistry, skipReason } from '../support/registry.js'

const d = hasDockerRegistry ? describe : describe.skip
if (!hasDockerRegistry) console.warn(skipReason)

/** GitHub-native views of a pipeline: Deployments per promotion and the published status page. */
d('GitHub deployments and the status page', () => {
  let world: World
  let gitops: Repo

  beforeAll(async () => {
    world = await World.start({ registry: true, github: true })
    gitops = world.repo('gitops', world.exampleFiles('image-updater'))
  })
  afterAll(() => world?.close())

  it('records each promotion as a deployment to the stage environment, in_progress then success', async () => {
    await world.pushImage('acme/guestbook', '1.0.0')
    const res = await world.run(
      gitops,
      'reconcile',
      { 'publish-page': true },
      { deployments: true, repository: 'acme/gitops' }
    )
    expect(res.exitCode).toBe(0)
    const state = await world.state(gitops)
    const f = freightByImageTag(state, '1.0.0')!
    expect(currentAlias(state, 'uat')).toBe(f.alias)
    const envs = world.github!.deployments.map((d) => d.environment).sort()
    expect(envs).toEqual(['test', 'uat'])
    const testDeployment = world.github!.deployments.find((d) => d.environment === 'test')!
    expect(JSON.stringify(testDeployment.payload)).toContain(f.alias)
    expect(testDeployment.statuses.map((s) => s.state)).toEqual(['in_progress', 'success'])
    world.github!.assertNoViolations()
  })

  it('publishes index.html on the state branch, and only when the pipeline changed', async () => {
    const page = world.file(gitops, 'waybill/state', 'index.html')!
    expect(page).toContain('<html')
    expect(page).toContain('uat')
    const state = await world.state(gitops)
    expect(page).toContain(currentAlias(state, 'uat')!)
    const before = world.file(gitops, 'waybill/state', 'index.html')
    const stateBefore = world.tip(gitops, 'waybill/state')
    const tip = world.branches(gitops).length
    const res = await world.run(gitops, 'reconcile', { 'publish-page': true })
    expect(res.exitCode).toBe(0)
    expect(world.tip(gitops, 'waybill/state')).toBe(stateBefore)
    expect(world.file(gitops, 'waybill/state', 'index.html')).toBe(before)
    expect(world.branches(gitops).length).toBe(tip)
  })
})
