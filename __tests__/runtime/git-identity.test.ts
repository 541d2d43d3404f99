// The run's git identity (inputs commit-author / committer) reaches step commits, tags and state
// commits; a step's own author still wins over it.
import { describe, expect, it } from '@jest/globals'
import fs from 'node:fs'
import path from 'node:path'
import { gitIn, makeRepo, sh } from '../support/git.js'
import { stepContext } from '../support/step-context.js'
import { gitClone } from '../../src/steps/git/git-clone.js'
import { gitCommit } from '../../src/steps/git/git-commit.js'
import { gitTag } from '../../src/steps/git/git-tag.js'
import { createContext } from '../../src/runtime/create-context.js'
import { optionsFromInputs } from '../../src/runtime/options.js'
import { openStateStore } from '../../src/state/open.js'
import { MemoryLogger } from '../../src/util/logger.js'

const gitIdentity = {
  author: { name: 'Release Bot', email: 'release@example.com' },
  committer: { name: 'CI', email: 'ci@example.com' }
}

describe('git identity of a run', () => {
  it('git-commit and git-tag commit as the run identity; a git-clone author still wins', async () => {
    const r = makeRepo()
    const ctx = stepContext({ gitIdentity })
    await gitClone.run(gitClone.parse({ repoURL: r.url, checkout: [{ path: 'a' }] }), ctx)
    const dir = path.join(ctx.workDir, 'a')
    fs.writeFileSync(path.join(dir, 'f'), '1')
    await gitCommit.run(gitCommit.parse({ path: 'a', message: 'm' }), ctx)
    expect(gitIn(dir, 'log', '-1', '--format=%an <%ae>|%cn <%ce>')).toBe(
      'Release Bot <release@example.com>|CI <ci@example.com>'
    )
    await gitTag.run(gitTag.parse({ path: 'a', tag: 'v1', message: 'v1' }), ctx)
    expect(
      gitIn(dir, 'for-each-ref', '--format=%(taggername) %(taggeremail)', 'refs/tags/v1')
    ).toBe('CI <ci@example.com>')

    const own = stepContext({ gitIdentity })
    await gitClone.run(
      gitClone.parse({
        repoURL: r.url,
        author: { name: 'Promo Bot', email: 'bot@example.com' },
        checkout: [{ path: 'a' }]
      }),
      own
    )
    fs.writeFileSync(path.join(own.workDir, 'a/f'), '2')
    await gitCommit.run(gitCommit.parse({ path: 'a', message: 'm' }), own)
    expect(gitIn(path.join(own.workDir, 'a'), 'log', '-1', '--format=%an|%cn')).toBe('Promo Bot|CI')
  })

  it('state commits are made as the action identity (github-actions[bot] by default)', async () => {
    const r = makeRepo()
    const inputs = (values: Record<string, string>) => ({
      get: (n: string) => values[n] ?? '',
      multiline: () => []
    })
    for (const [values, expected] of [
      [
        {},
        'github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>|github-actions[bot]'
      ],
      [
        { 'commit-author': 'Release Bot <release@example.com>', committer: 'CI <ci@example.com>' },
        'Release Bot <release@example.com>|CI'
      ]
    ] as const) {
      const ctx = createContext(optionsFromInputs(inputs({ 'repo-dir': r.work, ...values }), {}), {
        logger: new MemoryLogger(),
        env: {},
        print: () => undefined
      })
      await openStateStore(ctx).update((draft) => {
        draft.audit.push({ at: new Date().toISOString(), action: 'approve' })
        return 'test: identity'
      })
      expect(
        sh('git', ['--git-dir', r.bare, 'log', '-1', '--format=%an <%ae>|%cn', 'waybill/state'])
      ).toBe(expected)
    }
  })
})
