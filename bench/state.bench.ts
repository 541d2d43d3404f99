// State store round trip: npm run bench -- state
// 10,000 freight + 50 stages (10 history entries each) + 100 promotions + 1,000 audit entries on a
// local bare repository. Measures the median StateStore.update() (mutator, serialize, plumbing
// commit, push) against a plain `git commit` + `git push` of the same state.json in a working
// clone, and the cold path (new store: fetch + parse + validate + update).
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { StateStore } from '../src/state/store.js'
import { StateSerializer, jsonKeyProblem, serializeState } from '../src/state/serialize.js'
import { validateState } from '../src/state/schema.js'
import { deepFreeze } from '../src/state/draft.js'
import { emptyStageState, emptyState, type State } from '../src/state/types.js'
import { freightCollectionId } from '../src/freight/id.js'
import { MemoryLogger } from '../src/util/logger.js'
import { generateAlias } from '../src/freight/alias.js'
import { addFreight, makeFreight, type FreightKind } from '../__tests__/support/state-fixtures.js'
import { median, sh } from './support.js'

const FREIGHT = Number(process.env.BENCH_FREIGHT ?? 10_000)
const STAGES = 50
const WAREHOUSES = 20
const RUNS = Number(process.env.BENCH_RUNS ?? 15)
const BRANCH = 'waybill/state'
/** Warehouses cycle through these subscription mixes (BENCH_KINDS=git+image for the heaviest). */
const KINDS = (process.env.BENCH_KINDS ?? 'image,git+image,git,chart+image').split(
  ','
) as FreightKind[]

const run = (cwd: string, ...args: string[]) => sh('git', args, cwd)

function bigState(): State {
  const state = emptyState()
  const taken = new Set<string>()
  for (let i = 0; i < FREIGHT; i++) {
    const w = i % WAREHOUSES
    const f = makeFreight(`warehouse-${w}`, i, undefined, KINDS[w % KINDS.length])
    f.alias = generateAlias(f.name, taken)
    taken.add(f.alias)
    state.freight[f.name] = f
  }
  const ids = Object.keys(state.freight)
  for (let s = 0; s < STAGES; s++) {
    const stage = emptyStageState()
    for (let h = 0; h < 10; h++) {
      const f = state.freight[ids[(s * 37 + h * 11) % ids.length]]
      stage.freightHistory.push({
        id: freightCollectionId([f.name]),
        items: { [`Warehouse/${f.origin.name}`]: { name: f.name, origin: f.origin } },
        verificationHistory: [
          { id: `v-${s}-${h}`, phase: 'Successful', startTime: '2025-01-02T00:00:00Z' }
        ]
      })
      f.status.currentlyIn[`stage-${s}`] ??= { since: '2025-01-02T00:00:00Z' }
    }
    stage.health = { status: 'Healthy', checkedAt: '2025-01-02T00:00:00Z' }
    state.stages[`stage-${s}`] = stage
  }
  for (let p = 0; p < 100; p++) {
    const name = `stage-${p % STAGES}.01jabcdefghjkmnpqrstv${String(p).padStart(5, '0')}.${ids[p].slice(0, 7)}`
    state.promotions[name] = {
      name,
      stage: `stage-${p % STAGES}`,
      freight: ids[p],
      phase: 'Succeeded',
      createdAt: '2025-01-02T00:00:00Z',
      finishedAt: '2025-01-02T00:01:00Z',
      steps: [
        { uses: 'git-clone', config: { repoURL: 'https://github.com/example/gitops' } },
        { uses: 'kustomize-set-image', config: { path: 'env/x', images: [{ image: 'app' }] } },
        { uses: 'git-commit', config: { path: './out', message: 'promote' } },
        { uses: 'git-push', config: { path: './out' } }
      ],
      currentStep: 4,
      stepExecutionMetadata: [{ alias: 'step-1', errorCount: 0, status: 'Succeeded' }],
      state: { 'step-3': { commit: ids[p] } }
    }
  }
  for (let a = 0; a < 1000; a++)
    state.audit.push({
      at: '2025-01-02T00:00:00Z',
      actor: 'octocat',
      action: 'promote',
      stage: 'stage-1',
      freight: ids[a % ids.length]
    })
  return state
}

async function main() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'waybill-bench-state-'))
  try {
    const bare = path.join(root, 'remote.git')
    const baseBare = path.join(root, 'baseline.git')
    const work = path.join(root, 'work')
    run(root, 'init', '-q', '--bare', bare)
    run(root, 'init', '-q', '--bare', baseBare)
    run(root, 'init', '-q', work)
    run(work, 'remote', 'add', 'origin', bare)

    const t0 = performance.now()
    const initial = bigState()
    const logger = new MemoryLogger()
    const seed = new StateStore({ repoDir: work, remote: 'origin', branch: BRANCH, logger })
    await seed.update((d) => {
      Object.assign(d, initial)
      return 'bench: seed'
    })
    const text = serializeState(initial)
    console.log(
      `seeded ${FREIGHT} freight (${KINDS.join(', ')}), ${STAGES} stages in ${Math.round(performance.now() - t0)} ms; state.json ${(Buffer.byteLength(text) / 1e6).toFixed(2)} MB`
    )

    // Waybill: one store, as a command would hold it after reading the state.
    const store = new StateStore({ repoDir: work, remote: 'origin', branch: BRANCH, logger })
    await store.read()
    const before = { ...store.stats }
    const ours: number[] = []
    let lastText = ''
    for (let i = 0; i < RUNS; i++) {
      const f = makeFreight('warehouse-new', 100_000 + i)
      const t = performance.now()
      const res = await store.update((d) => addFreight(d, f))
      ours.push(performance.now() - t)
      if (!res.committed) throw new Error('update did not commit')
      lastText = serializeState(res.state)
    }
    const fetchesPerUpdate = (store.stats.fetches - before.fetches) / RUNS
    const pushesPerUpdate = (store.stats.pushes - before.pushes) / RUNS

    // Cold: a new store per run (fetch, parse, validate, then update), as a fresh CI job does.
    const cold: number[] = []
    for (let i = 0; i < Math.min(RUNS, 7); i++) {
      const f = makeFreight('warehouse-cold', 200_000 + i)
      const t = performance.now()
      const s = new StateStore({ repoDir: work, remote: 'origin', branch: BRANCH, logger })
      await s.read()
      await s.update((d) => addFreight(d, f))
      cold.push(performance.now() - t)
    }

    // Read: a new store's first read() (what every command pays once), and its in-process part.
    const reads: number[] = []
    for (let i = 0; i < RUNS; i++) {
      const t = performance.now()
      await new StateStore({ repoDir: work, remote: 'origin', branch: BRANCH, logger }).read()
      reads.push(performance.now() - t)
    }
    const headText = execFileSync(
      'git',
      ['--git-dir', bare, 'cat-file', 'blob', `${BRANCH}:state.json`],
      { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 }
    )
    const parses: number[] = []
    for (let i = 0; i < RUNS; i++) {
      const t = performance.now()
      const doc = new StateSerializer().parse(headText)
      if (jsonKeyProblem(headText) || validateState(doc, [headText]).length)
        throw new Error('the state does not validate')
      deepFreeze(doc)
      parses.push(performance.now() - t)
    }

    // Baseline: plain commit + push of the same file in a working clone (content precomputed).
    const clone = path.join(root, 'baseline-work')
    run(root, 'init', '-q', clone)
    run(clone, 'remote', 'add', 'origin', baseBare)
    fs.writeFileSync(path.join(clone, 'state.json'), text)
    run(clone, 'add', 'state.json')
    run(clone, 'commit', '-q', '-m', 'seed')
    run(clone, 'push', '-q', 'origin', `HEAD:refs/heads/${BRANCH}`)
    const contents: string[] = []
    for (let i = 0; i < RUNS; i++) {
      // The same kind of change: one more freight line in a file of the same size.
      const s = JSON.parse(lastText) as State
      addFreight(s, makeFreight('warehouse-base', 300_000 + i))
      contents.push(serializeState(s))
    }
    const base: number[] = []
    for (let i = 0; i < RUNS; i++) {
      const t = performance.now()
      fs.writeFileSync(path.join(clone, 'state.json'), contents[i])
      run(clone, 'commit', '-q', '-m', `freight: add ${i}`, '--', 'state.json')
      run(clone, 'push', '-q', 'origin', `HEAD:refs/heads/${BRANCH}`)
      base.push(performance.now() - t)
    }

    const size = Buffer.byteLength(lastText)
    const m = median(ours)
    const b = median(base)
    console.log(`update() median:            ${m.toFixed(1)} ms  (${RUNS} runs)`)
    console.log(`git commit + push median:   ${b.toFixed(1)} ms`)
    console.log(`ratio:                      ${(m / b).toFixed(2)}x  (target <= 1.5x)`)
    console.log(`cold read + update median:  ${median(cold).toFixed(1)} ms`)
    console.log(`read() median (new store):  ${median(reads).toFixed(1)} ms  (target <= 300 ms)`)
    console.log(`parse + validate median:    ${median(parses).toFixed(1)} ms  (in process, no git)`)
    console.log(
      `fetches per update:         ${fetchesPerUpdate}  pushes per update: ${pushesPerUpdate}`
    )
    console.log(`state.json size:            ${(size / 1e6).toFixed(2)} MB  (target <= 5 MB)`)
    const ok = m / b <= 1.5 && size <= 5e6 && fetchesPerUpdate <= 1 && median(reads) <= 300
    if (!ok) {
      console.log('TARGET MISSED')
      process.exitCode = 1
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true })
  }
}

await main()
