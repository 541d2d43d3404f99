import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { World, currentAlias, freightByCommit, lastPromotion, type Repo } from './harness.js'
import { gitPipeline, icalUtc } from './windows-support.js'
import type { StatusJson } from '../../src/commands/status.js'

/**
 * Promotion windows on real git: a Deny window over prod holds its auto-promotion Pending
 * (queued, not failed) until the clock passes the window; `status` and `plan` say until when; a
 * permanently frozen manual stage is promoted only with `--override-windows`, which the audit
 * trail records with its actor and run.
 */
describe('promotion windows end to end', () => {
  let world: World
  let gitops: Repo
  let app: Repo
  let freezeEnd: number

  beforeAll(async () => {
    world = await World.start()
    app = world.repo('app', { 'README.md': 'app\n' })
    const start = world.nowMs - 3600_000
    freezeEnd = Math.floor(world.nowMs / 1000) * 1000 + 2 * 3600_000
    gitops = world.repo(
      'gitops',
      gitPipeline({
        stages: [
          { name: 'test', sources: '{ direct: true }' },
          { name: 'prod', sources: '{ stages: [test] }' },
          { name: 'hotfix', sources: '{ direct: true }' }
        ],
        projectConfig: `apiVersion: kargo.akuity.io/v1alpha1
kind: ProjectConfig
metadata:
  name: app
spec:
  promotionPolicies:
    - stageSelector: { name: hotfix }
      autoPromotionEnabled: false
    - stageSelector: { name: 'glob:*' }
      autoPromotionEnabled: true
  promotionWindows:
    - name: release-freeze
      kind: Deny
      dtstart: ${icalUtc(start)}
      dtend: ${icalUtc(freezeEnd)}
      stageSelector: { name: prod }
    - name: hotfix-lock
      kind: Deny
      dtstart: ${icalUtc(start)}
      dtend: 20991231T000000Z
      stageSelector: { name: hotfix }
`
      })
    )
  })
  afterAll(() => world?.close())

  it('a Deny window holds an auto-promotion Pending; past the window it starts', async () => {
    const sha = world.commit(app, { 'app.txt': 'v1\n' }, 'v1')
    const res = await world.run(gitops, 'reconcile')
    expect(res.exitCode).toBe(0)
    let state = await world.state(gitops)
    const f1 = freightByCommit(state, sha)!
    expect(currentAlias(state, 'test')).toBe(f1.alias)
    expect(currentAlias(state, 'prod')).toBeUndefined()
    const held = lastPromotion(state, 'prod', f1.name)!
    expect(held.phase).toBe('Pending')
    expect(res.logs).toMatch(/waits: frozen until .* \(frozen by Deny window 'release-freeze'\)/)

    const until = new Date(freezeEnd).toISOString()
    const status = await world.run(gitops, 'status', {}, { json: true })
    const json = JSON.parse(
      status.logs.slice(status.logs.indexOf('{'), status.logs.lastIndexOf('}') + 1)
    ) as StatusJson
    const prod = json.stages.find((s) => s.name === 'prod')!
    expect(prod.frozen).toBe(`frozen until ${until} (frozen by Deny window 'release-freeze')`)
    expect(json.stages.find((s) => s.name === 'test')!.frozen).toBeUndefined()
    expect(json.stages.find((s) => s.name === 'hotfix')!.frozen).toMatch(
      /^frozen until 2099-12-31T00:00:00.000Z \(frozen by Deny window 'hotfix-lock'\)$/
    )
    expect(status.summary).toContain(`prod: frozen until ${until}`)
    const text = await world.run(gitops, 'status')
    expect(text.logs).toContain(`frozen until ${until}`)
    // The published page marks the frozen stage, and only it.
    expect((await world.run(gitops, 'status', { publish: true })).exitCode).toBe(0)
    const page = world.file(gitops, 'waybill/state', 'index.html')!
    const frozenMarks = [...page.matchAll(/<span class="frozen">❄ ([^<]*)<\/span>/g)].map(
      (m) => m[1]
    )
    expect(frozenMarks).toHaveLength(2)
    expect(frozenMarks).toContain(
      `frozen until ${until} (frozen by Deny window &#39;release-freeze&#39;)`
    )
    expect(frozenMarks).toContain(
      'frozen until 2099-12-31T00:00:00.000Z (frozen by Deny window &#39;hotfix-lock&#39;)'
    )

    const plan = await world.run(gitops, 'plan', {}, { json: true })
    expect(JSON.parse(plan.outputs!.matrix).include).toEqual([])
    expect(JSON.parse(plan.outputs!.frozen)).toEqual([
      expect.objectContaining({ stage: 'prod', alias: f1.alias, nextOpen: until })
    ])

    // Still frozen an hour later: the promotion waits, it is not failed.
    world.advance(60)
    await world.run(gitops, 'reconcile', { 'no-discover': true })
    state = await world.state(gitops)
    expect(state.promotions[held.name].phase).toBe('Pending')

    world.advance(61)
    expect((await world.run(gitops, 'reconcile', { 'no-discover': true })).exitCode).toBe(0)
    state = await world.state(gitops)
    expect(state.promotions[held.name].phase).toBe('Succeeded')
    expect(currentAlias(state, 'prod')).toBe(f1.alias)
    expect(world.file(gitops, 'stage/prod', 'version.txt')).toBe(sha)
  })

  it('--override-windows starts a frozen promotion and records who overrode which window', async () => {
    const res = await world.run(gitops, 'promote', { stage: 'hotfix', 'override-windows': true })
    expect(res.outputs?.phase).toBe('Succeeded')
    const state = await world.state(gitops)
    const override = state.audit.filter((a) => a.action === 'override-windows')
    expect(override).toEqual([
      expect.objectContaining({
        actor: 'e2e-tester',
        stage: 'hotfix',
        promotion: res.outputs!.promotion,
        runURL: 'https://github.com/acme/gitops/actions/runs/1',
        message: expect.stringContaining("frozen by Deny window 'hotfix-lock'")
      })
    ])
    expect(state.promotions[res.outputs!.promotion].windowOverride?.actor).toBe('e2e-tester')

    // Without the override, a manual promotion is queued and waits for the window.
    const held = await world.run(gitops, 'promote', { stage: 'hotfix' })
    expect(held.exitCode).toBe(0)
    expect(held.outputs?.phase).toBe('Pending')
    expect(held.logs).toMatch(/waits: frozen until 2099-12-31/)
  })
})
