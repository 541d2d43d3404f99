import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { World, currentAlias, freightByImageTag, type Repo } from './harness.js'
import { hasDockerRegistry, skipReason } from '../support/registry.js'
import type { State } from '../../src/state/types.js'

const d = hasDockerRegistry ? describe : describe.skip
if (!hasDockerRegistry) console.warn(skipReason)

/** Every warehouse whose freight ever entered a stage (its whole freight history). */
function originsSeenIn(state: State, stage: string): string[] {
  const seen = new Set<string>()
  for (const c of state.stages[stage]?.freightHistory ?? [])
    for (const ref of Object.values(c.items)) seen.add(ref.origin.name)
  return [...seen].sort()
}

d('examples/parallel-pipelines end to end', () => {
  let world: World
  let repo: Repo

  beforeAll(async () => {
    world = await World.start({ registry: true })
    repo = world.repo('platform', world.exampleFiles('parallel-pipelines'))
  })
  afterAll(() => world?.close())

  it('validates as shipped', async () => {
    const res = await world.run(repo, 'validate')
    expect(res.exitCode).toBe(0)
  })

  it('an api image moves only the api pipeline, even while the web warehouse fails', async () => {
    await world.pushImage('acme/api', '1.0.0')
    // acme/web has no image yet: its discovery fails, the api pipeline carries on.
    const res = await world.run(repo, 'reconcile')
    expect(res.exitCode).toBe(1)
    expect(res.logs).toMatch(/discovery of warehouse 'web' failed: .*acme\/web not found/)
    const state = await world.state(repo)
    expect(state.warehouses.web.lastError).toMatch(/not found/)
    const api = freightByImageTag(state, '1.0.0')!
    expect(api.origin.name).toBe('api')
    expect(currentAlias(state, 'api-test')).toBe(api.alias)
    expect(currentAlias(state, 'api-prod')).toBeUndefined() // manual
    for (const s of ['web-test', 'web-prod'])
      expect(state.stages[s]?.freightHistory ?? []).toEqual([])
    const branches = world.branches(repo)
    expect(branches).toContain('stage/api-test')
    expect(branches.filter((b) => b.startsWith('stage/web'))).toEqual([])
    expect(world.files(repo, 'stage/api-test')).toEqual(['deployment.yaml'])
    const deploy = world.file(repo, 'stage/api-test', 'deployment.yaml')!
    expect(deploy).toContain(`image: ${world.registry!.host}/acme/api:1.0.0`)
    expect(deploy).toContain('name: api')
  })

  it('a web image moves only the web pipeline', async () => {
    await world.pushImage('acme/web', '2.0.0')
    await world.pushImage('acme/web', '1.9.0') // outside web's ^2.0.0
    world.advance(6)
    const res = await world.run(repo, 'reconcile')
    expect(res.exitCode).toBe(0)
    const state = await world.state(repo)
    const web = freightByImageTag(state, '2.0.0')!
    const api = freightByImageTag(state, '1.0.0')!
    expect(freightByImageTag(state, '1.9.0')).toBeUndefined()
    expect(state.warehouses.web.lastError).toBeUndefined()
    expect(web.origin.name).toBe('web')
    expect(currentAlias(state, 'web-test')).toBe(web.alias)
    expect(currentAlias(state, 'api-test')).toBe(api.alias)
    const deploy = world.file(repo, 'stage/web-test', 'deployment.yaml')!
    expect(deploy).toContain(`image: ${world.registry!.host}/acme/web:2.0.0`)
    expect(deploy).not.toContain('acme/api')
    // The api stage branch was not touched by the web promotion.
    expect(world.file(repo, 'stage/api-test', 'deployment.yaml')).toContain('acme/api:1.0.0')
  })

  it('an image push event discovers only the warehouse subscribed to it', async () => {
    await world.pushImage('acme/api', '1.1.0')
    await world.pushImage('acme/web', '2.1.0')
    world.advance(1)
    // No interval has passed: only the event makes the web warehouse look.
    const res = await world.run(repo, 'reconcile', {
      'event-name': 'repository_dispatch',
      event: JSON.stringify({
        action: 'image-pushed',
        client_payload: { image: `${world.registry!.host}/acme/web`, tag: '2.1.0' }
      })
    })
    expect(res.exitCode).toBe(0)
    expect(res.logs).toMatch(/repository_dispatch: \S+\/acme\/web:2\.1\.0 → web/)
    const state = await world.state(repo)
    const web = freightByImageTag(state, '2.1.0')!
    expect(web).toBeDefined()
    expect(freightByImageTag(state, '1.1.0')).toBeUndefined()
    expect(currentAlias(state, 'web-test')).toBe(web.alias)
    expect(world.file(repo, 'stage/web-test', 'deployment.yaml')).toContain('acme/web:2.1.0')
    expect(world.file(repo, 'stage/api-test', 'deployment.yaml')).toContain('acme/api:1.0.0')
  })

  it('prod of each pipeline takes its own freight by hand, never the other one', async () => {
    let state = await world.state(repo)
    const api = freightByImageTag(state, '1.0.0')!
    const web = freightByImageTag(state, '2.1.0')!
    await expect(
      world.run(repo, 'promote', { stage: 'web-prod', freight: api.alias, 'no-run': true })
    ).rejects.toThrow(/not available to web-prod.*does not request freight from Warehouse\/api/s)
    await expect(
      world.run(repo, 'approve', { stage: 'api-prod', freight: web.alias })
    ).rejects.toThrow(/does not request freight from warehouse web/)
    expect(
      (await world.run(repo, 'promote', { stage: 'api-prod', freight: 'latest' })).exitCode
    ).toBe(0)
    expect(
      (await world.run(repo, 'promote', { stage: 'web-prod', freight: 'latest' })).exitCode
    ).toBe(0)
    state = await world.state(repo)
    expect(currentAlias(state, 'api-prod')).toBe(api.alias)
    expect(currentAlias(state, 'web-prod')).toBe(web.alias)
    expect(world.file(repo, 'stage/api-prod', 'deployment.yaml')).toContain('acme/api:1.0.0')
    expect(world.file(repo, 'stage/web-prod', 'deployment.yaml')).toContain('acme/web:2.1.0')
    for (const s of ['api-test', 'api-prod']) expect(originsSeenIn(state, s)).toEqual(['api'])
    for (const s of ['web-test', 'web-prod']) expect(originsSeenIn(state, s)).toEqual(['web'])
    for (const f of Object.values(state.freight)) {
      const stages = [...Object.keys(f.status.verifiedIn), ...Object.keys(f.status.currentlyIn)]
      expect(stages.every((s) => s.startsWith(`${f.origin.name}-`))).toBe(true)
    }
  })
})
