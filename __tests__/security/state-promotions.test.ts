import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { World, currentAlias, type Repo } from '../e2e/harness.js'
import { stagesYaml } from '../support/resources.js'
import { StateStore } from '../../src/state/store.js'
import type { Promotion, State } from '../../src/state/types.js'
import { MemoryLogger } from '../../src/util/logger.js'
import { openPipeline } from '../../src/pipeline/context.js'
import { advanceStage } from '../../src/pipeline/reconcile.js'

/**
 * Whoever can push the state branch must not be able to deploy: the steps that run come from the
 * reviewed config, and a stage that does not auto-promote (prod, gated by its GitHub environment)
 * is promoted only by a run asked to promote it, never by the scheduled reconcile.
 */
const CONFIG = (srcUrl: string) => ({
  '.waybill/project-config.yaml': `
apiVersion: kargo.akuity.io/v1alpha1
kind: ProjectConfig
metadata: { name: sec }
spec:
  promotionPolicies:
    - stageSelector: { name: test }
      autoPromotionEnabled: true
`,
  '.waybill/warehouse.yaml': `
apiVersion: kargo.akuity.io/v1alpha1
kind: Warehouse
metadata: { name: app }
spec:
  interval: 5m
  subscriptions:
    - git: { repoURL: ${srcUrl}, branch: main }
`,
  '.waybill/task.yaml': `
apiVersion: kargo.akuity.io/v1alpha1
kind: PromotionTask
metadata: { name: deploy }
spec:
  steps:
    - uses: compose-output
      as: out
      config:
        commit: \${{ commitFrom('${srcUrl}').ID }}
`,
  '.waybill/stages.yaml': stagesYaml({
    test: { warehouse: 'app', sources: '{ direct: true }', task: 'deploy' },
    prod: { warehouse: 'app', sources: '{ stages: [test] }', task: 'deploy' }
  })
})

/** Steps an attacker writes into the state: they must never run. */
const HOSTILE_STEPS = [{ uses: 'compose-output', as: 'pwned', config: { stolen: 'yes' } }]

describe('security: promotions written into the state branch', () => {
  let world: World
  let gitops: Repo
  let store: StateStore
  let freight: string

  /** Writes a promotion straight into the state branch, as anyone with push access could. */
  async function forge(p: Partial<Promotion> & { stage: string; name: string }): Promise<void> {
    await store.read() // the tip other runs moved: a stale first attempt would see nothing to do
    await store.update((d: State) => {
      d.promotions[p.name] = {
        freight,
        phase: 'Pending',
        createdAt: new Date(world.nowMs).toISOString(),
        steps: HOSTILE_STEPS,
        currentStep: 0,
        stepExecutionMetadata: [],
        state: {},
        ...p
      }
      return `forge ${p.name}`
    })
  }

  beforeAll(async () => {
    world = await World.start()
    const src = world.repo('src')
    gitops = world.repo('gitops', CONFIG(src.url))
    store = new StateStore({
      repoDir: gitops.work,
      remote: 'origin',
      branch: 'waybill/state',
      logger: new MemoryLogger()
    })
    const first = await world.run(gitops, 'reconcile')
    if (first.exitCode) console.log(first.logs)
    expect(first.exitCode).toBe(0)
    const state = await world.state(gitops)
    expect(currentAlias(state, 'test')).toBeDefined()
    expect(currentAlias(state, 'prod')).toBeUndefined()
    freight = Object.keys(state.freight)[0]
  }, 60_000)
  afterAll(async () => world?.close())

  it('a Pending prod promotion pushed to the state is not run by reconcile, and says so', async () => {
    const name = `prod.00000000000000000000000001.${freight.slice(0, 7)}`
    await forge({ name, stage: 'prod' })
    const res = await world.run(gitops, 'reconcile', { 'no-discover': true })
    expect(res.logs).toContain(
      `promotion ${name} was not run: stage prod does not auto-promote: its promotions run only in a run asked to promote it`
    )
    const state = await world.state(gitops)
    expect(state.promotions[name]).toMatchObject({ phase: 'Pending', state: {} })
    expect(currentAlias(state, 'prod')).toBeUndefined()
  }, 60_000)

  it('a Pending promotion of an auto-promoted stage runs the config steps, not the stored ones', async () => {
    const name = `test.00000000000000000000000002.${freight.slice(0, 7)}`
    await forge({ name, stage: 'test' })
    expect((await world.run(gitops, 'reconcile', { 'no-discover': true })).exitCode).toBe(0)
    const p = (await world.state(gitops)).promotions[name]
    expect(p.phase).toBe('Succeeded')
    // The config's task step (inflated as task-1::out), not the stored `pwned` step.
    expect(Object.keys(p.state)).toContain('task-1::out')
    expect(JSON.stringify(p.state)).not.toContain('pwned')
    expect(JSON.stringify(p.steps)).not.toContain('pwned')
    expect(p.executedBy).toMatchObject({
      command: 'reconcile',
      actor: 'e2e-tester',
      runURL: 'https://github.com/acme/gitops/actions/runs/1'
    })
  }, 60_000)

  it('a Running promotion whose stored steps differ from the config is stopped, not resumed', async () => {
    const name = `test.00000000000000000000000003.${freight.slice(0, 7)}`
    await forge({
      name,
      stage: 'test',
      phase: 'Running',
      startedAt: new Date(world.nowMs).toISOString(),
      lease: { holder: 'gone', expiresAt: new Date(0).toISOString() }
    })
    const res = await world.run(gitops, 'reconcile', { 'no-discover': true })
    expect(res.exitCode).toBe(1)
    const p = (await world.state(gitops)).promotions[name]
    expect(p.phase).toBe('Errored')
    expect(p.message).toMatch(
      /^not run: its steps or vars differ from the promotion template of stage test/
    )
    expect(p.state).toEqual({})
    expect(p.lease).toBeUndefined()
  }, 60_000)

  it('a Running promotion at a step index past its steps is not marked Succeeded', async () => {
    const name = `test.00000000000000000000000004.${freight.slice(0, 7)}`
    const steps = (await world.state(gitops)).promotions[
      `test.00000000000000000000000002.${freight.slice(0, 7)}`
    ].steps
    await forge({ name, stage: 'test', phase: 'Running', steps, currentStep: 5 })
    await world.run(gitops, 'reconcile', { 'no-discover': true })
    const p = (await world.state(gitops)).promotions[name]
    expect(p.phase).toBe('Errored')
    expect(p.message).toMatch(/current step 5 is outside its 1 steps/)
  }, 60_000)

  it('promote --stage prod (the gated run) runs the queue with config steps and records the run', async () => {
    const res = await world.run(gitops, 'promote', { stage: 'prod', freight })
    expect(res.exitCode).toBe(0)
    const state = await world.state(gitops)
    const prod = Object.values(state.promotions).filter((p) => p.stage === 'prod')
    expect(prod.map((p) => p.phase)).toEqual(['Succeeded', 'Succeeded'])
    for (const p of prod) {
      expect(Object.keys(p.state)).toContain('task-1::out')
      expect(JSON.stringify(p.state)).not.toContain('pwned')
      expect(p.executedBy).toMatchObject({
        command: 'promote',
        actor: 'e2e-tester',
        runURL: 'https://github.com/acme/gitops/actions/runs/1'
      })
      expect(state.audit).toContainEqual(
        expect.objectContaining({
          action: 'run',
          promotion: p.name,
          runURL: 'https://github.com/acme/gitops/actions/runs/1'
        })
      )
    }
    expect(currentAlias(state, 'prod')).toBeDefined()
  }, 60_000)

  it('a promotion whose record vanishes while it runs is reported Errored, never Succeeded', async () => {
    const queued = await world.run(gitops, 'promote', { stage: 'test', freight, 'no-run': true })
    const name = queued.outputs!.promotion
    const logger = new MemoryLogger()
    const pipeline = await openPipeline(world.context(gitops, logger))
    pipeline.onPromotion = async (p) => {
      if (p.phase !== 'Running') return
      await store.read()
      await store.update((d) => {
        delete d.promotions[p.name]
        delete d.stages[p.stage].currentPromotion
        return 'vanish'
      })
    }
    const p = await advanceStage(pipeline, 'test')
    expect(p?.name).toBe(name)
    expect(p?.phase).toBe('Errored')
    expect(p?.message).toMatch(
      /record vanished from the state while this run executed it \(the steps ended Succeeded\)/
    )
    expect(logger.text()).toMatch(/✘ .* Errored: its record vanished/)
    expect(logger.text()).not.toMatch(/✔/)
  }, 60_000)
})
