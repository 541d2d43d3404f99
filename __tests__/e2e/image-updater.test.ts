import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { World, currentAlias, freightByImageTag, type Repo } from './harness.js'
import { hasDockerRegistry, skipReason } from '../support/registry.js'

const d = hasDockerRegistry ? describe : describe.skip
if (!hasDockerRegistry) console.warn(skipReason)

d('examples/image-updater end to end', () => {
  let world: World
  let gitops: Repo

  beforeAll(async () => {
    world = await World.start({ registry: true })
    gitops = world.repo('gitops', world.exampleFiles('image-updater'))
  })
  afterAll(() => world?.close())

  it('validates as shipped', async () => {
    const res = await world.run(gitops, 'validate')
    expect(res.exitCode).toBe(0)
  })

  it('a new image tag becomes freight and flows through test and uat, not prod', async () => {
    await world.pushImage('acme/guestbook', '1.0.0')
    await world.pushImage('acme/guestbook', '0.9.0') // outside the ^1.0.0 constraint
    const res = await world.run(gitops, 'reconcile')
    expect(res.logs).not.toMatch(/error:/)
    expect(res.exitCode).toBe(0)
    const state = await world.state(gitops)
    const f = freightByImageTag(state, '1.0.0')!
    expect(f).toBeDefined()
    expect(freightByImageTag(state, '0.9.0')).toBeUndefined()
    expect(currentAlias(state, 'test')).toBe(f.alias)
    expect(currentAlias(state, 'uat')).toBe(f.alias)
    expect(currentAlias(state, 'prod')).toBeUndefined()
    expect(f.status.verifiedIn.test).toBeDefined()
    const branches = world.branches(gitops)
    expect(branches).toEqual(
      expect.arrayContaining(['main', 'stage/test', 'stage/uat', 'waybill/state'])
    )
    expect(branches).not.toContain('stage/prod')
    // kustomize-build's kargo layout: one file per resource.
    expect(world.files(gitops, 'stage/test')).toEqual(['guestbook-test-deployment-guestbook.yaml'])
    const deploy = world.file(gitops, 'stage/test', 'guestbook-test-deployment-guestbook.yaml')!
    expect(deploy).toContain(`image: ${world.registry!.host}/acme/guestbook:1.0.0`)
    expect(deploy).toContain('namespace: guestbook-test')
  })

  it('an unchanged reconcile does nothing and commits nothing', async () => {
    const before = world.tip(gitops, 'waybill/state')
    const res = await world.run(gitops, 'reconcile')
    expect(res.exitCode).toBe(0)
    expect(world.tip(gitops, 'waybill/state')).toBe(before)
  })

  it('the next tag replaces it in test and uat after the discovery interval', async () => {
    await world.pushImage('acme/guestbook', '1.1.0')
    world.advance(6)
    await world.run(gitops, 'reconcile')
    const state = await world.state(gitops)
    const f = freightByImageTag(state, '1.1.0')!
    expect(currentAlias(state, 'test')).toBe(f.alias)
    expect(currentAlias(state, 'uat')).toBe(f.alias)
    expect(currentAlias(state, 'prod')).toBeUndefined()
  })

  it('prod is promoted by hand, and the promotion is recorded with its actor', async () => {
    const res = await world.run(gitops, 'promote', { stage: 'prod', freight: 'latest' })
    expect(res.exitCode).toBe(0)
    const state = await world.state(gitops)
    const f = freightByImageTag(state, '1.1.0')!
    expect(currentAlias(state, 'prod')).toBe(f.alias)
    const promo = Object.values(state.promotions).find((p) => p.stage === 'prod')!
    expect(promo.actor).toBe('e2e-tester')
    expect(promo.phase).toBe('Succeeded')
    expect(
      state.audit.some(
        (a) => a.action === 'promote' && a.stage === 'prod' && a.actor === 'e2e-tester'
      )
    ).toBe(true)
  })

  it('refuses to promote freight to prod that uat has not verified', async () => {
    const state = await world.state(gitops)
    const old = freightByImageTag(state, '1.0.0')!
    // 1.0.0 was verified in uat earlier, so it is available: a manual rollback is allowed.
    const rollback = await world.run(gitops, 'promote', { stage: 'prod', freight: old.alias })
    expect(rollback.exitCode).toBe(0)
    await world.pushImage('acme/guestbook', '1.2.0')
    world.advance(6)
    await world.run(gitops, 'discover')
    const s2 = await world.state(gitops)
    const fresh = freightByImageTag(s2, '1.2.0')!
    expect(fresh).toBeDefined()
    await expect(
      world.run(gitops, 'promote', { stage: 'prod', freight: fresh.alias, 'no-run': true })
    ).rejects.toThrow(/not available to prod/)
  })
})
