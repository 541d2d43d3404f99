import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { World, currentAlias, freightByCommit, type Repo } from './harness.js'
import type { State } from '../../src/state/types.js'
import type { FakeCheckRun, FakeCommitStatus } from '../support/github-fake.js'
import { stageYaml, gitWarehouseYaml, autoPromoteAllYaml } from '../support/resources.js'

/**
 * Waybill verification end to end: HTTP checks against a server this test controls, GitHub checks
 * against the fake GitHub API, the verification timeout, re-verification, and Kargo's
 * analysisTemplates (skipped). Freight is Git commits of acme/app; every stage deploys by writing
 * the commit to its stage branch.
 */

/** What the app's health endpoint answers: the commit it runs, or an outage. */
interface Health {
  status: number
  commit?: string
}

function config(healthURL: string): Record<string, string> {
  const stage = (name: string, sources: string, extra = '') =>
    stageYaml(name, { warehouse: 'app', sources, task: 'deploy', extra: extra })
  return {
    '.waybill/warehouse.yaml': gitWarehouseYaml('app', 'https://github.com/acme/app.git'),
    '.waybill/task.yaml': `apiVersion: kargo.akuity.io/v1alpha1
kind: PromotionTask
metadata:
  name: deploy
spec:
  steps:
    - uses: git-clone
      config:
        repoURL: https://github.com/acme/gitops.git
        checkout:
          - branch: stage/\${{ ctx.stage }}
            create: true
            path: ./out
    - uses: file-write
      config:
        path: ./out/version.txt
        overwrite: true
        contents: \${{ commitFrom('https://github.com/acme/app.git').ID }}
    - uses: git-commit
      config:
        path: ./out
        message: deploy \${{ commitFrom('https://github.com/acme/app.git').ID }}
    - uses: git-push
      config:
        path: ./out
        targetBranch: stage/\${{ ctx.stage }}
`,
    '.waybill/stages.yaml': [
      stage(
        'test',
        '{ direct: true }',
        `  verification:
    timeout: 10m
    checks:
      - name: smoke
        http:
          url: ${healthURL}
          successExpression: response.status == 200 && response.body.commit == '\${{ commitFrom("https://github.com/acme/app.git").ID }}'
          failureExpression: response.status >= 500
`
      ),
      stage(
        'uat',
        '{ stages: [test] }',
        `  verification:
    checks:
      - name: e2e
        githubChecks:
          repoURL: https://github.com/acme/app
          ref: \${{ commitFrom("https://github.com/acme/app.git").ID }}
          names: [e2e-tests]
`
      ),
      stage('prod', '{ stages: [uat] }'),
      stage(
        'perf',
        '{ stages: [test] }',
        `  verification:
    analysisTemplates:
      - name: load-test
`
      )
    ].join('---\n'),
    '.waybill/project-config.yaml': autoPromoteAllYaml('app')
  }
}

/** Fails with the run's logs when a command did not exit 0. */
function ok(res: { exitCode: number; logs: string }): void {
  if (res.exitCode !== 0) throw new Error(`exit code ${res.exitCode}\n${res.logs}`)
}

describe('verification end to end', () => {
  let world: World
  let gitops: Repo
  let app: Repo
  let server: http.Server
  let health: Health = { status: 503 }
  let hits = 0

  const lastVerification = (state: State, stage: string) =>
    state.stages[stage]?.freightHistory[0]?.verificationHistory[0]
  const deployed = (stage: string) => world.file(gitops, `stage/${stage}`, 'version.txt')
  const checkRun = (
    sha: string,
    status: FakeCheckRun['status'],
    conclusion: FakeCheckRun['conclusion']
  ) => world.github!.addCheckRun('acme/app', { sha, name: 'e2e-tests', status, conclusion })

  beforeAll(async () => {
    server = http.createServer({ keepAlive: false }, (_req, res) => {
      hits++
      res.writeHead(health.status, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ commit: health.commit ?? null }))
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/healthz`
    world = await World.start({ github: true })
    app = world.repo('app', { 'main.go': 'package main\n' })
    gitops = world.repo('gitops', config(url))
  })
  afterAll(async () => {
    server?.closeAllConnections()
    await new Promise((resolve) => server?.close(resolve))
    world.github?.assertNoViolations()
    await world?.close()
  })

  it('an HTTP check that is not yet true leaves verification Running; downstream waits', async () => {
    const c1 = world.commit(app, {}, 'first') // the freight: app's newest commit
    health = { status: 200, commit: 'an-older-build' }
    const res = await world.run(gitops, 'reconcile')
    expect(res.exitCode).toBe(0)
    const state = await world.state(gitops)
    const f = freightByCommit(state, c1)!
    expect(currentAlias(state, 'test')).toBe(f.alias)
    expect(deployed('test')).toBe(c1)
    expect(lastVerification(state, 'test')).toMatchObject({ phase: 'Running' })
    expect(lastVerification(state, 'test').message).toMatch(/smoke/)
    expect(f.status.verifiedIn.test).toBeUndefined()
    for (const s of ['uat', 'perf', 'prod']) expect(currentAlias(state, s)).toBeUndefined()
    expect(hits).toBeGreaterThan(0)
  })

  it('the next reconcile re-evaluates it: Successful, and the freight moves on', async () => {
    const state0 = await world.state(gitops)
    const c1 = deployed('test')!
    health = { status: 200, commit: c1 }
    world.advance(1)
    ok(await world.run(gitops, 'reconcile'))
    const state = await world.state(gitops)
    const f = freightByCommit(state, c1)!
    expect(lastVerification(state, 'test')).toMatchObject({ phase: 'Successful' })
    expect(lastVerification(state, 'test').id).toBe(lastVerification(state0, 'test').id)
    expect(f.status.verifiedIn.test).toBeDefined()
    // perf: analysisTemplates alone are skipped and the freight verifies.
    expect(currentAlias(state, 'perf')).toBe(f.alias)
    expect(lastVerification(state, 'perf')).toMatchObject({ phase: 'Successful' })
    expect(lastVerification(state, 'perf').message).toMatch(
      /skipped analysisTemplates \(load-test\)/
    )
    expect(f.status.verifiedIn.perf).toBeDefined()
    // uat: promoted, waiting for GitHub checks that have not reported yet.
    expect(currentAlias(state, 'uat')).toBe(f.alias)
    expect(deployed('uat')).toBe(c1)
    expect(lastVerification(state, 'uat')).toMatchObject({ phase: 'Running' })
    expect(lastVerification(state, 'uat').message).toMatch(/waiting for checks/)
    expect(currentAlias(state, 'prod')).toBeUndefined()
  })

  it('GitHub checks: pending → Running, then success → Successful and prod follows', async () => {
    const c1 = deployed('test')!
    // A commit status still pending (check runs in progress are reported the same way).
    const status: FakeCommitStatus = {
      repo: 'acme/app',
      sha: c1,
      id: 4242,
      state: 'pending',
      context: 'e2e-tests',
      description: 'running',
      target_url: null,
      createdAt: new Date(world.nowMs).toISOString().replace(/\.\d+Z$/, 'Z')
    }
    world.github!.statuses.push(status)
    world.advance(1)
    ok(await world.run(gitops, 'reconcile'))
    let state = await world.state(gitops)
    expect(lastVerification(state, 'uat')).toMatchObject({ phase: 'Running' })
    expect(lastVerification(state, 'uat').message).toMatch(/checks running: e2e-tests/)
    expect(currentAlias(state, 'prod')).toBeUndefined()
    status.state = 'success'
    world.advance(1)
    ok(await world.run(gitops, 'reconcile'))
    state = await world.state(gitops)
    const f = freightByCommit(state, c1)!
    expect(lastVerification(state, 'uat')).toMatchObject({ phase: 'Successful' })
    expect(f.status.verifiedIn.uat).toBeDefined()
    expect(currentAlias(state, 'prod')).toBe(f.alias)
    expect(deployed('prod')).toBe(c1)
    expect(f.status.verifiedIn.prod).toBeDefined() // no verification: verified at once
  })

  it('a failed HTTP check keeps the freight out of downstream stages', async () => {
    const c2 = world.commit(app, { 'main.go': 'package main // v2\n' }, 'second')
    health = { status: 500 }
    world.advance(6)
    ok(await world.run(gitops, 'reconcile'))
    const state = await world.state(gitops)
    const f2 = freightByCommit(state, c2)!
    const c1 = deployed('uat')!
    expect(currentAlias(state, 'test')).toBe(f2.alias)
    expect(deployed('test')).toBe(c2)
    expect(lastVerification(state, 'test')).toMatchObject({ phase: 'Failed' })
    expect(lastVerification(state, 'test').message).toMatch(
      /smoke failed: .*500: failureExpression is true/
    )
    expect(f2.status.verifiedIn).toEqual({})
    for (const s of ['uat', 'perf', 'prod']) expect(currentAlias(state, s)).not.toBe(f2.alias)
    expect(deployed('uat')).toBe(c1)
    await expect(
      world.run(gitops, 'promote', { stage: 'uat', freight: f2.alias, 'no-run': true })
    ).rejects.toThrow(/not available to uat: not verified in test/)
    // A later run does not retry a finished verification.
    const before = world.tip(gitops, 'waybill/state')
    world.advance(1)
    await world.run(gitops, 'reconcile')
    expect(world.tip(gitops, 'waybill/state')).toBe(before)
  })

  it('waybill verify re-runs it on demand: a pass lets the freight through', async () => {
    const c2 = deployed('test')!
    health = { status: 200, commit: c2 }
    const res = await world.run(gitops, 'verify', { stage: 'test' })
    expect(res.exitCode).toBe(0)
    let state = await world.state(gitops)
    const f2 = freightByCommit(state, c2)!
    const history = state.stages.test.freightHistory[0].verificationHistory
    expect(history.map((v) => v.phase)).toEqual(['Successful', 'Failed'])
    expect(history[0].actor).toBe('e2e-tester')
    expect(f2.status.verifiedIn.test).toBeDefined()
    // uat takes it on the next run, and its checks fail there: prod keeps the old freight.
    checkRun(c2, 'completed', 'failure')
    world.advance(1)
    ok(await world.run(gitops, 'reconcile'))
    state = await world.state(gitops)
    expect(currentAlias(state, 'uat')).toBe(f2.alias)
    expect(lastVerification(state, 'uat')).toMatchObject({ phase: 'Failed' })
    expect(lastVerification(state, 'uat').message).toMatch(/checks failed on .*: e2e-tests/)
    expect(state.freight[f2.name].status.verifiedIn.uat).toBeUndefined()
    expect(currentAlias(state, 'prod')).not.toBe(f2.alias)
    expect(deployed('prod')).not.toBe(c2)
  })

  it('a failed re-verification revokes verifiedIn', async () => {
    const c2 = deployed('test')!
    health = { status: 500 }
    const res = await world.run(gitops, 'verify', { stage: 'test' })
    expect(res.exitCode).toBe(1)
    const state = await world.state(gitops)
    const f2 = freightByCommit(state, c2)!
    expect(lastVerification(state, 'test')).toMatchObject({ phase: 'Failed' })
    expect(f2.status.verifiedIn.test).toBeUndefined()
    // It is no longer available downstream.
    await expect(
      world.run(gitops, 'promote', { stage: 'perf', freight: f2.alias, 'no-run': true })
    ).rejects.toThrow(/not available to perf: not verified in test/)
  })

  it('verification still Running after spec.verification.timeout fails', async () => {
    const c3 = world.commit(app, { 'main.go': 'package main // v3\n' }, 'third')
    health = { status: 200, commit: 'still-the-old-build' }
    world.advance(6)
    ok(await world.run(gitops, 'reconcile'))
    let state = await world.state(gitops)
    const f3 = freightByCommit(state, c3)!
    expect(currentAlias(state, 'test')).toBe(f3.alias)
    expect(lastVerification(state, 'test')).toMatchObject({ phase: 'Running' })
    world.advance(5)
    await world.run(gitops, 'reconcile', { 'no-discover': true })
    state = await world.state(gitops)
    expect(lastVerification(state, 'test')).toMatchObject({ phase: 'Running' })
    world.advance(6) // 11 minutes since it started: past the 10m timeout
    await world.run(gitops, 'reconcile', { 'no-discover': true })
    state = await world.state(gitops)
    expect(lastVerification(state, 'test')).toMatchObject({ phase: 'Failed' })
    expect(lastVerification(state, 'test').message).toMatch(/timed out/)
    expect(state.freight[f3.name].status.verifiedIn).toEqual({})
    expect(currentAlias(state, 'perf')).not.toBe(f3.alias)
  })
})
