import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { World, currentAlias, freightByImageTag, type Repo } from './harness.js'
import { hasDockerRegistry, skipReason } from '../support/registry.js'
import { stagesYaml } from '../support/resources.js'

const d = hasDockerRegistry ? describe : describe.skip
if (!hasDockerRegistry) console.warn(skipReason)

/**
 * Stage availability rules on the Image Updater example's layout and promotion task, with a
 * pipeline that fans out and back in:
 *   test-a (auto) ─┬─► any  (OneOf, auto) ──► soaked (30m in any, auto)
 *   test-b (manual)┴─► all  (All, auto)
 */
const stage = (sources: string) => ({ warehouse: 'guestbook', sources, task: 'render-image' })
const STAGES = stagesYaml({
  'test-a': stage('{ direct: true }'),
  'test-b': stage('{ direct: true }'),
  any: stage('{ stages: [test-a, test-b] }'),
  all: stage('{ stages: [test-a, test-b], availabilityStrategy: All }'),
  soaked: stage('{ stages: [any], requiredSoakTime: 30m }')
})

const POLICIES = `
apiVersion: kargo.akuity.io/v1alpha1
kind: ProjectConfig
metadata: { name: guestbook }
spec:
  promotionPolicies:
    - stageSelector: { name: test-b }
      autoPromotionEnabled: false
    - stageSelector: { name: 'glob:*' }
      autoPromotionEnabled: true
`

const overlay = (stage: string) =>
  `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: guestbook-${stage}\nresources:\n  - ../../base\n`

d('stage rules: availabilityStrategy, requiredSoakTime, approve', () => {
  let world: World
  let gitops: Repo
  const tag = (stage: string) =>
    world
      .file(gitops, `stage/${stage}`, 'guestbook-' + stage + '-deployment-guestbook.yaml')
      ?.match(/acme\/guestbook:(\S+)/)?.[1]

  beforeAll(async () => {
    world = await World.start({ registry: true })
    const files = world.exampleFiles('image-updater')
    for (const k of Object.keys(files)) if (k.startsWith('env/')) delete files[k]
    for (const s of ['test-a', 'test-b', 'any', 'all', 'soaked'])
      files[`env/${s}/kustomization.yaml`] = overlay(s)
    files['.waybill/stages.yaml'] = STAGES
    files['.waybill/project-config.yaml'] = POLICIES
    gitops = world.repo('gitops', files)
  })
  afterAll(() => world?.close())

  it('OneOf: verified in one upstream stage is enough; All: waits for every upstream stage', async () => {
    expect((await world.run(gitops, 'validate')).exitCode).toBe(0)
    await world.pushImage('acme/guestbook', '1.0.0')
    expect((await world.run(gitops, 'reconcile')).exitCode).toBe(0)
    let state = await world.state(gitops)
    const f1 = freightByImageTag(state, '1.0.0')!
    expect(currentAlias(state, 'test-a')).toBe(f1.alias)
    expect(currentAlias(state, 'test-b')).toBeUndefined()
    expect(currentAlias(state, 'any')).toBe(f1.alias)
    expect(tag('any')).toBe('1.0.0')
    expect(currentAlias(state, 'all')).toBeUndefined()
    await expect(
      world.run(gitops, 'promote', { stage: 'all', freight: f1.alias, 'no-run': true })
    ).rejects.toThrow(/not available to all: not verified in test-b/)

    // Verified in test-b too: now All is satisfied and auto-promotion picks it up.
    const res = await world.run(gitops, 'promote', { stage: 'test-b', freight: f1.alias })
    expect(res.exitCode).toBe(0)
    // promote runs only that promotion; `all` auto-promotes on the next reconcile.
    expect(currentAlias(await world.state(gitops), 'all')).toBeUndefined()
    await world.run(gitops, 'reconcile')
    state = await world.state(gitops)
    expect(currentAlias(state, 'test-b')).toBe(f1.alias)
    expect(currentAlias(state, 'all')).toBe(f1.alias)
    expect(tag('all')).toBe('1.0.0')
  })

  it('requiredSoakTime: available downstream only after the freight spent it upstream', async () => {
    let state = await world.state(gitops)
    const f1 = freightByImageTag(state, '1.0.0')!
    expect(currentAlias(state, 'soaked')).toBeUndefined()
    await expect(
      world.run(gitops, 'promote', { stage: 'soaked', freight: f1.alias, 'no-run': true })
    ).rejects.toThrow(/soaked [\dhms]+ of 30m in any/)
    world.advance(20)
    await world.run(gitops, 'reconcile', { 'no-discover': true })
    expect(currentAlias(await world.state(gitops), 'soaked')).toBeUndefined()
    world.advance(11)
    await world.run(gitops, 'reconcile', { 'no-discover': true })
    state = await world.state(gitops)
    expect(currentAlias(state, 'soaked')).toBe(f1.alias)
    expect(tag('soaked')).toBe('1.0.0')
  })

  it('approve: approved freight skips upstream verification (and soak) for that stage only', async () => {
    await world.pushImage('acme/guestbook', '1.1.0')
    world.advance(6)
    await world.run(gitops, 'reconcile')
    let state = await world.state(gitops)
    const f2 = freightByImageTag(state, '1.1.0')!
    expect(currentAlias(state, 'any')).toBe(f2.alias)
    expect(currentAlias(state, 'all')).not.toBe(f2.alias) // test-b has not seen it
    expect(currentAlias(state, 'soaked')).not.toBe(f2.alias) // not soaked yet

    const res = await world.run(gitops, 'approve', { stage: 'all', freight: f2.alias })
    expect(res.exitCode).toBe(0)
    state = await world.state(gitops)
    expect(state.freight[f2.name].status.approvedFor.all).toMatchObject({ actor: 'e2e-tester' })
    expect(state.audit.some((a) => a.action === 'approve' && a.stage === 'all')).toBe(true)
    await world.run(gitops, 'reconcile', { 'no-discover': true })
    state = await world.state(gitops)
    expect(currentAlias(state, 'all')).toBe(f2.alias)
    expect(tag('all')).toBe('1.1.0')
    expect(f2.status.verifiedIn['test-b']).toBeUndefined()
    // Approval is per stage: soaked still waits for its soak time.
    expect(currentAlias(state, 'soaked')).toBe(freightByImageTag(state, '1.0.0')!.alias)

    await world.run(gitops, 'approve', { stage: 'soaked', freight: f2.alias })
    expect(
      (await world.run(gitops, 'promote', { stage: 'soaked', freight: f2.alias })).exitCode
    ).toBe(0)
    expect(tag('soaked')).toBe('1.1.0')
    await expect(
      world.run(gitops, 'approve', { stage: 'soaked', freight: 'no-such-freight' })
    ).rejects.toThrow(/freight 'no-such-freight' does not exist/)
  })
})
