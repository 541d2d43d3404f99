import { beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { showFile } from '../support/git.js'
import { makePipeline, runCli, sh, type Pipeline } from '../support/reliability-pipeline.js'

/**
 * A corrupt or hostile state branch, through the CLI: every command that reads the state
 * (reconcile, status, promote) exits 1 with an error naming the branch and commit, and the
 * branch is never overwritten.
 */
const BRANCH = 'waybill/state'

/** Commits `text` as state.json on the state branch of a bare repo (plumbing, like a bad writer). */
function commitState(bare: string, text: string): string {
  const g = (args: string[], input?: string) =>
    execFileSync('git', ['--git-dir', bare, ...args], {
      input,
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024
    }).trim()
  const blob = g(['hash-object', '-w', '--stdin'], text)
  const tree = g(['mktree'], `100644 blob ${blob}\tstate.json\n`)
  const parent = g(['rev-parse', `refs/heads/${BRANCH}`])
  const commit = g(['commit-tree', tree, '-p', parent, '-m', 'hostile write'])
  g(['update-ref', `refs/heads/${BRANCH}`, commit])
  return commit
}

describe('reliability: corrupt or hostile state branch through the CLI', () => {
  let p: Pipeline
  let valid: string
  let dir: string

  beforeAll(async () => {
    p = makePipeline()
    dir = p.clone('hostile')
    const r = await runCli(['reconcile', '--repo-dir', dir]).done
    expect(r.code).toBe(0)
    valid = showFile(p.gitops.bare, BRANCH, 'state.json')! + '\n'
  }, 60_000)

  const cases: Array<[string, () => string, RegExp]> = [
    ['invalid JSON', () => valid.slice(0, valid.length / 2), /is not valid JSON/],
    [
      'a newer schema version',
      () => valid.replace(/"schemaVersion": *1/, '"schemaVersion": 99'),
      /schema version 99, newer than this Waybill understands/
    ],
    [
      'a huge file (over 50 MB)',
      () => valid.replace(/\n}\s*$/, `,\n"padding": "${'x'.repeat(51 * 1024 * 1024)}"\n}\n`),
      /bytes, over the \d+-byte limit/
    ],
    [
      'a freight field with control characters',
      () => valid.replace(/"alias": *"([^"]+)"/, '"alias": "$1\\u001b[31m\\u0007"'),
      /contains a control character/
    ],
    [
      'a stage record that is not an object',
      () => valid.replace(/"stages": *\{/, '"stages": {"evil": 42, '),
      /is invalid/
    ],
    // JSON.parse would keep the last of two keys: the reader and a reviewer see different states.
    [
      'a duplicate top-level key',
      () => valid.replace(/^\{\n/, '{\n  "audit": [],\n'),
      /is corrupt: \(top level\): duplicate key "audit"/
    ],
    [
      'a duplicate key inside a freight record',
      () => valid.replace(/"alias": *"([^"]+)"/, '"alias":"evil","alias":"$1"'),
      /is corrupt: freight\.[0-9a-f]{40}: duplicate key "alias"/
    ],
    [
      'a __proto__ key',
      () => valid.replace(/"metadata": *\{\}/, '"metadata":{"__proto__":{"polluted":true}}'),
      /is corrupt: stages\.\w+\.metadata: key "__proto__" is not allowed/
    ],
    [
      'an escaped __proto__ key',
      () => valid.replace(/"metadata": *\{\}/, '"metadata":{"\\u005f_proto__":{"polluted":true}}'),
      /key "__proto__" is not allowed/
    ]
  ]

  for (const [name, make, message] of cases) {
    it(`${name}: reconcile, status and promote exit 1 naming the branch; nothing is written`, async () => {
      const bad = commitState(p.gitops.bare, make())
      const runs = await Promise.all([
        runCli(['reconcile', '--force-discover', '--repo-dir', dir]).done,
        runCli(['status', '--repo-dir', dir]).done,
        runCli(['promote', '--repo-dir', dir, '--stage', 'test', '--freight', 'latest']).done
      ])
      for (const r of runs) {
        expect(r.code).toBe(1)
        expect(r.stderr).toMatch(message)
        expect(r.stderr).toContain(`state.json on branch ${BRANCH} (commit ${bad.slice(0, 7)})`)
        expect(r.stderr).toMatch(/hint: .*(revert|upgrade)/)
        // No stack trace: a clear error, not a crash.
        expect(r.stderr).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/)
      }
      expect(sh('git', ['--git-dir', p.gitops.bare, 'rev-parse', `refs/heads/${BRANCH}`])).toBe(bad)
      // Restore the good state for the next case (a revert, as the docs tell users).
      commitState(p.gitops.bare, valid)
    }, 60_000)
  }
})
