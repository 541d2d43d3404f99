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
import { StateSerializer, jsonKeyProblem } from '../src/state/serialize.js'
import { FreightFileSerializer, warehouseOfFile } from '../src/state/freight-files.js'
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

/** Every file at a commit of the state branch, with its size. */
function branchFiles(bare: string, commit: string): Array<{ path: string; bytes: number }> {
  return sh('git', ['--git-dir', bare, 'ls-tree', '-r', '-l', commit], bare)
    .split('\n')
    .map((line) => {
      const [meta, file] = line.split('\t')
      return { path: file, bytes: Number(meta.trim().split(/\s+/)[3]) }
    })
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
    const seedTip = sh('git', ['--git-dir', bare, 'rev-parse', `refs/heads/${BRANCH}`])
    console.log(
      `seeded ${FREIGHT} freight (${KINDS.join(', ')}), ${STAGES} stages in ${Math.round(performance.now() - t0)} ms; ${branchFiles(bare, seedTip).length} files`
    )

    // Waybill: one store, as a command would hold it after reading the state.
    const store = new StateStore({ repoDir: work, remote: 'origin', branch: BRANCH, logger })
    await store.read()
    const before = { ...store.stats }
    const ours: number[] = []
    const ourCommits: string[] = []
    for (let i = 0; i < RUNS; i++) {
      const f = makeFreight(`warehouse-${i % WAREHOUSES}`, 100_000 + i)
      const t = performance.now()
      const res = await store.update((d) => addFreight(d, f))
      ours.push(performance.now() - t)
      if (!res.committed || !res.commit) throw new Error('update did not commit')
      ourCommits.push(res.commit)
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
    // In process: parse, key scan, validation and freezing of every file at the tip.
    const tip = ourCommits[ourCommits.length - 1]
    const texts = branchFiles(bare, tip).map(({ path: file }) => ({
      file,
      text: execFileSync('git', ['--git-dir', bare, 'cat-file', 'blob', `${tip}:${file}`], {
        encoding: 'utf8',
        maxBuffer: 256 * 1024 * 1024
      })
    }))
    const parses: number[] = []
    for (let i = 0; i < RUNS; i++) {
      const t = performance.now()
      const files = new FreightFileSerializer()
      let doc: Record<string, unknown> = {}
      const freight: Record<string, unknown> = {}
      for (const { file, text } of texts) {
        if (file === 'state.json') {
          doc = new StateSerializer().parse(text) as Record<string, unknown>
          if (jsonKeyProblem(text)) throw new Error('state.json has a key problem')
        } else Object.assign(freight, files.parse(warehouseOfFile(path.basename(file))!, text))
      }
      doc.freight = freight
      if (
        validateState(
          doc,
          texts.map((t) => t.text)
        ).length
      )
        throw new Error('the state does not validate')
      deepFreeze(doc)
      parses.push(performance.now() - t)
    }

    // Baseline: the same changes (the files each of our commits changed, contents precomputed)
    // written, committed and pushed with plain git in a working clone.
    run(work, 'push', '-q', baseBare, `${seedTip}:refs/heads/${BRANCH}`)
    const clone = path.join(root, 'baseline-work')
    run(root, 'clone', '-q', '--branch', BRANCH, baseBare, clone)
    const changes = ourCommits.map((c) =>
      run(work, 'diff-tree', '-r', '--name-only', '--no-commit-id', `${c}~1`, c)
        .split('\n')
        .map((file) => ({ file, text: run(work, 'cat-file', 'blob', `${c}:${file}`) + '\n' }))
    )
    const base: number[] = []
    for (let i = 0; i < RUNS; i++) {
      const t = performance.now()
      for (const { file, text } of changes[i]) {
        fs.mkdirSync(path.dirname(path.join(clone, file)), { recursive: true })
        fs.writeFileSync(path.join(clone, file), text)
      }
      run(clone, 'add', '--', ...changes[i].map((c) => c.file))
      run(clone, 'commit', '-q', '-m', `freight: add ${i}`)
      run(clone, 'push', '-q', 'origin', `HEAD:refs/heads/${BRANCH}`)
      base.push(performance.now() - t)
    }

    const files = branchFiles(bare, tip)
    const size = files.reduce((sum, f) => sum + f.bytes, 0)
    const largest = files.reduce((a, b) => (b.bytes > a.bytes ? b : a))
    const written = changes.flat().reduce((sum, c) => sum + Buffer.byteLength(c.text), 0) / RUNS
    const m = median(ours)
    const b = median(base)
    console.log(`update() median:            ${m.toFixed(1)} ms  (${RUNS} runs)`)
    console.log(`git commit + push median:   ${b.toFixed(1)} ms`)
    console.log(`ratio:                      ${(m / b).toFixed(2)}x  (target <= 1.5x)`)
    console.log(`cold read + update median:  ${median(cold).toFixed(1)} ms`)
    console.log(
      `read() median (new store):  ${median(reads).toFixed(1)} ms  (fetch, ls-tree, cat-file included)`
    )
    console.log(
      `parse + validate median:    ${median(parses).toFixed(1)} ms  (in process, no git; target <= 300 ms)`
    )
    console.log(
      `fetches per update:         ${fetchesPerUpdate}  pushes per update: ${pushesPerUpdate}`
    )
    console.log(
      `state size:                 ${(size / 1e6).toFixed(2)} MB in ${files.length} files (target <= 5 MB); largest ${largest.path} ${(largest.bytes / 1e6).toFixed(2)} MB`
    )
    console.log(`bytes written per update:   ${(written / 1e3).toFixed(0)} kB (files changed)`)
    const ok = m / b <= 1.5 && size <= 5e6 && fetchesPerUpdate <= 1 && median(parses) <= 300
    if (!ok) {
      console.log('TARGET MISSED')
      process.exitCode = 1
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true })
  }
}

await main()
