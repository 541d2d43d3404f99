import { beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { showFile } from '../support/git.js'
import { freightFilesOn } from '../support/state-branch.js'
import { makePipeline, runCli, sh, type Pipeline } from '../support/reliability-pipeline.js'

/**
 * A corrupt or hostile state branch, through the CLI: every command that reads the state
 * (reconcile, status, promote) exits 1 with an error naming the branch and commit, and the
 * branch is never overwritten.
 */
const BRANCH = 'waybill/state'

/**
 * Commits the tree of `base` with `files` (path → text) replaced on top of the state branch of a
 * bare repo (plumbing, like a bad writer).
 */
function commitState(bare: string, base: string, files: Record<string, string>): string {
  const index = `${bare}/hostile-index`
  const g = (args: string[], input?: string) =>
    execFileSync('git', ['--git-dir', bare, ...args], {
      input,
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
      env: { ...process.env, GIT_INDEX_FILE: index }
    }).trim()
  g(['read-tree', base])
  for (const [file, text] of Object.entries(files)) {
    const blob = g(['hash-object', '-w', '--stdin'], text)
    g(['update-index', '--add', '--cacheinfo', `100644,${blob},${file}`])
  }
  const tree = g(['write-tree'])
  const parent = g(['rev-parse', `refs/heads/${BRANCH}`])
  const commit = g(['commit-tree', tree, '-p', parent, '-m', 'hostile write'])
  g(['update-ref', `refs/heads/${BRANCH}`, commit])
  return commit
}

describe('reliability: corrupt or hostile state branch through the CLI', () => {
  let p: Pipeline
  let validTip: string
  let valid: string
  /** The first freight file of the valid state, and its text. */
  let freightFile: string
  let validFreight: string
  let dir: string

  beforeAll(async () => {
    p = makePipeline()
    dir = p.clone('hostile')
    const r = await runCli(['reconcile', '--repo-dir', dir]).done
    expect(r.code).toBe(0)
    validTip = sh('git', ['--git-dir', p.gitops.bare, 'rev-parse', `refs/heads/${BRANCH}`])
    valid = showFile(p.gitops.bare, BRANCH, 'state.json')! + '\n'
    freightFile = freightFilesOn(p.gitops.bare, BRANCH)[0]
    validFreight = showFile(p.gitops.bare, BRANCH, freightFile)! + '\n'
  }, 60_000)

  const state = (text: () => string) => () => ({ 'state.json': text() })
  const freight = (text: () => string) => () => ({ [freightFile]: text() })
  const cases: Array<[string, () => Record<string, string>, RegExp]> = [
    ['invalid JSON', state(() => valid.slice(0, valid.length / 2)), /is not valid JSON/],
    [
      'a newer schema version',
      state(() => valid.replace(/"schemaVersion": *\d+/, '"schemaVersion": 99')),
      /schema version 99, newer than this Waybill understands/
    ],
    [
      'a huge file (over 50 MB)',
      state(() => valid.replace(/\n}\s*$/, `,\n"padding": "${'x'.repeat(51 * 1024 * 1024)}"\n}\n`)),
      /bytes, over the \d+-byte limit/
    ],
    [
      'a freight field with control characters',
      freight(() => validFreight.replace(/"alias": *"([^"]+)"/, '"alias": "$1\\u001b[31m\\u0007"')),
      /contains a control character/
    ],
    [
      'a stage record that is not an object',
      state(() => valid.replace(/"stages": *\{/, '"stages": {"evil": 42, ')),
      /is invalid/
    ],
    // JSON.parse would keep the last of two keys: the reader and a reviewer see different states.
    [
      'a duplicate top-level key',
      state(() => valid.replace(/^\{\n/, '{\n  "audit": [],\n')),
      /is corrupt: \(top level\): duplicate key "audit"/
    ],
    [
      'a duplicate key inside a freight record',
      freight(() => validFreight.replace(/"alias": *"([^"]+)"/, '"alias":"evil","alias":"$1"')),
      /is corrupt: freight\.[0-9a-f]{40}: duplicate key "alias"/
    ],
    [
      'a __proto__ key',
      state(() => valid.replace(/"metadata": *\{\}/, '"metadata":{"__proto__":{"polluted":true}}')),
      /is corrupt: stages\.\w+\.metadata: key "__proto__" is not allowed/
    ],
    [
      'an escaped __proto__ key',
      state(() =>
        valid.replace(/"metadata": *\{\}/, '"metadata":{"\\u005f_proto__":{"polluted":true}}')
      ),
      /key "__proto__" is not allowed/
    ]
  ]

  for (const [name, make, message] of cases) {
    it(`${name}: reconcile, status and promote exit 1 naming the branch; nothing is written`, async () => {
      const bad = commitState(p.gitops.bare, validTip, make())
      const runs = await Promise.all([
        runCli(['reconcile', '--force-discover', '--repo-dir', dir]).done,
        runCli(['status', '--repo-dir', dir]).done,
        runCli(['promote', '--repo-dir', dir, '--stage', 'test', '--freight', 'latest']).done
      ])
      for (const r of runs) {
        expect(r.code).toBe(1)
        expect(r.stderr).toMatch(message)
        expect(r.stderr).toMatch(
          new RegExp(
            `(state\\.json|freight/[a-z0-9-]+\\.json) on branch ${BRANCH} \\(commit ${bad.slice(0, 7)}\\)`
          )
        )
        expect(r.stderr).toMatch(/hint: .*(revert|upgrade)/)
        // No stack trace: a clear error, not a crash.
        expect(r.stderr).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/)
      }
      expect(sh('git', ['--git-dir', p.gitops.bare, 'rev-parse', `refs/heads/${BRANCH}`])).toBe(bad)
      // Restore the good state for the next case (a revert, as the docs tell users).
      commitState(p.gitops.bare, validTip, {})
    }, 60_000)
  }
})
