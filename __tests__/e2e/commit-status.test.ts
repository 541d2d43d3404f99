import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { World, currentAlias, freightByCommit, lastPromotion, type Repo } from './harness.js'
import type { FakeCommitStatus } from '../support/github-fake.js'
import { sh } from '../support/git.js'
import type { CommandArgs } from '../../src/runtime/context.js'
import { statusContext, statusDescription } from '../../src/integrations/commit-status.js'
import { registerSecret } from '../../src/util/logger.js'

const RUN_URL = 'https://github.com/acme/gitops/actions/runs/1'

/**
 * examples/enterprise-steps end to end: commit statuses `waybill/<stage>` on the application
 * commit and the stage branches, verifications gated on statuses (another tool's and Waybill's
 * own), and prod dispatching the application's deploy workflow and waiting for it across runs.
 */
describe('examples/enterprise-steps: commit statuses and GitHub Actions workflows', () => {
  let world: World
  let shop: Repo
  let gitops: Repo
  let c0 = ''
  let c1 = ''

  beforeAll(async () => {
    world = await World.start({ github: true })
    shop = world.repo('shop', { 'src/app.txt': 'v0\n' })
    world.github!.addWorkflow('acme/shop', 'deploy.yml', { name: 'Deploy' })
    gitops = world.repo('gitops', world.exampleFiles('enterprise-steps'))
    c0 = world.commit(shop, { 'src/app.txt': 'v1\n' }, 'feature one')
  })
  afterAll(() => world?.close())

  const run = (name: string, args: CommandArgs = {}) =>
    world.run(gitops, name, args, { commitStatuses: true, repository: 'acme/gitops' })

  /** States of a context on a commit, oldest first. */
  const statuses = (repo: string, sha: string, context: string): FakeCommitStatus[] =>
    world.github!.statuses.filter((s) => s.repo === repo && s.sha === sha && s.context === context)
  const states = (repo: string, sha: string, context: string) =>
    statuses(repo, sha, context).map((s) => s.state)
  const head = (branch: string) =>
    world.branches(gitops).includes(branch) ? world.file(gitops, branch, 'version.txt') : undefined
  /** The commit a stage branch of the config repository points at. */
  const branchSha = (branch: string) =>
    sh('git', ['--git-dir', gitops.bare, 'rev-parse', `refs/heads/${branch}`])
  /** Another tool reports on the application commit. */
  const report = (sha: string, context: string, state: FakeCommitStatus['state']) =>
    world.github!.statuses.push({
      repo: 'acme/shop',
      sha,
      id: 900000 + world.github!.statuses.length,
      state,
      context,
      description: null,
      target_url: null,
      createdAt: new Date().toISOString()
    })

  it('validates as shipped', async () => {
    expect((await run('validate')).exitCode).toBe(0)
  })

  it('promotions set waybill/<stage> pending on the source commit and the stage branch while verifying', async () => {
    const res = await run('reconcile')
    expect(res.exitCode).toBe(0)
    const state = await world.state(gitops)
    const f = freightByCommit(state, c0)!
    expect(currentAlias(state, 'test')).toBe(f.alias)
    expect(currentAlias(state, 'uat')).toBe(f.alias)
    expect(head('stage/test')).toBe(c0)

    // The application commit: pending from the start of the promotion, still pending (verifying).
    const onSource = statuses('acme/shop', c0, 'waybill/test')
    expect(onSource[0]).toMatchObject({
      state: 'pending',
      description: `Promoting ${f.alias} to test`,
      target_url: RUN_URL
    })
    expect(onSource.at(-1)!.state).toBe('pending')
    expect(states('acme/shop', c0, 'waybill/uat').at(-1)).toBe('pending')
    // The commit the promotion pushed to stage/test.
    const pushed = branchSha('stage/test')
    expect(states('acme/gitops', pushed, 'waybill/test')).toEqual(['pending'])
    expect(statuses('acme/gitops', pushed, 'waybill/test')[0].description).toBe(
      `${f.alias} promoted to test; verifying`
    )
    // A later run with nothing new posts nothing again.
    const before = world.github!.statuses.length
    expect((await run('reconcile')).exitCode).toBe(0)
    expect(world.github!.statuses.length).toBe(before)
    world.github!.assertNoViolations()
  })

  it("another tool's status gates test; waybill/test gates uat's verification", async () => {
    report(c0, 'ci/smoke', 'success')
    expect((await run('reconcile')).exitCode).toBe(0)
    const state = await world.state(gitops)
    const f = freightByCommit(state, c0)!
    expect(f.status.verifiedIn.test).toBeDefined()
    expect(f.status.verifiedIn.uat).toBeDefined()
    expect(states('acme/shop', c0, 'waybill/test').at(-1)).toBe('success')
    expect(states('acme/shop', c0, 'waybill/uat').at(-1)).toBe('success')
    expect(statuses('acme/shop', c0, 'waybill/test').at(-1)!.description).toBe(
      `${f.alias} verified in test`
    )
    expect(states('acme/gitops', branchSha('stage/test'), 'waybill/test')).toEqual([
      'pending',
      'success'
    ])
    expect(states('acme/gitops', branchSha('stage/uat'), 'waybill/uat').at(-1)).toBe('success')
    world.github!.assertNoViolations()
  })

  it('a failed check fails test, and uat with it (failure on the new commit only)', async () => {
    c1 = world.commit(shop, { 'src/app.txt': 'v2\n' }, 'feature two')
    world.advance(10) // the warehouse's interval
    const res = await run('reconcile')
    expect(res.logs).not.toMatch(/error|warning/i)
    expect(res.exitCode).toBe(0)
    expect(states('acme/shop', c1, 'waybill/test').at(-1)).toBe('pending')
    report(c1, 'ci/smoke', 'failure')
    await run('reconcile')
    expect(states('acme/shop', c1, 'waybill/test').at(-1)).toBe('failure')
    expect(statuses('acme/shop', c1, 'waybill/test').at(-1)!.description).toMatch(
      /^Verification of .* in test failed: /
    )
    expect(states('acme/shop', c1, 'waybill/uat').at(-1)).toBe('failure')
    // The earlier commit keeps what it earned.
    expect(states('acme/shop', c0, 'waybill/test').at(-1)).toBe('success')
    world.github!.assertNoViolations()
  })

  it('prod dispatches the deploy workflow, waits for it across runs, then sets success', async () => {
    // uat verified c0 in the earlier reconcile: prod took it and waits for the deploy workflow.
    const state = await world.state(gitops)
    const waiting = lastPromotion(state, 'prod')!
    expect(waiting.freight).toBe(freightByCommit(state, c0)!.name)
    expect(waiting.phase).toBe('Running')
    const runID = (waiting.state['dispatch-deployment'] as { runID: number }).runID
    const wf = world.github!.workflowRuns.find((r) => r.id === runID)!
    expect(wf).toMatchObject({ repo: 'acme/shop', event: 'workflow_dispatch', headBranch: 'main' })
    expect(wf.inputs).toEqual({ environment: 'prod', commit: c0, promotion_id: waiting.name })
    expect(states('acme/shop', c0, 'waybill/prod')).toEqual(['pending'])

    // The next scheduled run: the workflow is still running.
    wf.status = 'in_progress'
    await run('reconcile')
    expect(lastPromotion(await world.state(gitops), 'prod')!.phase).toBe('Running')

    world.github!.finishRun(runID, 'success')
    await run('reconcile')
    const done = lastPromotion(await world.state(gitops), 'prod')!
    expect(done.name).toBe(waiting.name)
    expect(done.phase).toBe('Succeeded')
    expect(Object.values(done.state)).toContainEqual(
      expect.objectContaining({ conclusion: 'success' })
    )
    expect(world.github!.workflowRuns.filter((r) => r.repo === 'acme/shop')).toHaveLength(1)
    // prod has no verification: success as soon as the promotion succeeds.
    expect(states('acme/shop', c0, 'waybill/prod')).toEqual(['pending', 'success'])
    expect(states('acme/gitops', branchSha('stage/prod'), 'waybill/prod')).toEqual(['success'])
    world.github!.assertNoViolations()
  })
})

describe('statusDescription', () => {
  it('is one line of at most 140 characters, secrets masked', () => {
    registerSecret('s3cr3t-status-token')
    const d = statusDescription(
      `Promotion of brave-otter to prod failed:\nhelm said\ts3cr3t-status-token\u0007 ${'x'.repeat(200)}`
    )
    expect(d).toHaveLength(140)
    expect(d.endsWith('…')).toBe(true)
    expect(d).toMatch(/^Promotion of brave-otter to prod failed: helm said \*\*\* x+/)
    for (const c of ['\n', '\t', '\u0007']) expect(d).not.toContain(c)
    expect(statusContext('prod')).toBe('waybill/prod')
  })
})
