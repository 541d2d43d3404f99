import { describe, expect, it } from '@jest/globals'
import { spawn } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { makeRepo, sh } from '../support/git.js'
import { makeFreight } from '../support/state-fixtures.js'
import { readBranchState } from '../support/state-branch.js'
import { validateState } from '../../src/state/schema.js'
import type { State } from '../../src/state/types.js'
import { nodeArgs } from '../support/built-entry.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(here, '..', '..')
const writer = path.join(root, '__tests__', 'support', 'state-writer.ts')
const BRANCH = 'waybill/state'

interface Run {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** Starts the writer script in its own process group (so a kill takes its git children too). */
function startWriter(repoDir: string, warehouse: string, n: number) {
  const child = spawn('node', nodeArgs(writer, repoDir, 'origin', BRANCH, warehouse, String(n)), {
    cwd: root,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const done = new Promise<Run>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
  )
  return { child, done }
}

function readBranch(bare: string): State | undefined {
  const doc = readBranchState(bare, BRANCH)
  if (doc) expect(validateState(doc)).toEqual([])
  return doc
}

describe('state store under concurrency', () => {
  it('16 processes adding distinct freight at once: all 16 present, linear history', async () => {
    const repo = makeRepo()
    const clones = Array.from({ length: 16 }, (_, i) => {
      const dir = path.join(repo.root, `clone-${i}`)
      sh('git', ['clone', '-q', repo.bare, dir])
      return dir
    })
    const runs = await Promise.all(clones.map((dir, i) => startWriter(dir, `wh-${i % 4}`, i).done))
    for (const r of runs) expect(r).toMatchObject({ code: 0, stderr: '' })
    const results = runs.map((r) => JSON.parse(r.stdout) as { id: string; attempts: number })
    const state = readBranch(repo.bare)!
    const expected = clones.map((_, i) => makeFreight(`wh-${i % 4}`, i).name)
    expect(Object.keys(state.freight).sort()).toEqual([...expected].sort())
    expect(results.map((r) => r.id).sort()).toEqual([...expected].sort())
    // Aliases stayed unique although every writer picked its own.
    expect(new Set(Object.values(state.freight).map((f) => f.alias)).size).toBe(16)
    // One commit per writer, no merges: a linear audit trail.
    expect(sh('git', ['--git-dir', repo.bare, 'rev-list', '--count', BRANCH])).toBe('16')
    expect(sh('git', ['--git-dir', repo.bare, 'rev-list', '--count', '--merges', BRANCH])).toBe('0')
    expect(
      sh('git', ['--git-dir', repo.bare, 'log', '--format=%s', BRANCH]).split('\n')
    ).toHaveLength(16)
    // Someone had to retry, or the test did not exercise contention.
    expect(results.some((r) => r.attempts > 1)).toBe(true)
  }, 120_000)

  it('a writer killed at any point leaves the branch readable and unchanged or fully updated', async () => {
    const repo = makeRepo()
    const clone = path.join(repo.root, 'clone')
    sh('git', ['clone', '-q', repo.bare, clone])
    // Seed, so that "unchanged" has content to compare against.
    const seed = await startWriter(clone, 'seed', 0).done
    expect(seed.code).toBe(0)
    let killed = 0
    let completed = 0
    let present = new Set(Object.keys(readBranch(repo.bare)!.freight))
    for (let i = 1; i <= 12; i++) {
      const w = startWriter(clone, 'victim', i)
      // Random points: during startup, fetch, plumbing or push.
      const delay = 150 + Math.floor(Math.random() * 900)
      const timer = setTimeout(() => {
        try {
          process.kill(-w.child.pid!, 'SIGKILL')
        } catch {
          // already exited
        }
      }, delay)
      const r = await w.done
      clearTimeout(timer)
      if (r.signal === 'SIGKILL') killed++
      else {
        expect(r.code).toBe(0)
        completed++
      }
      const state = readBranch(repo.bare)!
      const now = new Set(Object.keys(state.freight))
      const id = makeFreight('victim', i).name
      // Unchanged, or exactly the new freight added, never anything else.
      const added = [...now].filter((x) => !present.has(x))
      expect([...present].every((x) => now.has(x))).toBe(true)
      expect(added.length === 0 || (added.length === 1 && added[0] === id)).toBe(true)
      if (r.signal !== 'SIGKILL') expect(added).toEqual([id])
      present = now
    }
    // The same clone still works after all those kills (stale locks are cleaned up).
    const after = await startWriter(clone, 'after', 99).done
    expect(after).toMatchObject({ code: 0, stderr: '' })
    expect(Object.keys(readBranch(repo.bare)!.freight)).toContain(makeFreight('after', 99).name)
    expect(killed + completed).toBe(12)
    expect(killed).toBeGreaterThan(0)
  }, 180_000)
})
