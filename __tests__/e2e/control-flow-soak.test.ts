import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { World, currentAlias, freightByImageTag, type Repo } from './harness.js'
import { hasDockerRegistry, skipReason } from '../support/registry.js'
import { stagesYaml, autoPromoteAllYaml } from '../support/resources.js'
import { StateStore } from '../../src/state/store.js'
import { MemoryLogger } from '../../src/util/logger.js'

const d = hasDockerRegistry ? describe : describe.skip
if (!hasDockerRegistry) console.warn(skipReason)

/**
 * requiredSoakTime measured in a control-flow stage:
 *   test (auto) ──► gate (control flow) ──► prod (30m in gate, auto)
 * The gate never runs a promotion, so the time freight spends there is only known when the
 * control-flow reconcile records it (currentlyIn on entry, longestSoak on exit).
 */
const STAGES = stagesYaml({
  test: { warehouse: 'guestbook', sources: '{ direct: true }', task: 'render-image' },
  gate: { warehouse: 'guestbook', sources: '{ stages: [test] }' },
  prod: {
    warehouse: 'guestbook',
    sources: '{ stages: [gate], requiredSoakTime: 30m }',
    task: 'render-image'
  }
})

const POLICIES = autoPromoteAllYaml('guestbook')

const overlay = (stage: string) =>
  `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: guestbook-${stage}\nresources:\n  - ../../base\n`

d('requiredSoakTime in a control-flow stage', () => {
  let world: World
  let gitops: Repo
  const tag = (stage: string) =>
    world
      .file(gitops, `stage/${stage}`, `guestbook-${stage}-deployment-guestbook.yaml`)
      ?.match(/acme\/guestbook:(\S+)/)?.[1]

  beforeAll(async () => {
    world = await World.start({ registry: true })
    const files = world.exampleFiles('image-updater')
    for (const k of Object.keys(files)) if (k.startsWith('env/')) delete files[k]
    for (const s of ['test', 'prod']) files[`env/${s}/kustomization.yaml`] = overlay(s)
    files['.waybill/stages.yaml'] = STAGES
    files['.waybill/project-config.yaml'] = POLICIES
    gitops = world.repo('gitops', files)
  })
  afterAll(() => world?.close())

  it('freight entering the gate starts soaking there', async () => {
    expect((await world.run(gitops, 'validate')).exitCode).toBe(0)
    await world.pushImage('acme/guestbook', '1.0.0')
    expect((await world.run(gitops, 'reconcile')).exitCode).toBe(0)
    const state = await world.state(gitops)
    const f1 = freightByImageTag(state, '1.0.0')!
    expect(currentAlias(state, 'gate')).toBe(f1.alias)
    expect(f1.status.verifiedIn.gate).toBeDefined()
    expect(f1.status.currentlyIn.gate?.since).toBeDefined()
    expect(currentAlias(state, 'prod')).toBeUndefined()
    await expect(
      world.run(gitops, 'promote', { stage: 'prod', freight: f1.alias, 'no-run': true })
    ).rejects.toThrow(/soaked \d+s of 30m in gate/)
  })

  it('after its soak time in the gate, prod auto-promotes it', async () => {
    world.advance(20)
    await world.run(gitops, 'reconcile', { 'no-discover': true })
    expect(currentAlias(await world.state(gitops), 'prod')).toBeUndefined()
    world.advance(11)
    await world.run(gitops, 'reconcile', { 'no-discover': true })
    const state = await world.state(gitops)
    expect(currentAlias(state, 'prod')).toBe(freightByImageTag(state, '1.0.0')!.alias)
    expect(tag('prod')).toBe('1.0.0')
  })

  it('freight leaving the gate keeps the soak it earned there', async () => {
    await world.pushImage('acme/guestbook', '1.1.0')
    world.advance(6)
    expect((await world.run(gitops, 'reconcile')).exitCode).toBe(0)
    const state = await world.state(gitops)
    const f1 = freightByImageTag(state, '1.0.0')!
    const f2 = freightByImageTag(state, '1.1.0')!
    expect(currentAlias(state, 'gate')).toBe(f2.alias)
    expect(f2.status.currentlyIn.gate).toBeDefined()
    expect(f1.status.currentlyIn.gate).toBeUndefined()
    expect(f1.status.verifiedIn.gate?.longestSoak).toBeGreaterThanOrEqual(37 * 60_000)
    // The new freight has not soaked yet: prod keeps the old one.
    expect(currentAlias(state, 'prod')).toBe(f1.alias)
  })

  it('freight current in the gate in older state (no currentlyIn) starts soaking on the next run', async () => {
    const store = new StateStore({
      repoDir: gitops.work,
      remote: 'origin',
      branch: 'waybill/state',
      logger: new MemoryLogger()
    })
    let name = ''
    await store.update((draft) => {
      const ref = Object.values(draft.stages.gate.freightHistory[0].items)[0]
      name = ref.name
      delete draft.freight[name].status.currentlyIn.gate
      return 'test: state as written before the fix'
    })
    await world.run(gitops, 'reconcile', { 'no-discover': true })
    const f = (await world.state(gitops)).freight[name]
    expect(Date.parse(f.status.currentlyIn.gate.since)).toBe(world.nowMs)
  })
})
