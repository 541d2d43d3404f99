import { describe, expect, it } from '@jest/globals'
import fs from 'node:fs'
import path from 'node:path'
import {
  commitAndPush,
  gitIn,
  makeRepo,
  sh,
  showFile,
  tempDir,
  writeFiles
} from '../support/git.js'
import { stepContext } from '../support/step-context.js'
import { gitClear } from '../../src/steps/git/git-clear.js'
import { gitClone } from '../../src/steps/git/git-clone.js'
import { gitCommit } from '../../src/steps/git/git-commit.js'
import { gitPush } from '../../src/steps/git/git-push.js'
import { gitTag } from '../../src/steps/git/git-tag.js'
import { isValidRefName, pushBackoff } from '../../src/steps/git/common.js'
import { gitStats } from '../../src/git/git.js'
import type { StepContext } from '../../src/steps/types.js'
import type { Capability } from '../../src/steps/capabilities.js'

pushBackoff.baseMs = 50

async function clone(ctx: StepContext<Capability>, config: Record<string, unknown>) {
  return gitClone.run(gitClone.parse(config), ctx)
}

function commitsOf(res: { outputs?: Record<string, unknown> }): Record<string, string> {
  return res.outputs?.commits as Record<string, string>
}

describe('git-clone', () => {
  it('checks out a branch, a commit, a tag and the default branch as worktrees of one clone', async () => {
    const r = makeRepo({ 'app/a.txt': 'one\n' })
    const first = gitIn(r.work, 'rev-parse', 'HEAD')
    gitIn(r.work, 'tag', '-a', 'v1', '-m', 'v1')
    gitIn(r.work, 'push', '-q', 'origin', 'v1')
    const second = commitAndPush(r.work, { 'app/a.txt': 'two\n' }, 'second')
    commitAndPush(r.work, { 'env.txt': 'stage\n' }, 'stage', 'stage/prod')
    const ctx = stepContext()
    const res = await clone(ctx, {
      repoURL: r.url,
      checkout: [
        { path: 'main' },
        { path: 'prod', branch: 'stage/prod', as: 'prodSrc' },
        { path: 'old', commit: first },
        { path: 'tagged', tag: 'v1' }
      ]
    })
    expect(res.status).toBe('Succeeded')
    const commits = commitsOf(res)
    expect(commits.main).toBe(second)
    expect(commits.prodSrc).toBe(gitIn(r.bare, 'rev-parse', 'stage/prod'))
    expect(commits.old).toBe(first)
    expect(commits.tagged).toBe(first)
    expect(fs.readFileSync(path.join(ctx.workDir, 'main/app/a.txt'), 'utf8')).toBe('two\n')
    expect(fs.readFileSync(path.join(ctx.workDir, 'old/app/a.txt'), 'utf8')).toBe('one\n')
    expect(fs.readFileSync(path.join(ctx.workDir, 'prod/env.txt'), 'utf8')).toBe('stage\n')
    expect(gitIn(path.join(ctx.workDir, 'prod'), 'symbolic-ref', '--short', 'HEAD')).toBe(
      'stage/prod'
    )
    // All checkouts share one object store.
    const common = (d: string) =>
      gitIn(path.join(ctx.workDir, d), 'rev-parse', '--path-format=absolute', '--git-common-dir')
    expect(new Set(['main', 'prod', 'old', 'tagged'].map(common)).size).toBe(1)
  })

  it('creates an orphan branch when the branch does not exist and create is set', async () => {
    const r = makeRepo({ 'a.txt': 'a\n' })
    const ctx = stepContext()
    await expect(
      clone(ctx, { repoURL: r.url, checkout: [{ path: 'out', branch: 'rendered' }] })
    ).rejects.toThrow(/branch 'rendered' does not exist/)
    const res = await clone(ctx, {
      repoURL: r.url,
      checkout: [{ path: 'out', branch: 'rendered', create: true }]
    })
    expect(commitsOf(res).out).toBe('')
    const out = path.join(ctx.workDir, 'out')
    expect(fs.readdirSync(out)).toEqual(['.git'])
    fs.writeFileSync(path.join(out, 'm.yaml'), 'kind: ConfigMap\n')
    const c = await gitCommit.run(gitCommit.parse({ path: 'out', message: 'render' }), ctx)
    const sha = c.outputs?.commit as string
    expect(gitIn(out, 'rev-list', '--count', 'HEAD')).toBe('1')
    const p = await gitPush.run(gitPush.parse({ path: 'out' }), ctx)
    expect(p.outputs).toMatchObject({ branch: 'rendered', commit: sha })
    expect(showFile(r.bare, 'rendered', 'm.yaml')).toBe('kind: ConfigMap')
    expect(showFile(r.bare, 'rendered', 'a.txt')).toBeUndefined()
  })

  it('creates an orphan branch in an empty repository', async () => {
    const root = tempDir()
    const bare = path.join(root, 'empty.git')
    sh('git', ['init', '-q', '--bare', '-b', 'main', bare])
    const ctx = stepContext()
    await clone(ctx, {
      repoURL: `file://${bare}`,
      checkout: [{ path: 'w', branch: 'main', create: true }]
    })
    fs.writeFileSync(path.join(ctx.workDir, 'w/x'), 'x')
    await gitCommit.run(gitCommit.parse({ path: 'w', message: 'first' }), ctx)
    await gitPush.run(gitPush.parse({ path: 'w' }), ctx)
    expect(showFile(bare, 'main', 'x')).toBe('x')
  })

  it('checks out only the sparse directories', async () => {
    const r = makeRepo({ 'a/x.txt': 'x', 'b/y.txt': 'y', 'top.txt': 't' })
    const ctx = stepContext()
    await clone(ctx, { repoURL: r.url, checkout: [{ path: 'w', sparse: ['a'] }] })
    const w = path.join(ctx.workDir, 'w')
    expect(fs.existsSync(path.join(w, 'a/x.txt'))).toBe(true)
    expect(fs.existsSync(path.join(w, 'b'))).toBe(false)
    // Committing from a sparse checkout keeps the files outside it.
    fs.writeFileSync(path.join(w, 'a/x.txt'), 'changed')
    await gitCommit.run(gitCommit.parse({ path: 'w', message: 'edit' }), ctx)
    await gitPush.run(gitPush.parse({ path: 'w' }), ctx)
    expect(showFile(r.bare, 'main', 'b/y.txt')).toBe('y')
    expect(showFile(r.bare, 'main', 'a/x.txt')).toBe('changed')
  })

  it('does a blobless clone', async () => {
    const r = makeRepo({ 'a.txt': 'a' })
    gitIn(r.bare, 'config', 'uploadpack.allowFilter', 'true')
    const ctx = stepContext()
    await clone(ctx, { repoURL: r.url, blobless: true, checkout: [{ path: 'w' }] })
    const w = path.join(ctx.workDir, 'w')
    expect(gitIn(w, 'config', 'remote.origin.partialclonefilter')).toBe('blob:none')
    expect(fs.readFileSync(path.join(w, 'a.txt'), 'utf8')).toBe('a')
  })

  it('validates config like Kargo', () => {
    expect(() => gitClone.parse({ repoURL: 'x', checkout: [] })).toThrow(/checkout/)
    expect(() =>
      gitClone.parse({ repoURL: 'file:///x', checkout: [{ path: 'a', branch: 'main', tag: 'v1' }] })
    ).toThrow(/mutually exclusive/)
    expect(() =>
      gitClone.parse({ repoURL: 'file:///x', checkout: [{ path: 'a' }], bogus: 1 })
    ).toThrow(/bogus/)
    expect(() =>
      gitClone.parse({
        repoURL: 'file:///x',
        checkout: [{ path: 'a' }],
        author: { name: 'n', email: 'nope' }
      })
    ).toThrow(/author\.email/)
    // Empty strings count as unset (Kargo's schema allows "" for the exclusive fields).
    expect(
      gitClone.parse({ repoURL: 'file:///x', checkout: [{ path: 'a', branch: 'main', tag: '' }] })
    ).toBeTruthy()
  })

  it('refuses paths outside the working directory and glob sparse paths', async () => {
    const r = makeRepo()
    const ctx = stepContext()
    await expect(clone(ctx, { repoURL: r.url, checkout: [{ path: '../escape' }] })).rejects.toThrow(
      /checkout\[0\]\.path.*leaves/
    )
    await expect(
      clone(ctx, { repoURL: r.url, checkout: [{ path: 'w', sparse: ['a/*'] }] })
    ).rejects.toThrow(/glob/)
    await expect(
      clone(ctx, { repoURL: r.url, checkout: [{ path: 'w', sparse: ['../a'] }] })
    ).rejects.toThrow(/sparse\[0\]/)
  })

  it('uses the configured author for commits, else the Waybill default', async () => {
    const r = makeRepo()
    const ctx = stepContext()
    await clone(ctx, {
      repoURL: r.url,
      author: { name: 'Promo Bot', email: 'bot@example.com' },
      checkout: [{ path: 'a' }]
    })
    fs.writeFileSync(path.join(ctx.workDir, 'a/f'), '1')
    await gitCommit.run(gitCommit.parse({ path: 'a', message: 'm' }), ctx)
    expect(gitIn(path.join(ctx.workDir, 'a'), 'log', '-1', '--format=%an <%ae>|%cn')).toBe(
      'Promo Bot <bot@example.com>|Promo Bot'
    )
    const ctx2 = stepContext()
    await clone(ctx2, { repoURL: r.url, checkout: [{ path: 'a' }] })
    fs.writeFileSync(path.join(ctx2.workDir, 'a/f'), '2')
    await gitCommit.run(gitCommit.parse({ path: 'a', message: 'm' }), ctx2)
    expect(gitIn(path.join(ctx2.workDir, 'a'), 'log', '-1', '--format=%an <%ae>')).toBe(
      'Waybill <waybill@users.noreply.github.com>'
    )
  })

  it('is idempotent: cloning again into the same paths replaces the worktrees', async () => {
    const r = makeRepo()
    const ctx = stepContext()
    await clone(ctx, { repoURL: r.url, checkout: [{ path: 'a' }] })
    const again = commitAndPush(r.work, { 'n.txt': 'n' }, 'next')
    const res = await clone(ctx, { repoURL: r.url, checkout: [{ path: 'a' }] })
    expect(commitsOf(res).a).toBe(again)
    fs.mkdirSync(path.join(ctx.workDir, 'occupied'))
    fs.writeFileSync(path.join(ctx.workDir, 'occupied/file'), 'x')
    await expect(clone(ctx, { repoURL: r.url, checkout: [{ path: 'occupied' }] })).rejects.toThrow(
      /already exists/
    )
  })
})

describe('git-clear and git-commit', () => {
  it('clears all but .git, and commit is a no-op when nothing changed', async () => {
    const r = makeRepo({ 'a.txt': 'a', 'd/b.txt': 'b' })
    const ctx = stepContext()
    const res = await clone(ctx, { repoURL: r.url, checkout: [{ path: 'w' }] })
    const head = commitsOf(res).w
    const noop = await gitCommit.run(gitCommit.parse({ path: 'w', message: 'nothing' }), ctx)
    expect(noop).toMatchObject({ status: 'Succeeded', outputs: { commit: head } })
    await gitClear.run(gitClear.parse({ path: 'w' }), ctx)
    expect(fs.readdirSync(path.join(ctx.workDir, 'w'))).toEqual(['.git'])
    const c = await gitCommit.run(gitCommit.parse({ path: 'w', message: 'clear it\n\nbody' }), ctx)
    expect(c.outputs?.commit).not.toBe(head)
    expect(gitIn(path.join(ctx.workDir, 'w'), 'ls-files')).toBe('')
    expect(gitIn(path.join(ctx.workDir, 'w'), 'log', '-1', '--format=%B')).toBe('clear it\n\nbody')
  })
  it('fails clearly on a path that is not a working tree', async () => {
    const ctx = stepContext()
    fs.mkdirSync(path.join(ctx.workDir, 'plain'))
    await expect(
      gitCommit.run(gitCommit.parse({ path: 'plain', message: 'm' }), ctx)
    ).rejects.toThrow(/not a Git working tree/)
    await expect(gitClear.run(gitClear.parse({ path: 'missing' }), ctx)).rejects.toThrow(
      /does not exist/
    )
  })
})

describe('git-push', () => {
  it('pushes to a generated branch named after the promotion', async () => {
    const r = makeRepo()
    const ctx = stepContext({ promotion: 'prod.01abc.1234567' })
    await clone(ctx, { repoURL: r.url, checkout: [{ path: 'w' }] })
    fs.writeFileSync(path.join(ctx.workDir, 'w/f'), 'x')
    const c = await gitCommit.run(gitCommit.parse({ path: 'w', message: 'm' }), ctx)
    const p = await gitPush.run(gitPush.parse({ path: 'w', generateTargetBranch: true }), ctx)
    expect(p.outputs).toEqual({
      branch: 'waybill/promotion/prod.01abc.1234567',
      commit: c.outputs?.commit,
      commitURL: undefined,
      repoURL: r.url
    })
    expect(gitIn(r.bare, 'rev-parse', 'waybill/promotion/prod.01abc.1234567')).toBe(
      c.outputs?.commit
    )
    // Re-running is harmless (force push of the same commit).
    await gitPush.run(gitPush.parse({ path: 'w', generateTargetBranch: true }), ctx)
  })

  it('rebases and retries when the remote branch moved, keeping both changes', async () => {
    const r = makeRepo({ 'a.txt': 'a\n', 'b.txt': 'b\n' })
    const ctx = stepContext()
    await clone(ctx, { repoURL: r.url, checkout: [{ path: 'w' }] })
    fs.writeFileSync(path.join(ctx.workDir, 'w/a.txt'), 'ours\n')
    await gitCommit.run(gitCommit.parse({ path: 'w', message: 'ours' }), ctx)
    const theirs = commitAndPush(r.work, { 'b.txt': 'theirs\n' }, 'theirs')
    const p = await gitPush.run(gitPush.parse({ path: 'w' }), ctx)
    expect(p.status).toBe('Succeeded')
    expect(gitIn(r.bare, 'rev-parse', 'main')).toBe(p.outputs?.commit)
    expect(gitIn(r.bare, 'rev-parse', 'main~1')).toBe(theirs)
    expect(showFile(r.bare, 'main', 'a.txt')).toBe('ours')
    expect(showFile(r.bare, 'main', 'b.txt')).toBe('theirs')
    expect(ctx.logger.text()).toMatch(/rebasing and retrying/)
  })

  it('fails clearly on a real conflict and leaves the remote alone', async () => {
    const r = makeRepo({ 'a.txt': 'a\n' })
    const ctx = stepContext()
    await clone(ctx, { repoURL: r.url, checkout: [{ path: 'w' }] })
    fs.writeFileSync(path.join(ctx.workDir, 'w/a.txt'), 'ours\n')
    await gitCommit.run(gitCommit.parse({ path: 'w', message: 'ours' }), ctx)
    const theirs = commitAndPush(r.work, { 'a.txt': 'theirs\n' }, 'theirs')
    await expect(gitPush.run(gitPush.parse({ path: 'w' }), ctx)).rejects.toThrow(
      /remote branch moved and rebasing onto it conflicts in a\.txt/
    )
    expect(gitIn(r.bare, 'rev-parse', 'main')).toBe(theirs)
    // The worktree is not left mid-rebase.
    expect(
      fs.existsSync(
        path.join(gitIn(path.join(ctx.workDir, 'w'), 'rev-parse', '--git-dir'), 'rebase-merge')
      )
    ).toBe(false)
  })

  it('gives up after maxAttempts', async () => {
    const r = makeRepo({ 'a.txt': 'a\n' })
    const ctx = stepContext()
    await clone(ctx, { repoURL: r.url, checkout: [{ path: 'w' }] })
    fs.writeFileSync(path.join(ctx.workDir, 'w/c.txt'), 'c')
    await gitCommit.run(gitCommit.parse({ path: 'w', message: 'ours' }), ctx)
    commitAndPush(r.work, { 'b.txt': 'b' }, 'theirs')
    await expect(gitPush.run(gitPush.parse({ path: 'w', maxAttempts: 1 }), ctx)).rejects.toThrow(
      /after 1 attempts/
    )
  })

  it('pushes to a target branch, force-pushes when asked, and pushes tags', async () => {
    const r = makeRepo({ 'a.txt': 'a\n' })
    const ctx = stepContext()
    await clone(ctx, { repoURL: r.url, checkout: [{ path: 'w' }] })
    fs.writeFileSync(path.join(ctx.workDir, 'w/a.txt'), 'x')
    await gitCommit.run(gitCommit.parse({ path: 'w', message: 'x' }), ctx)
    const p = await gitPush.run(gitPush.parse({ path: 'w', targetBranch: 'env/prod' }), ctx)
    expect(gitIn(r.bare, 'rev-parse', 'env/prod')).toBe(p.outputs?.commit)
    writeFiles(r.work, { 'z.txt': 'z' })
    gitIn(r.work, 'add', '-A')
    gitIn(r.work, 'commit', '-q', '-m', 'unrelated')
    gitIn(r.work, 'push', '-q', '-f', 'origin', 'HEAD:env/prod')
    const f = await gitPush.run(
      gitPush.parse({ path: 'w', targetBranch: 'env/prod', force: true }),
      ctx
    )
    expect(gitIn(r.bare, 'rev-parse', 'env/prod')).toBe(f.outputs?.commit)
    expect(showFile(r.bare, 'env/prod', 'z.txt')).toBeUndefined()

    const t = await gitTag.run(gitTag.parse({ path: 'w', tag: 'v2', message: 'release v2' }), ctx)
    expect(t.outputs).toEqual({ tag: 'v2', commit: p.outputs?.commit })
    await expect(
      gitTag.run(gitTag.parse({ path: 'w', tag: 'v2', message: 'again' }), ctx)
    ).rejects.toThrow(/already exists/)
    const pt = await gitPush.run(gitPush.parse({ path: 'w', tag: 'v2' }), ctx)
    expect(pt.outputs?.commit).toBe(p.outputs?.commit)
    expect(gitIn(r.bare, 'cat-file', '-t', 'v2')).toBe('tag')
    expect(gitIn(r.bare, 'tag', '-l', '--format=%(contents:subject)', 'v2')).toBe('release v2')
    // Tags are not retried nor overwritten.
    await gitTag.run(gitTag.parse({ path: 'w', tag: 'v2', message: 'moved', force: true }), ctx)
    await expect(gitPush.run(gitPush.parse({ path: 'w', tag: 'v2' }), ctx)).rejects.toThrow(
      /tag 'v2'/
    )
  })

  it('validates exclusive targets and providers', () => {
    expect(() =>
      gitPush.parse({ path: 'w', targetBranch: 'a', generateTargetBranch: true })
    ).toThrow(/mutually exclusive/)
    expect(() => gitPush.parse({ path: 'w', tag: 'v1', force: true })).toThrow(/force/)
    expect(() => gitPush.parse({ path: 'w', provider: 'gitlab' })).toThrow(
      /provider gitlab is not supported yet/
    )
    expect(() => gitPush.parse({ path: 'w', maxAttempts: 0 })).toThrow(/maxAttempts/)
    expect(gitPush.parse({ path: 'w' })).toMatchObject({ maxAttempts: 10, force: false })
  })

  it('serializes concurrent pushes to one branch and both land', async () => {
    const r = makeRepo({ 'a.txt': 'a\n' })
    const ctxs = [stepContext(), stepContext()]
    for (const [i, ctx] of ctxs.entries()) {
      await clone(ctx, { repoURL: r.url, checkout: [{ path: 'w' }] })
      fs.writeFileSync(path.join(ctx.workDir, `w/f${i}.txt`), String(i))
      await gitCommit.run(gitCommit.parse({ path: 'w', message: `c${i}` }), ctx)
    }
    await Promise.all(ctxs.map((ctx) => gitPush.run(gitPush.parse({ path: 'w' }), ctx)))
    expect(showFile(r.bare, 'main', 'f0.txt')).toBe('0')
    expect(showFile(r.bare, 'main', 'f1.txt')).toBe('1')
  })
})

describe('git process counts (the promotion bench depends on them)', () => {
  /** Runs fn and returns how many git processes the steps started. */
  async function spawned(fn: () => Promise<unknown>): Promise<number> {
    const before = gitStats.spawned
    await fn()
    return gitStats.spawned - before
  }

  it('clone: 3 for a branch (clone --bare, cat-file, worktree add), +1 per extra checkout', async () => {
    const r = makeRepo({ 'a.txt': 'a\n' })
    gitIn(r.work, 'tag', 'v1')
    gitIn(r.work, 'push', '-q', 'origin', 'v1')
    const sha = gitIn(r.work, 'rev-parse', 'HEAD')
    const ctx = stepContext()
    expect(
      await spawned(() => clone(ctx, { repoURL: r.url, checkout: [{ branch: 'main', path: 'w' }] }))
    ).toBe(3)
    // The branch follows its remote branch, as after `branch --set-upstream-to`.
    expect(gitIn(path.join(ctx.workDir, 'w'), 'rev-parse', '--abbrev-ref', 'main@{upstream}')).toBe(
      'origin/main'
    )
    // The clone never starts background maintenance.
    const common = gitIn(path.join(ctx.workDir, 'w'), 'rev-parse', '--git-common-dir')
    expect(gitIn(common, 'config', 'maintenance.auto')).toBe('false')
    expect(gitIn(common, 'config', 'gc.auto')).toBe('0')
    const ctx2 = stepContext()
    expect(
      await spawned(() =>
        clone(ctx2, {
          repoURL: r.url,
          checkout: [
            { branch: 'main', path: 'a' },
            { tag: 'v1', path: 'b' },
            { commit: sha, path: 'c' }
          ]
        })
      )
    ).toBe(5)
  })

  it('commit: 5 (rev-parse, config, add, commit, rev-parse); push: 3 (rev-parse, config, push)', async () => {
    const r = makeRepo({ 'a.txt': 'a\n' })
    const ctx = stepContext()
    await clone(ctx, { repoURL: r.url, checkout: [{ path: 'w' }] })
    fs.writeFileSync(path.join(ctx.workDir, 'w/a.txt'), 'b\n')
    let res: Awaited<ReturnType<typeof gitCommit.run>> | undefined
    expect(
      await spawned(async () => {
        res = await gitCommit.run(gitCommit.parse({ path: 'w', message: 'm' }), ctx)
      })
    ).toBe(5)
    const sha = res?.outputs?.commit
    expect(sha).toBe(gitIn(path.join(ctx.workDir, 'w'), 'rev-parse', 'HEAD'))
    // Nothing left to commit: the failed commit is confirmed by one diff, HEAD is the output.
    let noop: Awaited<ReturnType<typeof gitCommit.run>> | undefined
    expect(
      await spawned(async () => {
        noop = await gitCommit.run(gitCommit.parse({ path: 'w', message: 'again' }), ctx)
      })
    ).toBe(5)
    expect(noop?.outputs?.commit).toBe(sha)
    expect(gitIn(path.join(ctx.workDir, 'w'), 'rev-list', '--count', 'HEAD')).toBe('2')
    let pushed: Awaited<ReturnType<typeof gitPush.run>> | undefined
    expect(
      await spawned(async () => {
        pushed = await gitPush.run(gitPush.parse({ path: 'w' }), ctx)
      })
    ).toBe(3)
    expect(pushed?.outputs).toMatchObject({ branch: 'main', commit: sha })
    expect(gitIn(r.bare, 'rev-parse', 'main')).toBe(sha)
  })

  it('a failing commit is an error, not "nothing to commit"', async () => {
    const r = makeRepo({ 'a.txt': 'a\n' })
    const ctx = stepContext()
    await clone(ctx, { repoURL: r.url, checkout: [{ path: 'w' }] })
    const w = path.join(ctx.workDir, 'w')
    fs.writeFileSync(path.join(w, 'a.txt'), 'changed\n')
    // A pre-commit hook would be skipped (--no-verify); a missing GPG program is not.
    gitIn(w, 'config', 'commit.gpgsign', 'true')
    gitIn(w, 'config', 'gpg.program', path.join(ctx.workDir, 'no-such-gpg'))
    await expect(gitCommit.run(gitCommit.parse({ path: 'w', message: 'm' }), ctx)).rejects.toThrow(
      /git commit in w failed/
    )
  })

  it('takes the default branch from the remote HEAD', async () => {
    const r = makeRepo({ 'a.txt': 'a\n' })
    commitAndPush(r.work, { 'trunk.txt': 't' }, 'trunk', 'trunk')
    gitIn(r.bare, 'symbolic-ref', 'HEAD', 'refs/heads/trunk')
    const ctx = stepContext()
    const res = await clone(ctx, { repoURL: r.url, checkout: [{ path: 'w' }] })
    expect(commitsOf(res).w).toBe(gitIn(r.bare, 'rev-parse', 'trunk'))
    expect(gitIn(path.join(ctx.workDir, 'w'), 'symbolic-ref', '--short', 'HEAD')).toBe('trunk')
    expect(ctx.logger.text()).toMatch(/branch trunk into w/)
  })

  it('checks ref names exactly like git check-ref-format', () => {
    const names = [
      'main',
      'stage/prod',
      'waybill/promotion/prod.01abc.1234567',
      'a..b',
      '.hidden',
      'a/.b',
      'a.lock',
      'a/b.lock/c',
      'a//b',
      'a/',
      'a.',
      'a@{b',
      '@',
      'a b',
      'a~1',
      'a^',
      'a:b',
      'a?',
      'a*',
      'a[b',
      'a\\b',
      'tab\there',
      'del\x7f',
      'ünïcödé',
      'a@b',
      'x.lockx',
      '-dash'
    ]
    for (const name of names) {
      const full = `refs/heads/${name}`
      let ok = true
      try {
        sh('git', ['check-ref-format', full])
      } catch {
        ok = false
      }
      expect([name, isValidRefName(full)]).toEqual([name, ok])
    }
  })
})

describe('signing', () => {
  it('signs commits and tags with author.signingKey from git-clone', async () => {
    const home = tempDir('waybill-gpg-')
    fs.chmodSync(home, 0o700)
    const env = { GNUPGHOME: home }
    sh(
      'gpg',
      [
        '--batch',
        '--passphrase',
        '',
        '--quick-gen-key',
        'Signer <signer@example.com>',
        'ed25519',
        'sign',
        'never'
      ],
      undefined,
      env
    )
    const key = sh(
      'gpg',
      ['--batch', '--armor', '--export-secret-keys', 'signer@example.com'],
      undefined,
      env
    )
    const r = makeRepo()
    const ctx = stepContext()
    await clone(ctx, {
      repoURL: r.url,
      author: { name: 'Signer', email: 'signer@example.com', signingKey: key },
      checkout: [{ path: 'w' }]
    })
    const w = path.join(ctx.workDir, 'w')
    fs.writeFileSync(path.join(w, 'f'), 'signed')
    await gitCommit.run(gitCommit.parse({ path: 'w', message: 'signed commit' }), ctx)
    expect(sh('git', ['cat-file', 'commit', 'HEAD'], w)).toContain('-----BEGIN PGP SIGNATURE-----')
    await gitTag.run(gitTag.parse({ path: 'w', tag: 'v9', message: 'signed tag' }), ctx)
    expect(sh('git', ['cat-file', 'tag', 'v9'], w)).toContain('-----BEGIN PGP SIGNATURE-----')
    // Stop the gpg-agents this test started (one per GnuPG home).
    const cloneHome = path.join(
      gitIn(w, 'rev-parse', '--path-format=absolute', '--git-common-dir'),
      'waybill-gnupg'
    )
    for (const h of [home, cloneHome])
      sh('gpgconf', ['--kill', 'gpg-agent'], undefined, { GNUPGHOME: h })
    // The armored key never reaches the repository config.
    expect(
      fs.readFileSync(path.join(gitIn(w, 'rev-parse', '--git-common-dir'), 'config'), 'utf8')
    ).not.toContain('PRIVATE KEY')
  })
})
