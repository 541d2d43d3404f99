import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { commitAndPush, gitIn, tempDir } from './support/git.js'
import {
  githubApiSubset,
  sampleFor,
  startGitHubFake,
  type GitHubFake
} from './support/github-fake.js'
import { makeGitHubRepo } from './support/github-repos.js'
import { githubClient } from '../src/integrations/github.js'
import { MemoryLogger } from '../src/util/logger.js'
import { testServices } from './support/step-context.js'

const TOKEN = 'ghs_fakeTOKENforSupportTests'
let fake: GitHubFake
let repo: ReturnType<typeof makeGitHubRepo>

function client(token = TOKEN) {
  return githubClient(
    testServices({ github: { token, apiUrl: fake.url, serverUrl: fake.serverUrl, hosts: [] } }),
    new MemoryLogger()
  )
}

beforeAll(async () => {
  fake = await startGitHubFake({ token: TOKEN })
  repo = makeGitHubRepo(tempDir(), 'acme', 'deploy', { 'a.txt': 'a\n' })
  fake.addRepo('acme', 'deploy', repo.bare)
})
afterAll(() => fake.close())

describe('fake GitHub built from the official OpenAPI description', () => {
  it('keeps only the implemented operations, with every $ref resolvable', () => {
    const doc = githubApiSubset() as {
      paths: Record<string, unknown>
      components: { schemas: Record<string, unknown> }
    }
    expect(Object.keys(doc.paths).length).toBeGreaterThan(10)
    expect(doc.components.schemas['pull-request']).toBeDefined()
    expect(JSON.stringify(doc)).not.toMatch(/"\$ref":"#\/components\/(\w+)\/(?![\w-]+")/)
    const pr = sampleFor(doc, { $ref: '#/components/schemas/pull-request' }) as Record<
      string,
      unknown
    >
    expect(pr).toHaveProperty('mergeable_state')
  })

  it('serves pull requests backed by the bare repository and merges for real', async () => {
    const gh = client()
    commitAndPush(repo.work, { 'b.txt': 'b\n' }, 'add b', 'feature')
    gitIn(repo.work, 'checkout', '-q', 'main')
    const { data: pr } = await gh.rest.pulls.create({
      owner: 'acme',
      repo: 'deploy',
      head: 'feature',
      base: 'main',
      title: 'T'
    })
    expect(pr.number).toBe(1)
    expect(pr.head.sha).toBe(gitIn(repo.bare, 'rev-parse', 'feature'))
    await expect(
      gh.rest.pulls.create({
        owner: 'acme',
        repo: 'deploy',
        head: 'feature',
        base: 'main',
        title: 'T'
      })
    ).rejects.toMatchObject({ status: 422 })
    const { data: listed } = await gh.rest.pulls.list({
      owner: 'acme',
      repo: 'deploy',
      head: 'acme:feature',
      base: 'main'
    })
    expect(listed.map((p) => p.number)).toEqual([1])
    const { data: none } = await gh.rest.pulls.list({
      owner: 'acme',
      repo: 'deploy',
      head: 'acme:other'
    })
    expect(none).toEqual([])
    const { data: got } = await gh.rest.pulls.get({ owner: 'acme', repo: 'deploy', pull_number: 1 })
    expect(got.mergeable).toBe(true)
    await gh.rest.issues.addLabels({
      owner: 'acme',
      repo: 'deploy',
      issue_number: 1,
      labels: ['promotion']
    })
    expect(fake.pull(1).labels).toEqual(['promotion'])
    const { data: merged } = await gh.rest.pulls.merge({
      owner: 'acme',
      repo: 'deploy',
      pull_number: 1
    })
    expect(merged.sha).toBe(gitIn(repo.bare, 'rev-parse', 'main'))
    expect(gitIn(repo.bare, 'rev-parse', 'main^2')).toBe(pr.head.sha)
    expect(gitIn(repo.bare, 'show', 'main:b.txt')).toBe('b')
    const { data: after } = await gh.rest.pulls.get({
      owner: 'acme',
      repo: 'deploy',
      pull_number: 1
    })
    expect(after).toMatchObject({ state: 'closed', merged: true, merge_commit_sha: merged.sha })
    fake.assertNoViolations()
  })

  it('reports conflicting pull requests as not mergeable', async () => {
    const gh = client()
    commitAndPush(repo.work, { 'a.txt': 'left\n' }, 'left', 'left')
    gitIn(repo.work, 'checkout', '-q', '-B', 'main', 'origin/main')
    gitIn(repo.work, 'fetch', '-q', 'origin')
    gitIn(repo.work, 'reset', '-q', '--hard', 'origin/main')
    commitAndPush(repo.work, { 'a.txt': 'right\n' }, 'right', 'main')
    const { data: pr } = await gh.rest.pulls.create({
      owner: 'acme',
      repo: 'deploy',
      head: 'left',
      base: 'main',
      title: 'L'
    })
    const { data: got } = await gh.rest.pulls.get({
      owner: 'acme',
      repo: 'deploy',
      pull_number: pr.number
    })
    expect(got).toMatchObject({ mergeable: false, mergeable_state: 'dirty' })
    await expect(
      gh.rest.pulls.merge({ owner: 'acme', repo: 'deploy', pull_number: pr.number })
    ).rejects.toMatchObject({
      status: 405
    })
    fake.assertNoViolations()
  })

  it('writes real objects through the Git Data API and refuses non-fast-forward ref updates', async () => {
    const gh = client()
    const head = gitIn(repo.bare, 'rev-parse', 'main')
    const { data: ref } = await gh.rest.git.getRef({
      owner: 'acme',
      repo: 'deploy',
      ref: 'heads/main'
    })
    expect(ref.object.sha).toBe(head)
    const { data: blob } = await gh.rest.git.createBlob({
      owner: 'acme',
      repo: 'deploy',
      content: 'hello\n',
      encoding: 'utf-8'
    })
    const baseTree = gitIn(repo.bare, 'rev-parse', 'main^{tree}')
    const { data: tree } = await gh.rest.git.createTree({
      owner: 'acme',
      repo: 'deploy',
      base_tree: baseTree,
      tree: [
        { path: 'dir/hello.txt', mode: '100644', type: 'blob', sha: blob.sha },
        { path: 'a.txt', mode: '100644', type: 'blob', sha: null }
      ]
    })
    const { data: commit } = await gh.rest.git.createCommit({
      owner: 'acme',
      repo: 'deploy',
      message: 'via api',
      tree: tree.sha,
      parents: [head],
      author: { name: 'A', email: 'a@example.com' }
    })
    expect(commit.verification?.verified).toBe(true)
    expect(gitIn(repo.bare, 'show', `${commit.sha}:dir/hello.txt`)).toBe('hello')
    expect(gitIn(repo.bare, 'ls-tree', '--name-only', commit.sha)).not.toMatch(/a\.txt/)
    // A commit that is not a descendant cannot move the branch without force.
    const { data: sibling } = await gh.rest.git.createCommit({
      owner: 'acme',
      repo: 'deploy',
      message: 'x',
      tree: tree.sha,
      parents: [`${head}`]
    })
    await gh.rest.git.updateRef({
      owner: 'acme',
      repo: 'deploy',
      ref: 'heads/main',
      sha: commit.sha
    })
    await expect(
      gh.rest.git.updateRef({ owner: 'acme', repo: 'deploy', ref: 'heads/main', sha: sibling.sha })
    ).rejects.toMatchObject({ status: 422, message: expect.stringMatching(/not a fast forward/) })
    await gh.rest.git.createRef({
      owner: 'acme',
      repo: 'deploy',
      ref: 'refs/heads/api-branch',
      sha: commit.sha
    })
    await expect(
      gh.rest.git.createRef({
        owner: 'acme',
        repo: 'deploy',
        ref: 'refs/heads/api-branch',
        sha: commit.sha
      })
    ).rejects.toMatchObject({ status: 422 })
    expect(gitIn(repo.bare, 'rev-parse', 'api-branch')).toBe(commit.sha)
    fake.assertNoViolations()
  })

  it('keeps deployments, deployment statuses, commit statuses and check runs', async () => {
    const gh = client()
    const { data: d } = await gh.rest.repos.createDeployment({
      owner: 'acme',
      repo: 'deploy',
      ref: 'main',
      environment: 'prod',
      auto_merge: false,
      required_contexts: []
    })
    if (!('id' in d)) throw new Error('no deployment')
    await gh.rest.repos.createDeploymentStatus({
      owner: 'acme',
      repo: 'deploy',
      deployment_id: d.id,
      state: 'success'
    })
    const { data: statuses } = await gh.rest.repos.listDeploymentStatuses({
      owner: 'acme',
      repo: 'deploy',
      deployment_id: d.id
    })
    expect(statuses.map((s) => s.state)).toEqual(['success'])
    const { data: deps } = await gh.rest.repos.listDeployments({
      owner: 'acme',
      repo: 'deploy',
      environment: 'prod'
    })
    expect(deps.map((x) => x.id)).toEqual([d.id])
    const sha = gitIn(repo.bare, 'rev-parse', 'main')
    await gh.rest.repos.createCommitStatus({
      owner: 'acme',
      repo: 'deploy',
      sha,
      state: 'success',
      context: 'ci'
    })
    const { data: combined } = await gh.rest.repos.getCombinedStatusForRef({
      owner: 'acme',
      repo: 'deploy',
      ref: 'main'
    })
    expect(combined.state).toBe('success')
    fake.addCheckRun('acme/deploy', {
      sha,
      name: 'build',
      status: 'completed',
      conclusion: 'success'
    })
    const { data: checks } = await gh.rest.checks.listForRef({
      owner: 'acme',
      repo: 'deploy',
      ref: sha
    })
    expect(checks.check_runs.map((c) => [c.name, c.conclusion])).toEqual([['build', 'success']])
    fake.assertNoViolations()
  })

  it('rejects requests that violate the schema and responses that would', async () => {
    const gh = client()
    await expect(
      // Deliberately invalid: head and base are required.
      gh.request('POST /repos/{owner}/{repo}/pulls', {
        owner: 'acme',
        repo: 'deploy',
        title: 'no head or base'
      } as unknown as { owner: string; repo: string; head: string; base: string })
    ).rejects.toMatchObject({ status: 422 })
    expect(fake.violations.pop()).toMatch(/pulls\/create: request violates GitHub's schema/)
    fake.tamper = (id, body) => (id === 'pulls/get' ? { ...(body as object), number: 'one' } : body)
    try {
      await expect(
        gh.rest.pulls.get({ owner: 'acme', repo: 'deploy', pull_number: 1 })
      ).rejects.toMatchObject({ status: 400 })
    } finally {
      fake.tamper = undefined
    }
    expect(fake.violations.pop()).toMatch(
      /pulls\/get: response 200 violates GitHub's schema.*number/
    )
    fake.assertNoViolations()
  })

  it('requires the token', async () => {
    await expect(
      client('wrong-token').rest.repos.get({ owner: 'acme', repo: 'deploy' })
    ).rejects.toMatchObject({ status: 401 })
    const { data } = await client().rest.repos.get({ owner: 'acme', repo: 'deploy' })
    expect(data.full_name).toBe('acme/deploy')
  })
})
