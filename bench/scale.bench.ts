// 1,000 services in one repository: npm run bench -- scale  (BENCH_SCALE_SERVICES=N to change)
// Per service: one Git-subscribed warehouse and three stages, test → uat → prod; test is
// auto-promoted, every promotion runs one PromotionTask step (compose-output). BENCH_SCALE_PROMOTE=M
// makes only the first M test stages due (the others start with the freight current), to measure
// promotions against the full-size state when all N would take too long. Freight is written
// into the state directly (one per service, discovered "now", so no warehouse is due): the bench
// measures the pipeline, not discovery (bench/discovery-*.bench.ts do that).
//
// Measures validate, plan, status, one reconcile that auto-promotes every test stage (wall time,
// state commits, state-branch fetches and pushes) and then a reconcile with nothing to do.
// Then BENCH_SCALE_RUNNERS=R (default 20) runners share the state branch: a new freight per due
// service, and R runs at once, each in its own clone, each given 1/R of the due test stages
// (`reconcile --stage …`, as fan-out jobs are): wall time, state commits, and compare-and-swap
// rejections per write. Targets (issue 16): the promoting reconcile ≤ 120 s with ≤ 50 state
// commits; the no-op reconcile 0 commits, 1 fetch, ≤ 10 s. Missed targets are printed, not fatal.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { commands } from '../src/commands/index.js'
import type { CommandArgs, CommandContext } from '../src/runtime/context.js'
import { servicesFromFlags } from '../src/cli.js'
import { loadProject } from '../src/config/load.js'
import { warehouseSpecHash } from '../src/discovery/warehouse.js'
import { StateStore, type StateStoreStats } from '../src/state/store.js'
import { emptyStageState, type State } from '../src/state/types.js'
import { generateAlias } from '../src/freight/alias.js'
import { freightCollectionId } from '../src/freight/id.js'
import { MemoryLogger } from '../src/util/logger.js'
import { makeFreight } from '../__tests__/support/state-fixtures.js'
import { sh, storeStats } from './support.js'

const N = Number(process.env.BENCH_SCALE_SERVICES ?? 1000)
/** Services whose test stage is due (the first DUE); the others start settled. */
const DUE = Math.min(N, Number(process.env.BENCH_SCALE_PROMOTE ?? N))
const RUNNERS = Math.max(0, Number(process.env.BENCH_SCALE_RUNNERS ?? 20))
const BRANCH = 'waybill/state'
const NOW = Date.UTC(2025, 5, 1, 12)
const git = (cwd: string, ...args: string[]) => sh('git', args, cwd)
const currentFreightName = (state: State, stage: string) =>
  Object.values(state.stages[stage]?.freightHistory[0]?.items ?? {})[0]?.name
const svc = (i: number) => `svc-${String(i).padStart(4, '0')}`

function config(srcUrl: string): Record<string, string> {
  const files: Record<string, string> = {
    '.waybill/task.yaml': `apiVersion: kargo.akuity.io/v1alpha1
kind: PromotionTask
metadata: { name: deploy }
spec:
  steps:
    - uses: compose-output
      config:
        stage: \${{ ctx.stage }}
`,
    '.waybill/project-config.yaml': `apiVersion: kargo.akuity.io/v1alpha1
kind: ProjectConfig
metadata: { name: scale }
spec:
  promotionPolicies:
    - stageSelector: { name: 'regex:-test$' }
      autoPromotionEnabled: true
`
  }
  const stage = (name: string, w: string, from?: string) => `apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata: { name: ${name} }
spec:
  requestedFreight:
    - origin: { kind: Warehouse, name: ${w} }
      sources: ${from ? `{ stages: [${from}] }` : '{ direct: true }'}
  promotionTemplate: { spec: { steps: [ { task: { name: deploy } } ] } }
`
  for (let i = 0; i < N; i++) {
    const w = svc(i)
    files[`.waybill/services/${w}.yaml`] = [
      `apiVersion: kargo.akuity.io/v1alpha1
kind: Warehouse
metadata: { name: ${w} }
spec:
  interval: 24h
  subscriptions:
    - git: { repoURL: '${srcUrl}', branch: ${w} }
`,
      stage(`${w}-test`, w),
      stage(`${w}-uat`, w, `${w}-test`),
      stage(`${w}-prod`, w, `${w}-uat`)
    ].join('---\n')
  }
  return files
}

interface Measured {
  label: string
  ms: number
  exitCode: number
  logs: string
  stateCommits: number
  /** StateStore.stats summed over the stores the command opened. */
  store: StateStoreStats
}

async function main() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'waybill-bench-scale-'))
  try {
    const bare = path.join(root, 'gitops.git')
    const work = path.join(root, 'work')
    git(root, 'init', '-q', '--bare', '-b', 'main', bare)
    git(root, 'init', '-q', '-b', 'main', work)
    git(work, 'remote', 'add', 'origin', bare)
    for (const [rel, text] of Object.entries(config(`file://${path.join(root, 'src.git')}`))) {
      fs.mkdirSync(path.dirname(path.join(work, rel)), { recursive: true })
      fs.writeFileSync(path.join(work, rel), text)
    }
    git(work, 'add', '-A')
    git(work, 'commit', '-q', '-m', `${N} services`)
    git(work, 'push', '-q', 'origin', 'main')

    const tip = () => git(root, '--git-dir', bare, 'rev-parse', `refs/heads/${BRANCH}`)
    const context = (logger: MemoryLogger, json = false, repoDir = work): CommandContext => ({
      repoDir,
      configDir: '.waybill',
      stateBranch: BRANCH,
      remote: 'origin',
      project: 'scale',
      json,
      logger,
      services: servicesFromFlags({}, { PATH: process.env.PATH }),
      actor: 'bench',
      waitMs: 0,
      print: (t) => logger.info(t),
      now: () => new Date(NOW)
    })
    async function measure(
      label: string,
      command: keyof typeof commands,
      args: CommandArgs = {},
      json = false
    ): Promise<Measured> {
      const logger = new MemoryLogger()
      const before = tip()
      storeStats.reset()
      const t0 = performance.now()
      const result = await commands[command].run(context(logger, json), args)
      const ms = performance.now() - t0
      const stateCommits = Number(
        git(root, '--git-dir', bare, 'rev-list', '--count', `${before}..${tip()}`)
      )
      const store = storeStats.sum()
      const m = { label, ms, exitCode: result.exitCode, logs: logger.text(), stateCommits, store }
      console.log(`${label}: ${Math.round(ms)} ms, ${stateCommits} state commits`)
      if (m.exitCode !== 0 && command !== 'status')
        throw new Error(`${label} exited ${m.exitCode}:\n${m.logs.slice(-4000)}`)
      return m
    }

    // Seed: one freight per service, every warehouse discovered just now under its current spec.
    const t0 = performance.now()
    const { model } = await loadProject(work, '.waybill')
    const seed = new StateStore({
      repoDir: work,
      remote: 'origin',
      branch: BRANCH,
      logger: new MemoryLogger()
    })
    await seed.update((draft) => {
      const taken = new Set<string>()
      for (let i = 0; i < N; i++) {
        const w = svc(i)
        const f = makeFreight(w, i, new Date(NOW - 60_000).toISOString(), 'git')
        f.alias = generateAlias(f.name, taken)
        taken.add(f.alias)
        draft.freight[f.name] = f
        draft.warehouses[w] = {
          lastDiscoveredAt: new Date(NOW - 60_000).toISOString(),
          specHash: warehouseSpecHash(model.warehouses.get(w)!),
          discovered: {
            discoveredAt: new Date(NOW - 60_000).toISOString(),
            git: [],
            images: [],
            charts: []
          },
          lastFreightID: f.name
        }
        for (const s of ['test', 'uat', 'prod']) draft.stages[`${w}-${s}`] = emptyStageState()
        if (i < DUE) continue
        // Settled: the freight is already current (and verified) in test.
        draft.stages[`${w}-test`].freightHistory.push({
          id: freightCollectionId([f.name]),
          items: { [`Warehouse/${w}`]: { name: f.name, origin: f.origin } },
          verificationHistory: []
        })
        f.status.currentlyIn[`${w}-test`] = { since: f.discoveredAt }
        f.status.verifiedIn[`${w}-test`] = { verifiedAt: f.discoveredAt }
      }
      return `bench: seed ${N} freight`
    })
    const stateBytes = git(
      root,
      '--git-dir',
      bare,
      'cat-file',
      '-s',
      `refs/heads/${BRANCH}:state.json`
    )
    const freightFiles = git(root, '--git-dir', bare, 'ls-tree', `refs/heads/${BRANCH}:freight`)
      .split('\n')
      .filter(Boolean).length
    console.log(
      `setup: ${N} services, ${N} warehouses, ${3 * N} stages (${DUE} test stages due), ` +
        `state.json ${stateBytes} bytes and ${freightFiles} freight files, ` +
        `${Math.round(performance.now() - t0)} ms`
    )

    const runs: Measured[] = []
    runs.push(await measure('validate', 'validate'))
    const plan = await measure('plan', 'plan', {}, true)
    runs.push(plan)
    const planned = JSON.parse(plan.logs.trim().split('\n').pop()!) as { include: unknown[] }
    if (planned.include.length !== DUE)
      throw new Error(`plan listed ${planned.include.length} due promotions, expected ${DUE}`)
    runs.push(await measure('status', 'status'))
    const promote = await measure(`reconcile: auto-promote ${DUE} test stages`, 'reconcile')
    runs.push(promote)
    const state = await seed.read()
    const promoted = Object.values(state.promotions).filter((p) => p.phase === 'Succeeded').length
    if (promoted !== DUE)
      throw new Error(`${promoted}/${DUE} promotions succeeded\n${promote.logs.slice(-4000)}`)
    const noop = await measure('reconcile: nothing to do', 'reconcile')
    runs.push(noop)

    let shared: Measured | undefined
    if (RUNNERS > 0 && DUE > 0) {
      // A newer freight for every due service: its test stage is due again.
      const newest: Array<[string, string]> = []
      await seed.update((draft) => {
        newest.length = 0
        const taken = new Set(Object.values(draft.freight).map((f) => f.alias))
        for (let i = 0; i < DUE; i++) {
          const f = makeFreight(svc(i), N + i, new Date(NOW - 30_000).toISOString(), 'git')
          f.alias = generateAlias(f.name, taken)
          taken.add(f.alias)
          draft.freight[f.name] = f
          newest.push([`${svc(i)}-test`, f.name])
        }
        return `bench: a second freight for ${DUE} services`
      })
      const clones = Array.from({ length: RUNNERS }, (_, r) => {
        const dir = path.join(root, `runner-${r}`)
        git(root, 'clone', '-q', bare, dir)
        return dir
      })
      const before = tip()
      storeStats.reset()
      const t0 = performance.now()
      const results = await Promise.all(
        clones.map((dir, r) => {
          const stages = Array.from({ length: DUE }, (_, i) => i)
            .filter((i) => i % RUNNERS === r)
            .map((i) => `${svc(i)}-test`)
          const logger = new MemoryLogger()
          return commands.reconcile
            .run(context(logger, false, dir), { stage: stages, 'no-discover': true })
            .then((res) => ({ res, logger }))
        })
      )
      const ms = performance.now() - t0
      for (const { res, logger } of results)
        if (res.exitCode !== 0)
          throw new Error(`a runner exited ${res.exitCode}:
${logger.text().slice(-4000)}`)
      const store = storeStats.sum()
      shared = {
        label: `${RUNNERS} runners at once, ${DUE} test stages split between them`,
        ms,
        exitCode: 0,
        logs: '',
        stateCommits: Number(
          git(root, '--git-dir', bare, 'rev-list', '--count', `${before}..${tip()}`)
        ),
        store
      }
      console.log(`${shared.label}: ${Math.round(ms)} ms, ${shared.stateCommits} state commits`)
      runs.push(shared)
      const after = await seed.read()
      // Every due test stage holds its second freight (old promotions may have been GC'd).
      const behind = newest.filter(
        ([stage, name]) => currentFreightName(after, stage) !== name
      ).length
      if (behind) throw new Error(`${behind}/${DUE} test stages do not hold their new freight`)
    }

    console.log('\n| run | ms | state commits | StateStore fetches / pushes / CAS rejections |')
    console.log('|---|---|---|---|')
    for (const m of runs) {
      console.log(
        `| ${m.label} | ${Math.round(m.ms)} | ${m.stateCommits} | ${m.store.fetches} / ${m.store.pushes} / ${m.store.rejections} |`
      )
    }

    const missed: string[] = []
    const noopFetches = noop.store.fetches
    if (promote.ms > 120_000)
      missed.push(`promoting reconcile took ${Math.round(promote.ms / 1000)} s (target ≤ 120 s)`)
    if (promote.stateCommits > 50)
      missed.push(`promoting reconcile made ${promote.stateCommits} state commits (target ≤ 50)`)
    if (noop.stateCommits > 0)
      missed.push(`no-op reconcile made ${noop.stateCommits} state commits (target 0)`)
    if (noopFetches > 1)
      missed.push(`no-op reconcile fetched the state ${noopFetches} times (target 1)`)
    if (noop.ms > 10_000)
      missed.push(`no-op reconcile took ${Math.round(noop.ms)} ms (target ≤ 10 s)`)
    if (shared) {
      const writes = shared.store.pushes
      console.log(
        `\n${RUNNERS} runners: ${shared.store.rejections} CAS rejections over ${writes} pushes ` +
          `(${(shared.store.rejections / Math.max(1, shared.stateCommits)).toFixed(2)} per commit)`
      )
    }
    console.log(missed.length ? `\ntargets missed:\n- ${missed.join('\n- ')}` : '\nall targets met')
  } finally {
    fs.rmSync(root, { recursive: true, force: true })
  }
}

await main()
