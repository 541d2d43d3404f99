import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { World, freightByCommit, lastPromotion, type Repo } from './harness.js'


/**
 * Approvals and input from GitHub identities: a promotion waits on wait-for-approval until a
 * member of the team approves (others do not count), then on get-user-input until a maintainer
 * submits values that match the schema; a rejection fails the promotion. Real git, the fake
 * GitHub (OpenAPI-validated) answering the team and permission lookups.
 */
describe('wait-for-approval and get-user-input (fake GitHub)', () => {
  let world: World
  let app: Repo
  let gitops: Repo
  const gh = { repository: 'acme/gitops' }
  const respond = (actor: string, args: Record<string, string | boolean>) =>
    world.run(gitops, 'respond', { stage: 'prod', ...args }, { ...gh, actor })

  beforeAll(async () => {
    world = await World.start({ github: true })
    app = world.repo('app', { 'main.go': 'package main\n' })
    gitops = world.repo('gitops', world.exampleFiles('approvals'))
    world.github!.teams.set('acme/sre', new Set(['alice']))
    world.github!.collaborators.set(
      'acme/gitops',
      new Map([
        ['alice', 'write'],
        ['bob', 'maintain'],
        ['mallory', 'admin']
      ])
    )
  })
  afterAll(async () => {
    world?.github?.assertNoViolations()
    await world?.close()
  })

  it('waits for a matching approval, then for input that matches the schema', async () => {
    const c = world.commit(app, { 'main.go': 'package main // 1\n' })
    expect((await world.run(gitops, 'reconcile', {}, gh)).exitCode).toBe(0)
    let state = await world.state(gitops)
    const f = freightByCommit(state, c)!
    let p = lastPromotion(state, 'prod', f.name)!
    expect(p.phase).toBe('Running')
    expect(p.message).toContain('waiting for approval: 0 of 1 from team acme/sre')

    // mallory is an admin of the repository but not in the team: recorded, not counted.
    const notCounted = await respond('mallory', { approve: true, message: 'ship it' })
    expect(notCounted.exitCode).toBe(0)
    state = await world.state(gitops)
    p = lastPromotion(state, 'prod', f.name)!
    expect(p.phase).toBe('Running')
    expect(p.message).toContain('not counted (no rule matches): mallory')

    const approved = await respond('alice', { approve: true })
    expect(approved.exitCode).toBe(0)
    state = await world.state(gitops)
    p = lastPromotion(state, 'prod', f.name)!
    expect(p.phase).toBe('Running')
    expect(p.state.approve).toEqual({
      responses: [expect.objectContaining({ user: 'alice', action: 'approve' })]
    })
    expect(p.message).toContain('waiting for input (Release details) from role maintain')

    // A submission that violates the schema is refused with the field and the rule.
    await expect(respond('bob', { input: '{"version":"latest"}' })).rejects.toThrow(
      /does not match the schema of step 'details': version: must match pattern/
    )
    // Bob is a maintainer: the promotion finishes with his values as outputs.
    const input = await respond('bob', { response: '{"version":"v1.2.3"}' })
    expect(input.exitCode).toBe(0)
    state = await world.state(gitops)
    p = lastPromotion(state, 'prod', f.name)!
    expect(p.phase).toBe('Succeeded')
    expect(p.state.details).toEqual({
      values: { version: 'v1.2.3' },
      respondedBy: 'bob',
      respondedAt: expect.any(String)
    })
    // Every response is in the audit trail with its actor and time.
    const audit = state.audit.filter(
      (a) => a.promotion === p.name && a.action.startsWith('respond')
    )
    expect(audit.map((a) => [a.actor, a.action])).toEqual([
      ['mallory', 'respond-approve'],
      ['alice', 'respond-approve'],
      ['bob', 'respond-input']
    ])
    expect(audit.every((a) => !Number.isNaN(Date.parse(a.at)))).toBe(true)
  })

  it('a rejection by an approver fails the promotion', async () => {
    const c = world.commit(app, { 'main.go': 'package main // 2\n' })
    world.advance(10)
    await world.run(gitops, 'reconcile', {}, gh)
    const f = freightByCommit(await world.state(gitops), c)!
    expect(lastPromotion(await world.state(gitops), 'prod', f.name)!.phase).toBe('Running')
    // An input does not answer an approval step.
    await expect(respond('alice', { input: '{}' })).rejects.toThrow(
      /not waiting on a get-user-input step/
    )
    const res = await respond('alice', { reject: true, message: 'not today' })
    expect(res.exitCode).toBe(0)
    const p = lastPromotion(await world.state(gitops), 'prod', f.name)!
    expect(p.phase).toBe('Failed')
    expect(p.message).toContain('rejected by alice')
    expect(p.message).toContain('not today')
  })
})
