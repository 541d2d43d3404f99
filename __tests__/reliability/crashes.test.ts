import { describe, expect, it } from '@jest/globals'
import fs from 'node:fs'
import path from 'node:path'
import {
  makePipeline,
  pipelineProblems,
  readState,
  runCli,
  type Pipeline
} from '../support/reliability-pipeline.js'
import { showFile } from '../support/git.js'

/**
 * SIGKILL at random points: each reconcile is killed (with its git children) a random few
 * milliseconds after it enters a randomly chosen phase — discovery, a state update, or one of
 * the promotion steps — so the kills land everywhere however fast the machine is; the next run
 * must recover.
 * Leases last 1 s (WAYBILL_LEASE_SECONDS) so a crashed run's promotion is resumed by the next.
 * Two pipelines run side by side (one per core), a chain and a fan-out whose four middle stages
 * are promoted at once with batched result writes: 60 iterations by default (30 per pipeline), sized
 * so a loaded 2-core machine finishes within the timeout; WAYBILL_SOAK=1 runs 400 (200 each).
 */
const SOAK = process.env.WAYBILL_SOAK === '1'
const PER_PIPELINE = SOAK ? 200 : 30
const ENV = { WAYBILL_LEASE_SECONDS: '1' }

/** Where a run may be killed: entering discovery, a state write, or a promotion step. */
const KILL_POINTS = [
  /Warehouse app/,
  /debug: state: /,
  /queued auto-promotion/,
  /step task-1::step-1 \(/,
  /step task-1::step-2 \(/,
  /step task-1::step-3 \(/,
  /step task-1::step-4 \(/,
  /promotion: .* running/
]

/**
 * With a file:// remote the "server" side of a push (receive-pack) is a child of the killed run
 * and dies with it, leaving ref locks in the remote repository. A real Git server outlives a
 * killed client and releases them, so the test plays the server's part. (Waybill itself names
 * such a lock in its error: __tests__/state/remote-lock.test.ts.)
 */
function releaseServerLocks(bare: string): void {
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name)
      if (e.isDirectory()) walk(p)
      else if (e.name.endsWith('.lock')) fs.rmSync(p, { force: true })
    }
  }
  walk(path.join(bare, 'refs'))
  fs.rmSync(path.join(bare, 'packed-refs.lock'), { force: true })
}

/** Where the run was when it died, from the last thing it printed. */
function phaseOf(stderr: string): string {
  const lines = stderr.trim().split('\n')
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = lines[i]
    const step = /step task-1::step-\d+ \(([\w-]+)\)/.exec(l)
    if (step) return `step ${step[1]}`
    if (/state: (freight|discovery)|Warehouse app|Discovery|discovery:/.test(l)) return 'discovery'
    if (/state: |moved, retrying|queued auto-promotion|✔|succeeded$/.test(l)) return 'state update'
  }
  return 'startup'
}

async function crashLoop(p: Pipeline, iterations: number, phases: Map<string, number>) {
  const clones = [p.clone('a'), p.clone('b'), p.clone('c')]
  let killed = 0
  let stale = 0
  for (let i = 0; i < iterations; i++) {
    if (i % 7 === 0) p.appCommit(`crash-${i}`)
    const dir = clones[i % clones.length]
    const trigger = KILL_POINTS[Math.floor(Math.random() * KILL_POINTS.length)]
    const r = await runCli(['reconcile', '--force-discover', '--verbose', '--repo-dir', dir], {
      env: ENV,
      killWhen: trigger,
      killDelayMs: Math.round(Math.random() * 150)
    }).done
    if (r.signal === 'SIGKILL') {
      killed++
      releaseServerLocks(p.gitops.bare)
      const phase = phaseOf(r.stderr)
      phases.set(phase, (phases.get(phase) ?? 0) + 1)
    } else {
      // A run that was not killed may still meet a lease it must wait out; never an error.
      expect(r.stderr).not.toMatch(/^error:/m)
      expect(r.code).toBe(0)
    }
    // Whatever happened, the state branch is absent (killed before the first write) or valid.
    if (showFile(p.gitops.bare, 'waybill/state', 'state.json') === undefined) continue
    const state = readState(p.gitops.bare)
    if (r.signal === 'SIGKILL')
      stale += Object.values(state.promotions).filter((x) => x.phase === 'Running').length
  }
  return { killed, stale }
}

describe('reliability: SIGKILL at random points', () => {
  it(`${PER_PIPELINE * 2} killed runs over two pipelines; the next run recovers to a consistent state`, async () => {
    const started = Date.now()
    const phases = new Map<string, number>()
    const pipelines = [makePipeline('chain'), makePipeline('fan-out')]
    const loops = await Promise.all(pipelines.map((p) => crashLoop(p, PER_PIPELINE, phases)))
    const killed = loops.reduce((n, l) => n + l.killed, 0)
    const stale = loops.reduce((n, l) => n + l.stale, 0)
    // Some kills left a Running promotion behind, for the next run to resume.
    expect(stale).toBeGreaterThan(0)
    // Let the last leases expire, then one clean run per pipeline finishes everything.
    await new Promise((r) => setTimeout(r, 1100))
    for (const p of pipelines) {
      const r = await runCli(['reconcile', '--force-discover', '--repo-dir', p.clone('final')], {
        env: ENV
      }).done
      expect(r.stderr).not.toMatch(/^error:/m)
      expect(r.code).toBe(0)
      expect(pipelineProblems(p.gitops.bare, { stages: p.stages })).toEqual([])
      const state = readState(p.gitops.bare)
      const tip = Object.values(state.freight).sort((a, b) =>
        a.discoveredAt < b.discoveredAt ? 1 : -1
      )[0]
      for (const stage of p.stages)
        expect(Object.values(state.stages[stage].freightHistory[0].items)[0].name).toBe(tip.name)
      expect(Object.values(state.promotions).filter((x) => x.lease)).toEqual([])
    }
    const summary = [...phases.entries()].map(([k, v]) => `${k}: ${v}`).join(', ')
    console.log(
      `crashes: ${PER_PIPELINE * 2} iterations, ${killed} killed (${summary}); ` +
        `${stale} times a stale Running promotion was left; ${Date.now() - started} ms`
    )
    // The kills landed in discovery, state updates and promotion steps.
    expect(phases.get('discovery') ?? 0).toBeGreaterThan(0)
    expect([...phases.keys()].filter((k) => k.startsWith('step ')).length).toBeGreaterThan(1)
  }, 600_000)
})
