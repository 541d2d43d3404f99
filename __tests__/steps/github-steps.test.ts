import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals'
import fs from 'node:fs'
import path from 'node:path'
import { commitAndPush, gitIn, showFile, tempDir } from '../support/git.js'
import { startGitHttpServer, type GitHttpServer } from '../support/git-http.js'
import { startGitHubFake, type GitHubFake } from '../support/github-fake.js'
import { makeGitHubRepo } from '../support/github-repos.js'
import { stepContext, testFreight, testServices } from '../support/step-context.js'
import { gitClone } from '../../src/steps/git/git-clone.js'
import { gitCommit } from '../../src/steps/git/git-commit.js'
import { gitMergePR } from '../../src/steps/git/git-merge-pr.js'
import { gitOpenPR } from '../../src/steps/git/git-open-pr.js'
import { gitPush } from '../../src/steps/git/git-push.js'
import { gitWaitForPR } from '../../src/steps/git/git-wait-for-pr.js'
import { githubPush } from '../../src/steps/git/github-push.js'
import { pushBackoff } from '../../src/steps/git/common.js'
import { manifestSummary, type ChangedFile } from '../../src/steps/git/changed-manifests.js'
import { stepRegistry } from '../../src/steps/index.js'
import type { StepContext, StepDefinition, StepResult } from '../../src/steps/types.js'
import type { Capability } from '../../src/steps/capabilities.js'
import type { Services } from '../../src/runtime/services.js'

pushBackoff.baseMs = 50
const TOKEN = 'ghs_waybillTESTtoken123'

let root: string
let gitServer: GitHttpServer
let fake: GitHubFake
let services: Services
let counter = 0

/** Everything a step produced or said, to scan for the token. */
const seen: string[] = []

beforeAll(async () => {
  root = tempDir()
  gitServer = await startGitHttpServer(root, { token: TOKEN })
  fake = await startGitHubFake({ token: TOKEN, gitUrl: gitServer.url })
  const host = new URL(gitServer.url).host
  services = testServices({
    gitCredentials: [{ urlPrefix: `${gitServer.url}/`, credentials: { token: TOKEN } }],
    github: { token: TOKEN, apiUrl: fake.url, serverUrl: gitServer.url, hosts: [host] }
  })
})
afterEach(() => fake?.assertNoViolations())
afterAll(async () => {
  await fake?.close()
  await gitServer?.close()
  // The token never appears in outputs, messages, logs or anything committed.
  const everything = seen.join('\n')
  expect(everything.length).toBeGreaterThan(1000)
  expect(everything).not.toContain(TOKEN)
  expect(everything).not.toContain(Buffer.from(`x-access-token:${TOKEN}`).toString('base64'))
  for (const owner of fs.readdirSync(root)) {
    for (const repo of fs.readdirSync(path.join(root, owner))) {
      const bare = path.join(root, owner, repo)
      const log = gitIn(bare, 'log', '--all', '--format=%H %an %ae %s%n%b')
      expect(log).not.toContain(TOKEN)
      expect(fs.readFileSync(path.join(bare, 'config'), 'utf8')).not.toContain(TOKEN)
    }
  }
  expect(fake.pulls.map((p) => `${p.title}\n${p.body}`).join('\n')).not.toContain(TOKEN)
})

function newRepo(files: Record<string, string> = { 'app/values.yaml': 'tag: 1.0.0\n' }) {
  const name = `app${++counter}`
  const r = makeGitHubRepo(root, 'acme', name, files)
  fake.addRepo('acme', name, r.bare)
  return { ...r, url: `${gitServer.url}/acme/${name}.git` }
}

function ctxFor(overrides: Parameters<typeof stepContext>[0] = {}) {
  return stepContext({ services, ...overrides })
}

async function run(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  step: StepDefinition<any>,
  config: Record<string, unknown>,
  ctx: StepContext<Capability>
): Promise<StepResult> {
  try {
    const res = await step.run(step.parse(config), ctx)
    seen.push(JSON.stringify(res))
    return res
  } catch (err) {
    seen.push(String(err), (err as Error).stack ?? '')
    throw err
  } finally {
    seen.push((ctx.logger as unknown as { text(): string }).text())
  }
}

/** Clone over authenticated HTTP, change a file, commit, push to a generated branch. */
async function promoteToBranch(
  repo: ReturnType<typeof newRepo>,
  ctx: StepContext<Capability>,
  content: string
) {
  await run(gitClone, { repoURL: repo.url, checkout: [{ path: 'src' }] }, ctx)
  fs.writeFileSync(path.join(ctx.workDir, 'src/app/values.yaml'), content)
  await run(gitCommit, { path: 'src', message: `Update to ${content.trim()}` }, ctx)
  return run(gitPush, { path: 'src', generateTargetBranch: true }, ctx)
}

describe('git over authenticated HTTP with a GitHub host', () => {
  it('clones, commits and pushes with the token as a header, and links the commit', async () => {
    const repo = newRepo()
    const ctx = ctxFor()
    const pushed = await promoteToBranch(repo, ctx, 'tag: 2.0.0\n')
    const sha = pushed.outputs?.commit as string
    expect(pushed.outputs).toEqual({
      branch: `waybill/promotion/${ctx.promotion}`,
      commit: sha,
      commitURL: `${gitServer.url}/acme/${repo.name}/commit/${sha}`,
      repoURL: repo.url
    })
    expect(showFile(repo.bare, pushed.outputs?.branch as string, 'app/values.yaml')).toBe(
      'tag: 2.0.0'
    )
    expect(gitServer.requests.some((r) => !r.authorized)).toBe(false)
    expect(gitIn(path.join(ctx.workDir, 'src'), 'remote', 'get-url', 'origin')).toBe(repo.url)
  })

  it('fails without credentials and says so, without leaking anything', async () => {
    const repo = newRepo()
    const ctx = stepContext({ services: { ...services, gitCredentials: [] } })
    await expect(
      run(gitClone, { repoURL: repo.url, checkout: [{ path: 'src' }] }, ctx)
    ).rejects.toMatchObject({
      message: expect.stringMatching(/cannot fetch .*Authentication failed/),
      hint: expect.stringMatching(/no credentials are configured/)
    })
  })
})

describe('git-open-pr, git-wait-for-pr, git-merge-pr', () => {
  it('opens a PR describing the freight and commits, and reuses it on a second call', async () => {
    const repo = newRepo()
    const freight = testFreight({
      alias: 'brave-fox',
      commits: [
        {
          repoURL: 'https://github.com/acme/src',
          id: 'c0ffee'.repeat(6) + 'abcd',
          message: 'fix login'
        }
      ]
    })
    const ctx = ctxFor({
      targetFreight: freight,
      freight: [freight],
      stage: 'prod',
      actor: 'octocat'
    })
    const pushed = await promoteToBranch(repo, ctx, 'tag: 3.0.0\n')
    const cfg = {
      repoURL: repo.url,
      sourceBranch: pushed.outputs?.branch,
      targetBranch: 'main',
      labels: ['waybill', 'prod']
    }
    const first = await run(gitOpenPR, cfg, ctx)
    const pr = first.outputs?.pr as { id: number; url: string }
    expect(pr.url).toBe(`${gitServer.url}/acme/${repo.name}/pull/${pr.id}`)
    const stored = fake.pull(pr.id, `acme/${repo.name}`)
    expect(stored.title).toBe('Promote brave-fox to prod')
    expect(stored.body).toContain('brave-fox')
    expect(stored.body).toContain(freight.name)
    expect(stored.body).toContain('ghcr.io/example/app:1.2.3')
    expect(stored.body).toContain('fix login')
    expect(stored.body).toContain('- Update to tag: 3.0.0')
    expect(stored.body).toContain('@octocat')
    expect(stored.labels).toEqual(['waybill', 'prod'])
    const second = await run(gitOpenPR, cfg, ctx)
    expect(second.outputs).toEqual(first.outputs)
    expect(fake.pulls.filter((p) => p.repo === `acme/${repo.name}`)).toHaveLength(1)
  })

  it('summarises the manifests a rendered change adds, modifies and deletes', async () => {
    const deployment = (tag: string) =>
      [
        'apiVersion: apps/v1',
        'kind: Deployment',
        'metadata: {name: app}',
        'spec:',
        '  selector: {matchLabels: {app: app}}',
        '  template:',
        '    metadata: {labels: {app: app}}',
        '    spec:',
        '      containers:',
        `      - {name: app, image: 'ghcr.io/example/app:${tag}'}`,
        ''
      ].join('\n')
    const kustomization = (resources: string[]) =>
      `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n${resources.map((r) => `- ${r}`).join('\n')}\n`
    const repo = newRepo({
      'base/kustomization.yaml': kustomization(['deployment.yaml', 'service.yaml', 'legacy.yaml']),
      'base/deployment.yaml': deployment('1.0.0'),
      'base/service.yaml':
        'apiVersion: v1\nkind: Service\nmetadata: {name: app}\nspec:\n  ports: [{port: 80}]\n',
      'base/legacy.yaml':
        'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: legacy}\ndata: {a: b}\n',
      'env/dev/kustomization.yaml':
        'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- ../../base\nnamespace: dev\n'
    })
    const step = (name: string) => {
      const s = stepRegistry.get(name)
      if (!s) throw new Error(`no step ${name}`)
      return s
    }
    const clone = {
      repoURL: repo.url,
      checkout: [
        { branch: 'main', path: 'src' },
        { branch: 'stage/dev', create: true, path: 'out' }
      ]
    }
    // The stage branch holds the manifests rendered from the first state, plus a README.
    const first = ctxFor({ promotion: 'render.1' })
    await run(gitClone, clone, first)
    await run(step('kustomize-build'), { path: 'src/env/dev', outPath: 'out' }, first)
    fs.writeFileSync(path.join(first.workDir, 'out/README.md'), 'rendered\n')
    await run(gitCommit, { path: 'out', message: 'render 1.0.0' }, first)
    await run(gitPush, { path: 'out' }, first)

    // main drops the legacy ConfigMap and adds another; the promotion sets a new image.
    commitAndPush(
      repo.work,
      {
        'base/kustomization.yaml': kustomization([
          'deployment.yaml',
          'service.yaml',
          'config.yaml'
        ]),
        'base/config.yaml':
          'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app-config}\ndata: {x: y}\n'
      },
      'swap config maps'
    )
    const freight = testFreight({ alias: 'rendered-fox' })
    const ctx = ctxFor({ promotion: 'render.2', targetFreight: freight, freight: [freight] })
    await run(gitClone, clone, ctx)
    await run(
      step('kustomize-set-image'),
      { path: 'src/env/dev', images: [{ image: 'ghcr.io/example/app', tag: '2.0.0' }] },
      ctx
    )
    await run(step('git-clear'), { path: 'out' }, ctx)
    await run(step('kustomize-build'), { path: 'src/env/dev', outPath: 'out' }, ctx)
    await run(gitCommit, { path: 'out', message: 'render 2.0.0' }, ctx)
    const pushed = await run(gitPush, { path: 'out', generateTargetBranch: true }, ctx)
    const opened = await run(
      gitOpenPR,
      { repoURL: repo.url, sourceBranch: pushed.outputs?.branch, targetBranch: 'stage/dev' },
      ctx
    )
    const body =
      fake.pull((opened.outputs?.pr as { id: number }).id, `acme/${repo.name}`).body ?? ''
    // The freight list is still there, then the manifests, grouped.
    expect(body).toContain('rendered-fox')
    const section = body.slice(body.indexOf('### Changed manifests'))
    expect(section.split('\n').slice(0, 12)).toEqual([
      '### Changed manifests (1 added, 1 modified, 1 deleted; 1 other files)',
      '',
      '**Added**',
      '- `ConfigMap/app-config in dev` — `dev-configmap-app-config.yaml`',
      '',
      '**Modified**',
      '- `Deployment/app in dev` — `dev-deployment-app.yaml`',
      '',
      '**Deleted**',
      '- `ConfigMap/legacy in dev` — `dev-configmap-legacy.yaml`'
    ])
    // Unchanged manifests are not listed.
    expect(section).not.toContain('Service/app')
  })

  it('bounds the manifest summary', () => {
    const files: ChangedFile[] = Array.from({ length: 100 }, (_, i) => ({
      change: i < 70 ? 'added' : 'deleted',
      path: `out/cm-${String(i).padStart(3, '0')}.yaml`,
      resources: [`ConfigMap/cm-${i}`, ...(i === 0 ? ['Secret/a', 'Secret/b', 'Secret/c'] : [])]
    }))
    files.push({ change: 'added', path: 'notes.txt', resources: [] })
    const lines = manifestSummary(files, 20)
    expect(lines[1]).toBe('### Changed manifests (70 added, 30 deleted; 1 other files)')
    expect(lines).toContain('- `ConfigMap/cm-0` and 3 more — `out/cm-000.yaml`')
    expect(lines).toContain('- … and 50 more added')
    expect(lines).toContain('- … and 30 more deleted')
    expect(lines.filter((l) => l.startsWith('- `'))).toHaveLength(20)
    expect(manifestSummary([{ change: 'modified', path: 'README.md', resources: [] }])).toEqual([])
  })

  it('waits: open → Running, merged → Succeeded with the merge commit, and the merged PR is reused', async () => {
    const repo = newRepo()
    const ctx = ctxFor()
    const pushed = await promoteToBranch(repo, ctx, 'tag: 4.0.0\n')
    const open = await run(
      gitOpenPR,
      {
        repoURL: repo.url,
        sourceBranch: pushed.outputs?.branch,
        targetBranch: 'main',
        title: 'Deploy 4.0.0'
      },
      ctx
    )
    const id = (open.outputs?.pr as { id: number }).id
    const waiting = await run(
      gitWaitForPR,
      { repoURL: repo.url, prNumber: id, pollInterval: '45s' },
      ctx
    )
    expect(waiting).toMatchObject({
      status: 'Running',
      pollIntervalMs: 45_000,
      outputs: { pr: { id, open: true, merged: false } }
    })
    const mergeSha = fake.mergePull(id, `acme/${repo.name}`)
    const done = await run(gitWaitForPR, { repoURL: repo.url, prNumber: id }, ctx)
    expect(done).toMatchObject({
      status: 'Succeeded',
      outputs: { commit: mergeSha, pr: { id, open: false, merged: true } }
    })
    expect(gitIn(repo.bare, 'rev-parse', 'main')).toBe(mergeSha)
    expect(showFile(repo.bare, 'main', 'app/values.yaml')).toBe('tag: 4.0.0')
    // Re-running the promotion does not open a second PR for the same, merged commit.
    const again = await run(
      gitOpenPR,
      { repoURL: repo.url, sourceBranch: pushed.outputs?.branch, targetBranch: 'main' },
      ctx
    )
    expect((again.outputs?.pr as { id: number }).id).toBe(id)
  })

  it('fails when the PR is closed without merging', async () => {
    const repo = newRepo()
    const ctx = ctxFor()
    const pushed = await promoteToBranch(repo, ctx, 'tag: 5.0.0\n')
    const open = await run(
      gitOpenPR,
      { repoURL: repo.url, sourceBranch: pushed.outputs?.branch, targetBranch: 'main' },
      ctx
    )
    const id = (open.outputs?.pr as { id: number }).id
    fake.closePull(id, `acme/${repo.name}`)
    const res = await run(gitWaitForPR, { repoURL: repo.url, prNumber: id }, ctx)
    expect(res.status).toBe('Failed')
    expect(res.message).toMatch(/closed without being merged/)
    expect(res.outputs).toMatchObject({ pr: { open: false, merged: false } })
  })

  it('merges a PR (squash) and is idempotent; not mergeable → Failed or Running with wait', async () => {
    const repo = newRepo({ 'app/values.yaml': 'tag: 1.0.0\n', 'other.txt': 'x\n' })
    const ctx = ctxFor()
    const pushed = await promoteToBranch(repo, ctx, 'tag: 6.0.0\n')
    const open = await run(
      gitOpenPR,
      { repoURL: repo.url, sourceBranch: pushed.outputs?.branch, targetBranch: 'main' },
      ctx
    )
    const id = (open.outputs?.pr as { id: number }).id
    const merged = await run(
      gitMergePR,
      { repoURL: repo.url, prNumber: id, mergeMethod: 'squash' },
      ctx
    )
    const sha = merged.outputs?.commit as string
    expect(merged.status).toBe('Succeeded')
    expect(gitIn(repo.bare, 'rev-parse', 'main')).toBe(sha)
    expect(gitIn(repo.bare, 'rev-list', '--parents', '-n', '1', 'main').split(' ')).toHaveLength(2)
    expect(await run(gitMergePR, { repoURL: repo.url, prNumber: id }, ctx)).toMatchObject({
      status: 'Succeeded',
      outputs: { commit: sha }
    })

    // A conflicting PR.
    const ctx2 = ctxFor({ promotion: 'conflict.1' })
    const pushed2 = await run(
      gitClone,
      { repoURL: repo.url, checkout: [{ path: 'src', branch: 'main' }] },
      ctx2
    ).then(async () => {
      gitIn(path.join(ctx2.workDir, 'src'), 'reset', '-q', '--hard', 'HEAD~1')
      fs.writeFileSync(path.join(ctx2.workDir, 'src/app/values.yaml'), 'tag: conflict\n')
      await run(gitCommit, { path: 'src', message: 'conflicting' }, ctx2)
      return run(gitPush, { path: 'src', generateTargetBranch: true }, ctx2)
    })
    const open2 = await run(
      gitOpenPR,
      { repoURL: repo.url, sourceBranch: pushed2.outputs?.branch, targetBranch: 'main' },
      ctx2
    )
    const id2 = (open2.outputs?.pr as { id: number }).id
    const failed = await run(gitMergePR, { repoURL: repo.url, prNumber: id2 }, ctx2)
    expect(failed).toMatchObject({
      status: 'Failed',
      message: expect.stringMatching(/not mergeable/)
    })
    const waiting = await run(gitMergePR, { repoURL: repo.url, prNumber: id2, wait: true }, ctx2)
    expect(waiting).toMatchObject({ status: 'Running', pollIntervalMs: 10_000 })
    expect(gitIn(repo.bare, 'rev-parse', 'main')).toBe(sha)
  })

  it('refuses other providers and non-GitHub hosts clearly', async () => {
    expect(() =>
      gitOpenPR.parse({
        repoURL: 'https://gitlab.com/a/b',
        sourceBranch: 'a',
        targetBranch: 'b',
        provider: 'gitlab'
      })
    ).toThrow(/provider gitlab is not supported yet/)
    expect(() =>
      gitWaitForPR.parse({ repoURL: 'https://x/a/b', prNumber: 1, provider: 'gitea' })
    ).toThrow(/provider gitea is not supported yet/)
    expect(() =>
      gitMergePR.parse({ repoURL: 'https://x/a/b', prNumber: 1, provider: 'azure' })
    ).toThrow(/provider azure is not supported yet/)
    expect(() =>
      gitMergePR.parse({ repoURL: 'https://x/a/b', prNumber: 1, mergeMethod: 'fast-forward' })
    ).toThrow(/mergeMethod/)
    expect(() => gitWaitForPR.parse({ repoURL: 'https://x/a/b', prNumber: 0 })).toThrow(/prNumber/)
    await expect(
      run(gitWaitForPR, { repoURL: 'https://git.example.org/a/b.git', prNumber: 1 }, ctxFor())
    ).rejects.toThrow(/is not a GitHub repository/)
  })
})

describe('github-push retries', () => {
  it('retries when the branch moves between reading it and updating it (422 not a fast forward)', async () => {
    const repo = newRepo({ 'app/values.yaml': 'tag: 1.0.0\n', 'c.txt': 'c\n' })
    const ctx = ctxFor()
    await run(gitClone, { repoURL: repo.url, checkout: [{ path: 'src' }] }, ctx)
    fs.writeFileSync(path.join(ctx.workDir, 'src/app/values.yaml'), 'tag: 9.0.0\n')
    await run(gitCommit, { path: 'src', message: 'ours' }, ctx)
    gitIn(repo.work, 'remote', 'set-url', 'origin', repo.bare)
    let raced = ''
    fake.tamper = (operationId, body) => {
      // Someone else pushes right after our commit object is created, before the ref moves.
      if (operationId === 'git/create-commit' && !raced)
        raced = commitAndPush(repo.work, { 'c.txt': 'raced\n' }, 'raced')
      return body
    }
    try {
      const res = await run(githubPush, { path: 'src' }, ctx)
      expect(gitIn(repo.bare, 'rev-parse', 'main')).toBe(res.outputs?.commit)
      expect(gitIn(repo.bare, 'rev-parse', 'main~1')).toBe(raced)
      expect(showFile(repo.bare, 'main', 'c.txt')).toBe('raced')
      expect(showFile(repo.bare, 'main', 'app/values.yaml')).toBe('tag: 9.0.0')
      expect(ctx.logger.text()).toMatch(/moved on GitHub; integrating and retrying/)
      expect(
        fake.requests.some((r) => r.operationId === 'git/update-ref' && r.status === 422)
      ).toBe(true)
    } finally {
      fake.tamper = undefined
    }
  })

  it('never commits a token pasted into a commit message', async () => {
    const repo = newRepo()
    const ctx = ctxFor()
    await run(gitClone, { repoURL: repo.url, checkout: [{ path: 'src' }] }, ctx)
    fs.writeFileSync(path.join(ctx.workDir, 'src/x.txt'), 'x')
    await run(gitCommit, { path: 'src', message: `oops ${TOKEN}` }, ctx)
    const res = await run(gitPush, { path: 'src' }, ctx)
    expect(gitIn(repo.bare, 'log', '-1', '--format=%s', res.outputs?.commit as string)).toBe(
      'oops ***'
    )
  })
})

describe('github-push', () => {
  it('commits through the Git Data API: a verified commit with the same tree on the branch', async () => {
    const repo = newRepo({ 'app/values.yaml': 'tag: 1.0.0\n', 'old.txt': 'old\n' })
    const ctx = ctxFor()
    await run(gitClone, { repoURL: repo.url, checkout: [{ path: 'src' }] }, ctx)
    const w = path.join(ctx.workDir, 'src')
    fs.writeFileSync(path.join(w, 'app/values.yaml'), 'tag: 7.0.0\n')
    fs.rmSync(path.join(w, 'old.txt'))
    fs.writeFileSync(path.join(w, 'run.sh'), '#!/bin/sh\necho hi\n', { mode: 0o755 })
    fs.writeFileSync(path.join(w, 'bin.dat'), Buffer.from([0, 255, 1, 254, 10, 13]))
    const local = await run(
      gitCommit,
      { path: 'src', message: 'Promote 7.0.0\n\nDetails here' },
      ctx
    )
    const localTree = gitIn(w, 'rev-parse', 'HEAD^{tree}')
    const res = await run(githubPush, { path: 'src', targetBranch: 'main' }, ctx)
    const sha = res.outputs?.commit as string
    expect(res.outputs).toEqual({
      branch: 'main',
      commit: sha,
      commitURL: `${gitServer.url}/acme/${repo.name}/commit/${sha}`,
      repoURL: repo.url
    })
    expect(sha).not.toBe(local.outputs?.commit)
    expect(gitIn(repo.bare, 'rev-parse', 'main')).toBe(sha)
    expect(gitIn(repo.bare, 'rev-parse', 'main^{tree}')).toBe(localTree)
    expect(fake.verifiedCommits.has(sha)).toBe(true)
    expect(gitIn(repo.bare, 'log', '-1', '--format=%B', 'main')).toBe(
      'Promote 7.0.0\n\nDetails here'
    )
    expect(gitIn(repo.bare, 'log', '-1', '--format=%an <%ae>', 'main')).toBe(
      'Waybill <waybill@users.noreply.github.com>'
    )
    // The local clone now sits on the signed commit, with a clean tree.
    expect(gitIn(w, 'rev-parse', 'HEAD')).toBe(sha)
    expect(gitIn(w, 'status', '--porcelain')).toBe('')
    // Nothing new: a second run is a no-op.
    const again = await run(githubPush, { path: 'src', targetBranch: 'main' }, ctx)
    expect(again.outputs?.commit).toBe(sha)
  })

  it('integrates remote changes and retries, and creates generated branches', async () => {
    const repo = newRepo({ 'app/values.yaml': 'tag: 1.0.0\n', 'b.txt': 'b\n' })
    const ctx = ctxFor()
    await run(gitClone, { repoURL: repo.url, checkout: [{ path: 'src' }] }, ctx)
    fs.writeFileSync(path.join(ctx.workDir, 'src/app/values.yaml'), 'tag: 8.0.0\n')
    await run(gitCommit, { path: 'src', message: 'ours' }, ctx)
    const gen = await run(githubPush, { path: 'src', generateTargetBranch: true }, ctx)
    expect(gen.outputs?.branch).toBe(`waybill/promotion/${ctx.promotion}`)
    expect(showFile(repo.bare, gen.outputs?.branch as string, 'app/values.yaml')).toBe('tag: 8.0.0')

    gitIn(repo.work, 'remote', 'set-url', 'origin', repo.bare)
    const theirs = commitAndPush(repo.work, { 'b.txt': 'theirs\n' }, 'theirs')
    const res = await run(githubPush, { path: 'src', targetBranch: 'main' }, ctx)
    const sha = res.outputs?.commit as string
    expect(gitIn(repo.bare, 'rev-parse', 'main~1')).toBe(theirs)
    expect(gitIn(repo.bare, 'rev-parse', 'main')).toBe(sha)
    expect(showFile(repo.bare, 'main', 'b.txt')).toBe('theirs')
    expect(showFile(repo.bare, 'main', 'app/values.yaml')).toBe('tag: 8.0.0')
  })
})
