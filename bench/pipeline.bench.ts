// A whole pipeline: npm run bench -- pipeline
// 50 stages (fan-out/in DAG), 3 Git-subscribed warehouses on local file:// repositories, a state
// with 200 freight. Measures (a) a `reconcile` with nothing to do — target: no state commit and
// at most one fetch of the state branch (exits non-zero when missed) — and (b) a `reconcile` that
// discovers a new commit and auto-promotes its freight through 10 stages, each promotion a real
// git-clone → git-clear → copy → yaml-update → git-commit → git-push to the stage's branch.
//
// Git operations are counted twice: StateStore.stats of every store the command opened (fetches,
// pushes, commits of the state branch), and every git process the run started, from Git's trace2
// event stream (GIT_TRACE2_EVENT, see __tests__/pipeline/git-trace.ts: top-level processes only,
// so a fetch's upload-pack does not count). No shim on PATH, so the timings pay no extra process.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { commands } from '../src/commands/index.js'
import type { CommandArgs, CommandContext } from '../src/runtime/context.js'
import { servicesFromFlags } from '../src/cli.js'
import { StateStore, type StateStoreStats } from '../src/state/store.js'
import { emptyStageState, type State } from '../src/state/types.js'
import { freightCollectionId } from '../src/freight/id.js'
import { generateAlias } from '../src/freight/alias.js'
import { MemoryLogger } from '../src/util/logger.js'
import { makeFreight } from '../__tests__/support/state-fixtures.js'
import {
  countBySubcommand,
  stateBranchCalls,
  subcommand,
  traceGit,
  type GitCall
} from '../__tests__/pipeline/git-trace.js'
import { median, sh, storeStats } from './support.js'

const BRANCH = 'waybill/state'
const WAREHOUSES = ['api', 'web', 'cfg']
/** Per warehouse: 10 auto-promoted stages (the chain a new freight travels) … */
const AUTO = ['dev', 'test-a', 'test-b', 'test-c', 'uat', 'stg-us', 'stg-eu', 'preprod', 'canary']
const AUTO_LAST = 'prod'
/** … and 5 promoted by hand; plus 5 disaster-recovery stages taking all three origins. */
const MANUAL = ['prod-us-east', 'prod-us-west', 'prod-eu-west', 'prod-eu-central', 'prod-ap']
const DR = 5
const FREIGHT = 200
const NOOP_RUNS = Number(process.env.BENCH_RUNS ?? 5)
const PROMOTE_RUNS = Number(process.env.BENCH_PROMOTE_RUNS ?? 3)

const git = (cwd: string, ...args: string[]) => sh('git', args, cwd)

interface Repo {
  bare: string
  work: string
  url: string
}

function makeRepo(root: string, name: string, files: Record<string, string>): Repo {
  const bare = path.join(root, 'git', `${name}.git`)
  const work = path.join(root, 'work', name)
  fs.mkdirSync(path.dirname(bare), { recursive: true })
  git(root, 'init', '-q', '--bare', '-b', 'main', bare)
  git(root, 'init', '-q', '-b', 'main', work)
  git(work, 'remote', 'add', 'origin', bare)
  writeAndPush(work, files, 'initial')
  return { bare, work, url: `file://${bare}` }
}

function writeAndPush(work: string, files: Record<string, string>, message: string): string {
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(work, rel)), { recursive: true })
    fs.writeFileSync(path.join(work, rel), text)
  }
  git(work, 'add', '-A')
  git(work, 'commit', '-q', '--allow-empty', '-m', message)
  git(work, 'push', '-q', 'origin', 'HEAD:main')
  return git(work, 'rev-parse', 'HEAD')
}

// ---------- the pipeline ----------

const stageDoc = (
  name: string,
  requests: Array<{ warehouse: string; from?: string[]; all?: boolean }>,
  task: string
) => {
  const rf = requests
    .map(({ warehouse, from, all }) => {
      const sources = from
        ? `{ stages: [${from.join(', ')}]${all ? ', availabilityStrategy: All' : ''} }`
        : '{ direct: true }'
      return `    - origin: { kind: Warehouse, name: ${warehouse} }\n      sources: ${sources}`
    })
    .join('\n')
  return `apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata: { name: ${name} }
spec:
  requestedFreight:
${rf}
  promotionTemplate: { spec: { steps: [ { task: { name: ${task} } } ] } }
`
}

/** Stage names of one warehouse, in the order a new freight reaches them. */
function ownStages(w: string) {
  return {
    auto: [...AUTO, AUTO_LAST].map((s) => `${w}-${s}`),
    manual: MANUAL.map((s) => `${w}-${s}`)
  }
}

function config(gitopsUrl: string, src: Record<string, Repo>): Record<string, string> {
  const docs: string[] = []
  for (const w of WAREHOUSES) {
    const s = (n: string) => `${w}-${n}`
    const task = `deploy-${w}`
    docs.push(
      stageDoc(s('dev'), [{ warehouse: w }], task),
      // fan-out to three test stages, fan-in (All) at uat
      ...['test-a', 'test-b', 'test-c'].map((t) =>
        stageDoc(s(t), [{ warehouse: w, from: [s('dev')] }], task)
      ),
      stageDoc(
        s('uat'),
        [{ warehouse: w, from: [s('test-a'), s('test-b'), s('test-c')], all: true }],
        task
      ),
      // fan-out to two staging regions, fan-in (All) at preprod
      ...['stg-us', 'stg-eu'].map((t) =>
        stageDoc(s(t), [{ warehouse: w, from: [s('uat')] }], task)
      ),
      stageDoc(s('preprod'), [{ warehouse: w, from: [s('stg-us'), s('stg-eu')], all: true }], task),
      stageDoc(s('canary'), [{ warehouse: w, from: [s('preprod')] }], task),
      // fan-out from canary: prod (auto) and five regions (manual)
      stageDoc(s(AUTO_LAST), [{ warehouse: w, from: [s('canary')] }], task),
      ...MANUAL.map((m) => stageDoc(s(m), [{ warehouse: w, from: [s('canary')] }], task))
    )
  }
  for (let i = 1; i <= DR; i++)
    docs.push(
      stageDoc(
        `dr-${i}`,
        WAREHOUSES.map((w) => ({ warehouse: w, from: [`${w}-${AUTO_LAST}`] })),
        'deploy-dr'
      )
    )
  const files: Record<string, string> = {
    'base/values.yaml': 'app:\n  name: shop\n  commit: none # set per stage\n  replicas: 2\n',
    '.waybill/stages.yaml': docs.join('---\n'),
    '.waybill/project-config.yaml': `apiVersion: kargo.akuity.io/v1alpha1
kind: ProjectConfig
metadata: { name: bench }
spec:
  promotionPolicies:
    - stageSelector: { name: 'regex:^(${WAREHOUSES.join('|')})-(${[...AUTO, AUTO_LAST].join('|')})$' }
      autoPromotionEnabled: true
`,
    '.waybill/task-dr.yaml': `apiVersion: kargo.akuity.io/v1alpha1
kind: PromotionTask
metadata: { name: deploy-dr }
spec:
  steps:
    - uses: compose-output
      config: { site: dr }
`
  }
  for (const w of WAREHOUSES) {
    files[`.waybill/warehouse-${w}.yaml`] = `apiVersion: kargo.akuity.io/v1alpha1
kind: Warehouse
metadata: { name: ${w} }
spec:
  interval: 5m
  subscriptions:
    - git:
        repoURL: ${src[w].url}
        branch: main
`
    files[`.waybill/task-${w}.yaml`] = `apiVersion: kargo.akuity.io/v1alpha1
kind: PromotionTask
metadata: { name: deploy-${w} }
spec:
  vars:
    - name: gitopsRepo
      value: ${gitopsUrl}
    - name: srcRepo
      value: ${src[w].url}
  steps:
    - uses: git-clone
      config:
        repoURL: \${{ vars.gitopsRepo }}
        checkout:
          - branch: main
            path: ./src
          - branch: stage/\${{ ctx.stage }}
            create: true
            path: ./out
    - uses: git-clear
      config: { path: ./out }
    - uses: copy
      config: { inPath: ./src/base/values.yaml, outPath: ./out/values.yaml }
    - uses: yaml-update
      config:
        path: ./out/values.yaml
        updates:
          - key: app.commit
            value: \${{ commitFrom(vars.srcRepo).ID }}
    - uses: git-commit
      config:
        path: ./out
        message: deploy \${{ commitFrom(vars.srcRepo).ID }} to \${{ ctx.stage }}
    - uses: git-push
      config:
        path: ./out
        targetBranch: stage/\${{ ctx.stage }}
`
  }
  return files
}

/**
 * 197 older freight (the 3 discovered at setup make 200), each in the freight history of one of
 * its warehouse's stages, so GC keeps all of them; the DR stages hold one 3-origin collection.
 * They are verified only in the manual stages (leaves), so no auto-promoted stage sees one of
 * them as a candidate: the pipeline is settled once the discovered freight has gone through.
 */
function seedState(draft: State): void {
  const taken = new Set<string>()
  const seeded = FREIGHT - WAREHOUSES.length
  const byWarehouse = new Map<string, string[]>()
  for (let i = 0; i < seeded; i++) {
    const w = WAREHOUSES[i % WAREHOUSES.length]
    const f = makeFreight(w, i, undefined, 'git')
    f.alias = generateAlias(f.name, taken)
    taken.add(f.alias)
    draft.freight[f.name] = f
    byWarehouse.set(w, [...(byWarehouse.get(w) ?? []), f.name])
  }
  for (const w of WAREHOUSES) {
    const { auto, manual } = ownStages(w)
    const stages = [...auto, ...manual]
    const names = byWarehouse.get(w)!
    names.forEach((name, k) => {
      const stage = stages[k % stages.length]
      const st = (draft.stages[stage] ??= emptyStageState())
      const f = draft.freight[name]
      // Oldest first, so history[0] (the current collection) is the newest of the stage.
      st.freightHistory.unshift({
        id: freightCollectionId([name]),
        items: { [`Warehouse/${w}`]: { name, origin: f.origin } },
        verificationHistory: []
      })
      // Verified only where nothing auto-promoted reads it: superseded history elsewhere.
      if (manual.includes(stage)) f.status.verifiedIn[stage] = { verifiedAt: f.discoveredAt }
    })
    for (const stage of stages) {
      const cur = draft.stages[stage]?.freightHistory[0]
      if (cur)
        for (const ref of Object.values(cur.items))
          draft.freight[ref.name].status.currentlyIn[stage] = { since: '2025-01-02T00:00:00Z' }
    }
  }
  for (let i = 1; i <= DR; i++) {
    const items = Object.fromEntries(
      WAREHOUSES.map((w) => {
        const name = byWarehouse.get(w)!.at(-i)!
        return [`Warehouse/${w}`, { name, origin: draft.freight[name].origin }]
      })
    )
    const st = (draft.stages[`dr-${i}`] = emptyStageState())
    st.freightHistory.push({
      id: freightCollectionId(Object.values(items).map((x) => x.name)),
      items,
      verificationHistory: []
    })
    for (const ref of Object.values(items))
      draft.freight[ref.name].status.currentlyIn[`dr-${i}`] = { since: '2025-01-02T00:00:00Z' }
  }
}

// ---------- running and counting ----------


interface Measured {
  ms: number
  exitCode: number
  logs: string
  calls: GitCall[]
  store: StateStoreStats
  /** Commits the state branch gained (counted on the remote). */
  stateCommits: number
}

class Bench {
  nowMs = Date.UTC(2025, 5, 1, 12)
  constructor(
    readonly gitops: Repo,
    readonly root: string
  ) {}

  context(logger: MemoryLogger): CommandContext {
    return {
      repoDir: this.gitops.work,
      configDir: '.waybill',
      stateBranch: BRANCH,
      remote: 'origin',
      project: 'bench',
      json: false,
      logger,
      services: servicesFromFlags({}, { PATH: process.env.PATH }),
      actor: 'bench',
      waitMs: 0,
      print: (t) => logger.info(t),
      now: () => new Date(this.nowMs)
    }
  }

  stateTip(): string {
    return git(this.root, '--git-dir', this.gitops.bare, 'rev-parse', `refs/heads/${BRANCH}`)
  }

  async reconcile(args: CommandArgs = {}): Promise<Measured> {
    const logger = new MemoryLogger()
    const before = this.stateTip()
    storeStats.reset()
    const t0 = performance.now()
    const { result, calls } = await traceGit(() =>
      commands.reconcile.run(this.context(logger), args)
    )
    const ms = performance.now() - t0
    const after = this.stateTip()
    const store = storeStats.sum()
    const stateCommits = Number(
      git(this.root, '--git-dir', this.gitops.bare, 'rev-list', '--count', `${before}..${after}`)
    )
    return { ms, exitCode: result.exitCode, logs: logger.text(), calls, store, stateCommits }
  }
}

function row(label: string, runs: Measured[]): string {
  const m = runs[runs.length >> 1]
  const st = stateBranchCalls(m.calls, BRANCH)
  const lsRemote = m.calls.filter((c) => subcommand(c.argv) === 'ls-remote').length
  return `| ${label} | ${Math.round(median(runs.map((r) => r.ms)))} | ${m.calls.length} | ${st.fetches.length} / ${st.pushes.length} | ${lsRemote} | ${m.store.fetches} / ${m.store.pushes} / ${m.store.rejections} | ${m.stateCommits} |`
}

function top(calls: GitCall[], n = 8): string {
  return countBySubcommand(calls)
    .slice(0, n)
    .map(([c, k]) => `${c} ${k}`)
    .join(', ')
}

async function main() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'waybill-bench-pipeline-'))
  let failed = false
  try {
    const src: Record<string, Repo> = {}
    for (const w of WAREHOUSES)
      src[w] = makeRepo(root, `${w}-src`, { 'app.txt': `${w} v0\n`, 'README.md': `# ${w}\n` })
    const gitopsBare = path.join(root, 'git', 'gitops.git')
    const gitops = makeRepo(root, 'gitops', config(`file://${gitopsBare}`, src))
    const bench = new Bench(gitops, root)

    // Setup: seed 197 freight, then one reconcile discovers the three warehouses and moves their
    // freight through the 30 auto-promoted stages.
    const seed = new StateStore({
      repoDir: gitops.work,
      remote: 'origin',
      branch: BRANCH,
      logger: new MemoryLogger()
    })
    await seed.update((d) => {
      seedState(d)
      return 'bench: seed 197 freight'
    })
    const t0 = performance.now()
    const setup = await bench.reconcile()
    if (setup.exitCode !== 0) throw new Error(`setup reconcile failed:\n${setup.logs}`)
    const state = await seed.read()
    const promoted = Object.values(state.promotions).filter((p) => p.phase === 'Succeeded')
    console.log(
      `setup: ${Object.keys(state.freight).length} freight, ${Object.keys(state.stages).length} stages, ` +
        `${promoted.length} promotions in ${Math.round(performance.now() - t0)} ms ` +
        `(${setup.stateCommits} state commits, ${setup.calls.length} git processes)`
    )
    if (Object.keys(state.freight).length !== FREIGHT)
      throw new Error(`expected ${FREIGHT} freight after setup`)

    // (a) nothing to do: same minute, warehouses not due, every stage current.
    const noop: Measured[] = []
    for (let i = 0; i < NOOP_RUNS; i++) noop.push(await bench.reconcile())
    // (a″) the same with --publish-page, as the Action runs reconcile (input status-page, on by
    // default); the first run publishes the page, the second is measured.
    await bench.reconcile({ 'publish-page': true })
    const page = [await bench.reconcile({ 'publish-page': true })]
    // (a′) nothing new, but the warehouses are due: discovery asks each repository (ls-remote).
    bench.nowMs += 6 * 60_000
    const due = [await bench.reconcile()]

    // (b) a new commit on api-src: discovered and auto-promoted through api's 10 stages.
    const chain: Measured[] = []
    for (let i = 1; i <= PROMOTE_RUNS; i++) {
      const sha = writeAndPush(src.api.work, { 'app.txt': `api v${i}\n` }, `api v${i}`)
      bench.nowMs += 6 * 60_000
      const m = await bench.reconcile()
      const after = await seed.read()
      const f = Object.values(after.freight).find((x) => x.commits[0]?.id === sha)
      const reached = ownStages('api').auto.filter(
        (s) => f && after.stages[s]?.freightHistory[0]?.items['Warehouse/api']?.name === f.name
      )
      if (m.exitCode !== 0 || reached.length !== 10)
        throw new Error(
          `run ${i}: new freight reached ${reached.length}/10 stages (exit ${m.exitCode})\n${m.logs}`
        )
      chain.push(m)
    }

    console.log(
      '\n| run | median ms | git processes | state branch fetch / push | ls-remote | StateStore fetches / pushes / rejected | state commits |'
    )
    console.log('|---|---|---|---|---|---|---|')
    console.log(row(`(a) nothing to do, warehouses not due (${NOOP_RUNS} runs)`, noop))
    console.log(row('(a″) nothing to do, --publish-page (Action default)', page))
    console.log(row('(a′) nothing new, 3 warehouses due', due))
    console.log(row(`(b) new freight through 10 stages (${PROMOTE_RUNS} runs)`, chain))
    console.log(`\n(a) git processes: ${top(noop[0].calls)}`)
    console.log(`(a″) git processes: ${top(page[0].calls)}`)
    console.log(`(a′) git processes: ${top(due[0].calls)}`)
    console.log(`(b) git processes: ${top(chain[0].calls, 12)}`)
    const perPromotion = chain.map((m) => m.calls.length / 10)
    console.log(`(b) git processes per promotion (incl. state writes): ${median(perPromotion)}`)

    for (const m of noop) {
      const { fetches, pushes } = stateBranchCalls(m.calls, BRANCH)
      if (fetches.length > 1 || pushes.length > 0 || m.stateCommits > 0 || m.store.commits > 0) {
        failed = true
        console.error(
          `TARGET MISSED: no-op reconcile made ${fetches.length} fetches, ${pushes.length} pushes, ` +
            `${m.stateCommits} state commits (git: ${top(m.calls, 20)})`
        )
        break
      }
    }
    if (!failed)
      console.log('\ntarget met: the no-op reconcile makes no state commit and ≤ 1 fetch')
    // Reported, not (yet) a target: src/report/publish.ts reads the branch again.
    const pageFetches = stateBranchCalls(page[0].calls, BRANCH).fetches.length
    if (pageFetches > 1 || page[0].stateCommits > 0)
      console.warn(
        `note: with --publish-page the no-op reconcile makes ${pageFetches} fetches and ` +
          `${page[0].stateCommits} state commits`
      )
  } finally {
    fs.rmSync(root, { recursive: true, force: true })
  }
  process.exitCode = failed ? 1 : 0
}

await main()
