import { describe, expect, it } from '@jest/globals'
import { spawn } from 'node:child_process'
import path from 'node:path'
import {
  ROOT,
  STAGES,
  makePipeline,
  pipelineProblems,
  readState,
  runCli,
  stageCommits,
  sh,
  type CliRun
} from '../support/reliability-pipeline.js'
import { nodeArgs } from '../support/built-entry.js'

/**
 * Concurrent runs against one repository: separate processes, each with its own clone, all
 * discovering and promoting at once while new commits land on the app repository.
 * WAYBILL_SOAK=1 runs more processes and commits.
 */
const SOAK = process.env.WAYBILL_SOAK === '1'
const RUNS = SOAK ? 40 : 20
const APP_COMMITS = SOAK ? 8 : 3

function claim(repoDir: string, promotion: string, holder: string, leaseMs: number) {
  const script = path.join(ROOT, '__tests__', 'support', 'reliability-claim.ts')
  const child = spawn(
    'node',
    nodeArgs(script, repoDir, promotion, holder, `${leaseMs}`),
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe']
    }
  )
  let out = ''
  let err = ''
  child.stdout.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr.on('data', (d: Buffer) => (err += d.toString()))
  return new Promise<{ claimed: boolean; attempts: number; holder: string }>((resolve, reject) =>
    child.on('close', (code) =>
      code === 0
        ? resolve({ ...JSON.parse(out), holder })
        : reject(new Error(`claim exited ${code}: ${err}`))
    )
  )
}

describe('reliability: concurrent runs', () => {
  it(`${RUNS} concurrent reconciles: freight once, linear stage branches matching the state, each promotion run once`, async () => {
    const p = makePipeline()
    const clones = Array.from({ length: RUNS }, (_, i) => p.clone(`run${i}`))
    const started = Date.now()
    const pushed: string[] = []
    // Runs start over a few seconds, and new app commits land while they are going.
    const runs: Array<Promise<CliRun>> = clones.map(
      (dir, i) =>
        new Promise<CliRun>((resolve) =>
          setTimeout(
            () =>
              resolve(
                runCli(['reconcile', '--force-discover', '--verbose', '--repo-dir', dir]).done
              ),
            Math.round((i / RUNS) * 6000 * Math.random())
          )
        )
    )
    for (let i = 0; i < APP_COMMITS; i++) {
      await new Promise((r) => setTimeout(r, 1500 + Math.random() * 1500))
      pushed.push(p.appCommit(`c${i}`))
    }
    const results = await Promise.all(runs)
    const concurrentMs = Date.now() - started
    const attempts = results.flatMap((r) =>
      [...r.stderr.matchAll(/retrying in \d+ ms \(attempt (\d+)\)/g)].map((m) => Number(m[1]))
    )
    const maxAttempt = Math.max(1, ...attempts)
    const failed = results.filter((r) => r.code !== 0).length
    console.log(
      `races: ${failed} of ${RUNS} runs failed; ${attempts.length} CAS retries, most attempts for one write ${maxAttempt}`
    )
    for (const r of results) {
      expect(r.stderr).not.toMatch(/error:/)
      expect(r.code).toBe(0)
    }
    // A last run drains what the concurrent runs left queued (a stage was busy): nothing lost.
    const settle = await runCli(['reconcile', '--force-discover', '--repo-dir', p.clone('settle')])
      .done
    expect(settle.code).toBe(0)
    expect(pipelineProblems(p.gitops.bare)).toEqual([])
    const state = readState(p.gitops.bare)
    // The last app commit is freight and current everywhere.
    const tip = pushed[pushed.length - 1]
    const last = Object.values(state.freight).find((f) => f.commits[0]?.id === tip)
    expect(last).toBeDefined()
    for (const stage of STAGES)
      expect(Object.values(state.stages[stage].freightHistory[0].items)[0].name).toBe(last!.name)
    // Every promotion finished, and succeeded (nothing lost in Pending/Running).
    const phases = Object.values(state.promotions).map((x) => x.phase)
    expect(phases.filter((x) => x !== 'Succeeded')).toEqual([])
    // Every freight recorded was one of the commits pushed to app (or the initial one).
    const known = new Set(pushed)
    const initial = Object.values(state.freight).filter((f) => !known.has(f.commits[0].id))
    expect(initial.length).toBeLessThanOrEqual(1)
    const commits = STAGES.map((s) => stageCommits(p.gitops.bare, s).length)
    console.log(
      `races: ${RUNS} concurrent reconciles in ${concurrentMs} ms; ${Object.keys(state.freight).length} freight, ` +
        `${phases.length} promotions, stage commits ${commits.join('/')}, ` +
        `${sh('git', ['--git-dir', p.gitops.bare, 'rev-list', '--count', 'waybill/state'])} state commits, ` +
        `${attempts.length} CAS retries (most attempts for one write: ${maxAttempt})`
    )
  }, 240_000)

  it('the lease: of 20 processes claiming one promotion, exactly one wins; a live lease is not taken over', async () => {
    const p = makePipeline()
    const dir = p.clone('setup')
    expect((await runCli(['discover', '--repo-dir', dir]).done).code).toBe(0)
    const queued = await runCli([
      'promote',
      '--repo-dir',
      dir,
      '--stage',
      'test',
      '--freight',
      'latest',
      '--no-run',
      '--json'
    ]).done
    expect(queued.code).toBe(0)
    const name = JSON.parse(queued.stdout).promotion as string
    const clones = Array.from({ length: 20 }, (_, i) => p.clone(`claim${i}`))
    const first = await Promise.all(clones.map((c, i) => claim(c, name, `holder-${i}`, 60_000)))
    const winners = first.filter((r) => r.claimed)
    expect(winners).toHaveLength(1)
    const state = readState(p.gitops.bare)
    expect(state.promotions[name].lease?.holder).toBe(winners[0].holder)
    expect(state.promotions[name].phase).toBe('Running')
    // Some had to retry the compare-and-swap, or there was no contention.
    expect(first.some((r) => r.attempts > 1)).toBe(true)
    // While the lease is live, nobody else gets it.
    const second = await Promise.all(
      clones.slice(0, 8).map((c, i) => claim(c, name, `late-${i}`, 60_000))
    )
    expect(second.filter((r) => r.claimed)).toEqual([])
    expect(readState(p.gitops.bare).promotions[name].lease?.holder).toBe(winners[0].holder)
  }, 120_000)
})
