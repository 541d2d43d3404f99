import { describe, expect, it } from '@jest/globals'
import { makeRepo, sh, showFile } from '../support/git.js'
import { addFreight, makeFreight } from '../support/state-fixtures.js'
import { StateStore } from '../../src/state/store.js'
import { MemoryLogger } from '../../src/util/logger.js'
import { makePipeline, runCli } from '../support/reliability-pipeline.js'
import { initCommand } from '../../src/commands/init.js'
import { defaultServices } from '../../src/runtime/services.js'

/**
 * The state branch as an attack surface: Waybill writes only onto a branch it created, and never
 * writes a state.json it could not read back (which would brick every later command).
 */
const tip = (bare: string, branch: string) =>
  sh('git', ['--git-dir', bare, 'rev-parse', `refs/heads/${branch}`])

describe('security: the state branch', () => {
  it('--state-branch main (a content branch with no state.json) is refused; main is untouched', async () => {
    const p = makePipeline()
    const dir = p.clone('main-as-state')
    const before = tip(p.gitops.bare, 'main')
    for (const args of [
      ['reconcile', '--repo-dir', dir, '--state-branch', 'main'],
      ['status', '--repo-dir', dir, '--state-branch', 'main']
    ]) {
      const r = await runCli(args).done
      expect(r.code).toBe(1)
      expect(r.stderr).toMatch(
        /branch main \(commit [0-9a-f]{7}\) has no state\.json: it is not a Waybill state branch/
      )
      expect(r.stderr).toMatch(/hint: .*--state-branch/)
    }
    expect(tip(p.gitops.bare, 'main')).toBe(before)
    expect(showFile(p.gitops.bare, 'main', 'state.json')).toBeUndefined()
  }, 60_000)

  it('a write over the size limit fails naming the biggest part; the branch keeps its readable state', async () => {
    const repo = makeRepo()
    const store = new StateStore({
      repoDir: repo.work,
      remote: 'origin',
      branch: 'waybill/state',
      logger: new MemoryLogger(),
      maxBytes: 64 * 1024
    })
    await store.update((d) => addFreight(d, makeFreight('app', 1)))
    const good = tip(repo.bare, 'waybill/state')
    const huge = Object.fromEntries(
      Array.from({ length: 200 }, (_, i) => [
        `ghcr.io/acme/app@sha256:${String(i).padStart(64, '0')}`,
        { digest: `sha256:${i}`, annotations: { note: 'x'.repeat(1000) } }
      ])
    )
    await expect(
      store.update((d) => {
        d.warehouses.app = { imageCache: huge }
        return 'discovery: app'
      })
    ).rejects.toThrow(
      /refusing to write a state of \d+ bytes \(discovery: app\): over the 65536-byte limit; largest parts: warehouses\.app\.imageCache \(\d+ bytes\)/
    )
    expect(tip(repo.bare, 'waybill/state')).toBe(good)
    // A fresh reader still reads it.
    const reader = new StateStore({
      repoDir: repo.work,
      remote: 'origin',
      branch: 'waybill/state',
      logger: new MemoryLogger()
    })
    expect(Object.keys((await reader.read()).freight)).toHaveLength(1)
  }, 60_000)

  it('waybill init says how to let only the workflow push the state branch', async () => {
    const repo = makeRepo({ 'stages/test/kustomization.yaml': 'resources: []\n' })
    const printed: string[] = []
    await initCommand.run(
      {
        repoDir: repo.work,
        configDir: '.waybill',
        stateBranch: 'waybill/state',
        remote: 'origin',
        json: false,
        logger: new MemoryLogger(),
        services: defaultServices({}),
        waitMs: 0,
        print: (t) => printed.push(t),
        now: () => new Date()
      },
      {
        image: 'ghcr.io/acme/app',
        'git-repo': 'https://github.com/acme/app.git',
        stages: 'test,prod'
      }
    )
    const text = printed.join('\n')
    expect(text).toMatch(/Limit who can push waybill\/state: Settings → Rules → Rulesets/)
    expect(text).toMatch(
      /target waybill\/state; enable Restrict updates, Restrict deletions, Block force pushes/
    )
    expect(text).toMatch(/bypass list: only the identity the workflows run as/)
  })
})
