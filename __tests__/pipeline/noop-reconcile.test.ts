import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { World, currentAlias, type Repo } from '../e2e/harness.js'
import { gitIn, sh } from '../support/git.js'
import { commands } from '../../src/commands/index.js'
import type { CommandArgs } from '../../src/runtime/context.js'
import { openPipeline } from '../../src/pipeline/context.js'
import { reconcilePipeline } from '../../src/pipeline/reconcile.js'
import { runDiscovery } from '../../src/discovery/index.js'
import { StateStore } from '../../src/state/store.js'
import { MemoryLogger } from '../../src/util/logger.js'
import { countBySubcommand, stateBranchCalls, traceGit } from './git-trace.js'
import { stagesYaml, gitWarehouseYaml, autoPromoteAllYaml } from '../support/resources.js'

/**
 * A reconcile with nothing to do must cost one fetch of the state branch and no commit: it runs
 * on every schedule tick of every repository using Waybill. Counted with Git's trace2 events
 * (every git process Waybill starts), not timed.
 */
const STAGES = stagesYaml({
  dev: { warehouse: 'app', sources: '{ direct: true }', task: 'deploy' },
  qa: { warehouse: 'app', sources: '{ stages: [dev] }', task: 'deploy' },
  uat: { warehouse: 'app', sources: '{ stages: [dev] }', task: 'deploy' },
  // Control flow: no steps, fan-in of qa and uat.
  gate: { warehouse: 'app', sources: '{ stages: [qa, uat], availabilityStrategy: All }' },
  prod: { warehouse: 'app', sources: '{ stages: [gate] }', task: 'deploy' }
})

const CONFIG = (srcUrl: string) => ({
  '.waybill/project-config.yaml': autoPromoteAllYaml('noop'),
  '.waybill/warehouse.yaml': gitWarehouseYaml('app', srcUrl),
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
  '.waybill/stages.yaml': STAGES
})

describe('a reconcile with nothing to do', () => {
  let world: World
  let gitops: Repo
  let src: Repo
  const stateTip = () =>
    sh('git', ['--git-dir', gitops.bare, 'rev-parse', '--verify', '-q', 'refs/heads/waybill/state'])

  /** Runs `reconcile` in-process (as the CLI would) and records every git process it starts. */
  async function tracedReconcile(args: CommandArgs = {}) {
    gitIn(gitops.work, 'pull', '-q', '--rebase', 'origin', 'main')
    const logger = new MemoryLogger()
    const before = stateTip()
    const { result, calls } = await traceGit(() =>
      commands.reconcile.run(world.context(gitops, logger), args)
    )
    const { fetches, pushes } = stateBranchCalls(calls)
    return {
      exitCode: result.exitCode,
      logs: logger.text(),
      fetches: fetches.length,
      pushes: pushes.length,
      committed: stateTip() !== before,
      calls: countBySubcommand(calls)
        .map(([c, n]) => `${c} ${n}`)
        .join(', ')
    }
  }

  beforeAll(async () => {
    world = await World.start()
    src = world.repo('app-src', { 'app.txt': 'v1\n' })
    gitops = world.repo('gitops', CONFIG(src.url))
    const first = await world.run(gitops, 'reconcile')
    expect(first.exitCode).toBe(0)
    const state = await world.state(gitops)
    const alias = currentAlias(state, 'dev')
    expect(alias).toBeDefined()
    for (const s of ['qa', 'uat', 'gate', 'prod']) expect(currentAlias(state, s)).toBe(alias)
  })
  afterAll(() => world?.close())

  it('warehouse not due: one fetch of the state branch, no push, no commit', async () => {
    const run = await tracedReconcile()
    expect(run.exitCode).toBe(0)
    expect(run.logs).toContain('not due yet: app')
    expect(run.logs).toContain('nothing to do')
    // `calls` is in the object so a failure shows every git command the run made.
    expect(run).toMatchObject({ fetches: 1, pushes: 0, committed: false })
    // Nothing else touches the network: no ls-remote/clone of the subscribed repository.
    expect(run.calls).not.toMatch(/ls-remote|clone/)
  })

  it('the same without discovery (--no-discover) and for one stage (--stage)', async () => {
    for (const args of [{ 'no-discover': true }, { stage: ['prod'] }] as CommandArgs[]) {
      const run = await tracedReconcile(args)
      expect(run.exitCode).toBe(0)
      expect({ args, ...run }).toMatchObject({ fetches: 1, pushes: 0, committed: false })
    }
  })

  it('a writer between our cached read and our push loses nothing (the push is a CAS)', async () => {
    // New freight is due. While the reconcile works from the state it fetched at the start,
    // another process writes the branch. The run's next push is refused, the store re-fetches and
    // re-applies, and the other writer's change survives every later write of the run.
    const commit = world.commit(src, { 'app.txt': 'v2\n' }, 'v2')
    world.advance(6)
    gitIn(gitops.work, 'pull', '-q', '--rebase', 'origin', 'main')
    const logger = new MemoryLogger()
    const pipeline = await openPipeline(world.context(gitops, logger))
    const store = pipeline.store
    const otherClone = path.join(world.root, 'other-writer')
    sh('git', ['clone', '-q', gitops.bare, otherClone])
    const other = new StateStore({
      repoDir: otherClone,
      remote: 'origin',
      branch: 'waybill/state',
      logger: new MemoryLogger()
    })
    const update = store.update.bind(store)
    let armed = false
    let intruded = false
    store.update = async (mutator) => {
      if (armed && !intruded) {
        intruded = true
        await other.update((d) => {
          d.audit.push({ at: new Date(world.nowMs).toISOString(), action: 'intruder' })
          return 'intruder: concurrent write'
        })
      }
      return update(mutator)
    }
    const discovery = await runDiscovery({
      model: pipeline.model,
      store,
      services: pipeline.services,
      logger,
      now: () => pipeline.now()
    })
    expect(discovery.newFreight).toHaveLength(1)
    // From here the run works from its cached tip (discovery fetched it): the other process
    // writes just before the reconcile's first write.
    armed = true
    const activity = await reconcilePipeline(pipeline)
    expect(activity.errors).toEqual([])
    expect(intruded).toBe(true)
    expect(store.stats.rejections).toBe(1)
    // One fetch at the start, one after the refused push.
    expect(store.stats.fetches).toBe(2)
    const state = await world.state(gitops)
    expect(state.audit.some((a) => a.action === 'intruder')).toBe(true)
    const f = discovery.newFreight[0]
    expect(f.commits[0].id).toBe(commit)
    for (const s of ['dev', 'qa', 'uat', 'gate', 'prod'])
      expect(currentAlias(state, s)).toBe(f.alias)
  })
})
