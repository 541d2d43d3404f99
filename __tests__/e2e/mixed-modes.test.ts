import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { World, currentAlias, freightByImageTag, type Repo } from './harness.js'
import type { State } from '../../src/state/types.js'
import { hasDockerRegistry, skipReason } from '../support/registry.js'

const d = hasDockerRegistry ? describe : describe.skip
if (!hasDockerRegistry) console.warn(skipReason)

d('examples/mixed-promotion-modes end to end', () => {
  let world: World
  let gitops: Repo
  const rendered = (stage: string) => world.file(gitops, `stage/${stage}`, 'manifests.yaml')
  const tagOf = (state: State, stage: string) => {
    const name = state.stages[stage]?.freightHistory[0]?.items
    const f =
      name && Object.values(name)[0] ? state.freight[Object.values(name)[0].name] : undefined
    return f?.images[0].tag
  }
  const api = (state: State, tag: string) =>
    Object.values(state.freight).find((f) => f.origin.name === 'api' && f.images[0].tag === tag)!

  beforeAll(async () => {
    world = await World.start({ registry: true })
    gitops = world.repo('gitops', world.exampleFiles('mixed-promotion-modes'))
  })
  afterAll(() => world?.close())

  it('validates as shipped', async () => {
    expect((await world.run(gitops, 'validate')).exitCode).toBe(0)
  })

  it('api flows automatically up to uat; web makes freight but enters no stage', async () => {
    await world.pushImage('acme/api', '1.0.0')
    await world.pushImage('acme/web', '1.0.0')
    expect((await world.run(gitops, 'reconcile')).exitCode).toBe(0)
    const state = await world.state(gitops)
    expect(tagOf(state, 'api-test')).toBe('1.0.0')
    expect(tagOf(state, 'api-uat')).toBe('1.0.0')
    expect(tagOf(state, 'api-prod')).toBeUndefined()
    expect(rendered('api-uat')).toContain('acme/api:1.0.0')
    expect(rendered('api-uat')).toContain('namespace: api-uat')
    expect(Object.values(state.freight).filter((f) => f.origin.name === 'web')).toHaveLength(1)
    for (const s of ['web-test', 'web-uat', 'web-prod'])
      expect(state.stages[s]?.freightHistory.length ?? 0).toBe(0)
    expect(
      world
        .branches(gitops)
        .filter((b) => b.startsWith('stage/'))
        .sort()
    ).toEqual(['stage/api-test', 'stage/api-uat'])
  })

  it('web: a person picks an older, known-good freight for web-test; it then moves to web-uat by itself', async () => {
    await world.pushImage('acme/web', '1.1.0') // a build nobody should deploy
    world.advance(6)
    await world.run(gitops, 'reconcile')
    let state = await world.state(gitops)
    expect(state.stages['web-test']?.freightHistory.length ?? 0).toBe(0)
    const chosen = Object.values(state.freight).find(
      (f) => f.origin.name === 'web' && f.images[0].tag === '1.0.0'
    )!
    const res = await world.run(gitops, 'promote', { stage: 'web-test', freight: chosen.alias })
    expect(res.exitCode).toBe(0)
    // promote runs only that promotion; web-uat follows on the next reconcile.
    expect(tagOf(await world.state(gitops), 'web-uat')).toBeUndefined()
    await world.run(gitops, 'reconcile')
    state = await world.state(gitops)
    expect(tagOf(state, 'web-test')).toBe('1.0.0')
    expect(tagOf(state, 'web-uat')).toBe('1.0.0')
    expect(tagOf(state, 'web-prod')).toBeUndefined()
    expect(rendered('web-uat')).toContain('acme/web:1.0.0')
    // web-test is manual: picking older freight there sets no hold and nothing replaces it.
    expect(state.stages['web-test'].autoPromotionHolds).toEqual({})
    world.advance(6)
    await world.run(gitops, 'reconcile')
    expect(tagOf(await world.state(gitops), 'web-test')).toBe('1.0.0')
  })

  it('api-prod only moves by hand', async () => {
    const res = await world.run(gitops, 'promote', { stage: 'api-prod', freight: 'latest' })
    expect(res.exitCode).toBe(0)
    const state = await world.state(gitops)
    expect(tagOf(state, 'api-prod')).toBe('1.0.0')
    expect(rendered('api-prod')).toContain('acme/api:1.0.0')
    expect(Object.values(state.promotions).find((p) => p.stage === 'api-prod')!.auto).toBe(false)
  })

  it('a manual rollback in an auto-promoted stage holds auto-promotion until the newest is promoted again', async () => {
    await world.pushImage('acme/api', '1.1.0')
    world.advance(6)
    await world.run(gitops, 'reconcile')
    let state = await world.state(gitops)
    expect(tagOf(state, 'api-uat')).toBe('1.1.0')

    // Roll api-uat back to 1.0.0 by hand.
    const rollback = await world.run(gitops, 'promote', {
      stage: 'api-uat',
      freight: api(state, '1.0.0').alias
    })
    expect(rollback.exitCode).toBe(0)
    state = await world.state(gitops)
    expect(tagOf(state, 'api-uat')).toBe('1.0.0')
    expect(state.stages['api-uat'].autoPromotionHolds['Warehouse/api']).toMatchObject({
      freightName: api(state, '1.0.0').name,
      actor: 'e2e-tester'
    })

    // Newer freight keeps flowing to api-test, but api-uat stays rolled back.
    await world.pushImage('acme/api', '1.2.0')
    world.advance(6)
    const res = await world.run(gitops, 'reconcile')
    expect(res.logs).toMatch(/auto-promotion of \S+ to api-uat skipped: held by e2e-tester/)
    state = await world.state(gitops)
    expect(tagOf(state, 'api-test')).toBe('1.2.0')
    expect(tagOf(state, 'api-uat')).toBe('1.0.0')
    expect(rendered('api-uat')).toContain('acme/api:1.0.0')

    // Promoting the newest by hand lifts the hold; the next image flows automatically again.
    expect(
      (await world.run(gitops, 'promote', { stage: 'api-uat', freight: 'latest' })).exitCode
    ).toBe(0)
    state = await world.state(gitops)
    expect(tagOf(state, 'api-uat')).toBe('1.2.0')
    expect(state.stages['api-uat'].autoPromotionHolds).toEqual({})
    await world.pushImage('acme/api', '1.3.0')
    world.advance(6)
    await world.run(gitops, 'reconcile')
    state = await world.state(gitops)
    expect(tagOf(state, 'api-uat')).toBe('1.3.0')
    expect(currentAlias(state, 'api-uat')).toBe(freightByImageTag(state, '1.3.0')!.alias)
    expect(tagOf(state, 'api-prod')).toBe('1.0.0')
  })
})
