import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { World, currentAlias, freightByCommit, type Repo } from './harness.js'

/**
 * What a person asks for by hand happens now, and only that: a promote runs that promotion (not
 * other stages' due auto-promotions, inside an approval-gated job), an explicit discovery does not
 * wait for the warehouse interval (only the schedule does), and `latest` means the same thing to
 * approve as to the form that offers it.
 */
describe('explicit asks (examples/config-updater: test and uat auto-promote, prod by hand)', () => {
  let world: World
  let config: Repo
  let c3 = ''
  const configMap = (greeting: string) =>
    `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: guestbook\ndata:\n  GREETING: ${greeting}\n  LOG_LEVEL: info\n`

  beforeAll(async () => {
    world = await World.start()
    config = world.repo('guestbook-config', world.exampleFiles('config-updater'))
    expect((await world.run(config, 'reconcile')).exitCode).toBe(0)
  })
  afterAll(() => world?.close())

  it('promote to prod runs that promotion only: the due auto-promotion of test waits for reconcile', async () => {
    const before = await world.state(config)
    const f0 = currentAlias(before, 'uat')!
    const c1 = world.commit(config, { 'base/configmap.yaml': configMap('Howdy') }, 'greet')
    world.advance(6)
    expect((await world.run(config, 'discover')).exitCode).toBe(0)
    const f1 = freightByCommit(await world.state(config), c1)!
    expect(f1).toBeDefined()

    const res = await world.run(config, 'promote', { stage: 'prod', freight: 'latest' })
    expect(res.exitCode).toBe(0)
    let state = await world.state(config)
    expect(currentAlias(state, 'prod')).toBe(f0)
    expect(currentAlias(state, 'test')).toBe(f0)
    const others = Object.values(state.promotions).filter((p) => p.stage !== 'prod')
    expect(others.map((p) => p.name).sort()).toEqual(
      Object.values(before.promotions)
        .filter((p) => p.stage !== 'prod')
        .map((p) => p.name)
        .sort()
    )

    expect((await world.run(config, 'reconcile')).exitCode).toBe(0)
    state = await world.state(config)
    expect(currentAlias(state, 'test')).toBe(f1.alias)
  })

  it('waybill discover finds a commit made a moment after the last discovery', async () => {
    const c2 = world.commit(config, { 'base/configmap.yaml': configMap('Ahoy') }, 'ahoy')
    const res = await world.run(config, 'discover')
    expect(res.exitCode).toBe(0)
    expect(freightByCommit(await world.state(config), c2)).toBeDefined()
  })

  it('the schedule honours the warehouse interval', async () => {
    c3 = world.commit(config, { 'base/configmap.yaml': configMap('Hej') }, 'hej')
    expect((await world.run(config, 'reconcile')).exitCode).toBe(0)
    expect(freightByCommit(await world.state(config), c3)).toBeUndefined()
    expect((await world.run(config, 'discover', { 'event-name': 'schedule' })).exitCode).toBe(0)
    expect(freightByCommit(await world.state(config), c3)).toBeUndefined()
  })

  it('a repository_dispatch without an image (the manual nudge) discovers every warehouse now', async () => {
    const res = await world.run(config, 'reconcile', {
      'event-name': 'repository_dispatch',
      event: JSON.stringify({ action: 'waybill-discover', client_payload: {} })
    })
    expect(res.exitCode).toBe(0)
    expect(res.logs).toMatch(/refresh every warehouse now/)
    expect(freightByCommit(await world.state(config), c3)).toBeDefined()
  })

  it('approve --freight latest approves the newest freight of the stage’s warehouse', async () => {
    const res = await world.run(config, 'approve', { stage: 'prod', freight: 'latest' })
    expect(res.exitCode).toBe(0)
    const newest = freightByCommit(await world.state(config), c3)!
    expect(JSON.parse(res.outputs!.approved)).toEqual({ stage: 'prod', freight: newest.alias })
    expect(freightByCommit(await world.state(config), c3)!.status.approvedFor.prod).toBeDefined()
    await expect(
      world.run(config, 'approve', { stage: 'prod', freight: 'latest', warehouse: 'nope' })
    ).rejects.toThrow(/does not take freight from warehouse nope/)
  })
})
