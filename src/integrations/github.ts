import { Octokit } from '@octokit/rest'
import { retry } from '@octokit/plugin-retry'
import { throttling } from '@octokit/plugin-throttling'
import type { RestEndpointMethodTypes } from '@octokit/rest'
import type { Services } from '../runtime/services.js'
import type { Logger } from '../util/logger.js'
import { redact } from '../util/logger.js'
import { WaybillError } from '../util/errors.js'
import type { GitHubRepo } from './repo-url.js'
import { VERSION } from '../version.js'
import { isLoopbackUrl } from '../util/net.js'

const WaybillOctokit = Octokit.plugin(retry, throttling)
export type GitHubClient = InstanceType<typeof WaybillOctokit>

export type PullRequest = RestEndpointMethodTypes['pulls']['get']['response']['data']
export type PullRequestSummary =
  RestEndpointMethodTypes['pulls']['list']['response']['data'][number]

/**
 * An Octokit for services.github (or another API base URL) with the retry and throttling plugins.
 * The token is masked as soon as it is read. Throttling (GitHub's recommended 1s gap between
 * content-creating requests) is off for loopback API URLs, i.e. test fakes.
 */
export function githubClient(services: Services, logger: Logger, apiUrl?: string): GitHubClient {
  const token = services.github.token
  if (token) logger.mask(token)
  const baseUrl = (apiUrl ?? services.github.apiUrl).replace(/\/+$/, '')
  return new WaybillOctokit({
    auth: token,
    baseUrl,
    userAgent: `waybill/${VERSION}`,
    log: {
      debug: () => {},
      info: () => {},
      warn: (m: string) => logger.debug(redact(m)),
      error: (m: string) => logger.debug(redact(m))
    },
    retry: { doNotRetry: [400, 401, 403, 404, 405, 409, 410, 422, 429, 451] },
    throttle: {
      enabled: !isLoopbackUrl(baseUrl),
      onRateLimit: (
        retryAfter: number,
        options: { method: string; url: string },
        _o,
        retryCount: number
      ) => {
        logger.warn(
          `GitHub rate limit hit for ${options.method} ${options.url}; retrying in ${retryAfter}s`
        )
        return retryCount < 2
      },
      onSecondaryRateLimit: (
        retryAfter: number,
        options: { method: string; url: string },
        _o,
        retryCount: number
      ) => {
        logger.warn(
          `GitHub secondary rate limit hit for ${options.method} ${options.url}; retrying in ${retryAfter}s`
        )
        return retryCount < 2
      }
    }
  })
}

/** The HTTP status of an Octokit RequestError, if that is what `err` is. */
export function httpStatus(err: unknown): number | undefined {
  const s = (err as { status?: unknown } | undefined)?.status
  return typeof s === 'number' ? s : undefined
}

/** Network failures that never reached GitHub, by their Node error code. */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
  'CERT_HAS_EXPIRED',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN'
])

/** The Node error code of a failed connection behind an Octokit error (status 500 with a cause). */
export function connectionErrorCode(err: unknown): string | undefined {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, i = 0; e && i < 5; i++) {
    if (typeof e.code === 'string' && CONNECTION_CODES.has(e.code)) return e.code
    e = e.cause as typeof e
  }
  return undefined
}

/** GitHub's `x-accepted-github-permissions` header: the permissions the endpoint needs. */
function acceptedPermissions(err: unknown): string | undefined {
  const headers = (err as { response?: { headers?: Record<string, unknown> } }).response?.headers
  const v = headers?.['x-accepted-github-permissions']
  return typeof v === 'string' && v.trim() ? v.trim() : undefined
}

/** Turns an Octokit error into a WaybillError naming the repository and what was attempted. */
export function githubError(err: unknown, what: string, repo: GitHubRepo): WaybillError {
  const connection = connectionErrorCode(err)
  const status = connection ? undefined : httpStatus(err)
  const raw = err instanceof Error ? err.message : String(err)
  const where = `${repo.owner}/${repo.repo}`
  if (connection)
    return new WaybillError(
      redact(`${what} in ${where} failed: cannot connect to the GitHub API (${connection})`),
      'check github-api-url (GITHUB_API_URL), the network and any proxy settings (HTTPS_PROXY, NO_PROXY)'
    )
  const msg = redact(`${what} in ${where} failed${status ? ` (HTTP ${status})` : ''}: ${raw}`)
  let hint: string | undefined
  if (status === 401)
    hint =
      'the GitHub token is missing, expired or invalid: check the token input (or app-id/private-key)'
  else if (status === 403) {
    const needed = acceptedPermissions(err)
    if (/pull request/i.test(what) && /not permitted to create or approve pull requests/i.test(raw))
      hint =
        'GITHUB_TOKEN may not open pull requests in this repository: enable Settings → Actions → General → Workflow permissions → "Allow GitHub Actions to create and approve pull requests", or use a GitHub App token (app-id, private-key)'
    else if (needed)
      hint = `the token lacks a permission this call needs (GitHub accepts: ${needed}); add it to the workflow's permissions: block`
    else if (/rate limit/i.test(raw))
      hint =
        'GitHub rate limit: the next run retries; fewer runs (schedule) or a GitHub App token raise the limit'
    else
      hint =
        "the token lacks permissions: the workflow needs permissions: { contents: write, pull-requests: write }, and a branch protection rule may refuse the token's identity"
  } else if (status === 404) hint = `check that ${where} exists and the token can see it`
  return new WaybillError(msg, hint)
}

/** Finds a pull request from `head` (a branch of the same repository) into `base`. Newest first. */
export async function findPullRequest(
  gh: GitHubClient,
  repo: GitHubRepo,
  opts: { head: string; base: string; state: 'open' | 'closed' | 'all' }
): Promise<PullRequestSummary[]> {
  const { data } = await gh.rest.pulls.list({
    owner: repo.owner,
    repo: repo.repo,
    head: `${repo.owner}:${opts.head}`,
    base: opts.base,
    state: opts.state,
    sort: 'created',
    direction: 'desc',
    per_page: 100
  })
  // GitHub filters by head and base already; check again in case a server ignores the filter.
  return data.filter((p) => p.head.ref === opts.head && p.base.ref === opts.base)
}

export async function createPullRequest(
  gh: GitHubClient,
  repo: GitHubRepo,
  opts: { head: string; base: string; title: string; body: string }
): Promise<PullRequest> {
  const { data } = await gh.rest.pulls.create({
    owner: repo.owner,
    repo: repo.repo,
    head: opts.head,
    base: opts.base,
    title: opts.title,
    body: opts.body
  })
  return data
}

export async function addLabels(
  gh: GitHubClient,
  repo: GitHubRepo,
  issueNumber: number,
  labels: string[]
): Promise<void> {
  if (!labels.length) return
  await gh.rest.issues.addLabels({
    owner: repo.owner,
    repo: repo.repo,
    issue_number: issueNumber,
    labels
  })
}

export async function getPullRequest(
  gh: GitHubClient,
  repo: GitHubRepo,
  pullNumber: number
): Promise<PullRequest> {
  const { data } = await gh.rest.pulls.get({
    owner: repo.owner,
    repo: repo.repo,
    pull_number: pullNumber
  })
  return data
}

export type MergeMethod = 'merge' | 'squash' | 'rebase'

export async function mergePullRequest(
  gh: GitHubClient,
  repo: GitHubRepo,
  pullNumber: number,
  opts: { method?: MergeMethod; sha?: string } = {}
): Promise<{ merged: boolean; sha: string; message: string }> {
  const { data } = await gh.rest.pulls.merge({
    owner: repo.owner,
    repo: repo.repo,
    pull_number: pullNumber,
    merge_method: opts.method,
    sha: opts.sha
  })
  return { merged: data.merged, sha: data.sha, message: data.message }
}

/** The commit a branch points at, or undefined when the branch does not exist. */
export async function getBranchHead(
  gh: GitHubClient,
  repo: GitHubRepo,
  branch: string
): Promise<string | undefined> {
  try {
    const { data } = await gh.rest.git.getRef({
      owner: repo.owner,
      repo: repo.repo,
      ref: `heads/${branch}`
    })
    return data.object.sha
  } catch (err) {
    if (httpStatus(err) === 404) return undefined
    throw err
  }
}

export interface TreeChange {
  path: string
  /** 100644, 100755, 120000 (symlink) or 160000 (submodule). */
  mode: '100644' | '100755' | '120000' | '160000'
  /** File content (blobs); undefined deletes the path. */
  content?: Buffer
  /** For submodules: the commit the gitlink points at. */
  sha?: string
}

/**
 * Creates one commit through the Git Data API: blobs for changed files, a tree on top of the
 * parent's tree, then the commit. Without a committer GitHub signs it, so it shows as verified.
 * Returns the new commit's sha (the branch is not moved: see updateBranch).
 */
export async function createCommitViaApi(
  gh: GitHubClient,
  repo: GitHubRepo,
  opts: {
    parent?: string
    /** Tree of the parent commit; required when parent is set. */
    baseTree?: string
    changes: TreeChange[]
    message: string
    author?: { name: string; email: string; date?: string }
  }
): Promise<{ sha: string; tree: string }> {
  const tree: RestEndpointMethodTypes['git']['createTree']['parameters']['tree'] = []
  for (const c of opts.changes) {
    if (c.mode === '160000') {
      tree.push({ path: c.path, mode: c.mode, type: 'commit', sha: c.sha ?? null })
    } else if (c.content === undefined) {
      tree.push({ path: c.path, mode: c.mode, type: 'blob', sha: null })
    } else {
      const { data } = await gh.rest.git.createBlob({
        owner: repo.owner,
        repo: repo.repo,
        content: c.content.toString('base64'),
        encoding: 'base64'
      })
      tree.push({ path: c.path, mode: c.mode, type: 'blob', sha: data.sha })
    }
  }
  const { data: newTree } = await gh.rest.git.createTree({
    owner: repo.owner,
    repo: repo.repo,
    tree,
    ...(opts.baseTree ? { base_tree: opts.baseTree } : {})
  })
  const { data: commit } = await gh.rest.git.createCommit({
    owner: repo.owner,
    repo: repo.repo,
    message: opts.message,
    tree: newTree.sha,
    parents: opts.parent ? [opts.parent] : [],
    ...(opts.author ? { author: opts.author } : {})
  })
  return { sha: commit.sha, tree: newTree.sha }
}

/**
 * Points a branch at `sha`: creates it when `create`, else updates it (compare-and-swap unless
 * force). Returns 'conflict' when GitHub refuses a non-fast-forward update or the ref already
 * exists, so the caller can integrate remote changes and retry.
 */
export async function updateBranch(
  gh: GitHubClient,
  repo: GitHubRepo,
  branch: string,
  sha: string,
  opts: { create: boolean; force: boolean }
): Promise<'ok' | 'conflict'> {
  try {
    if (opts.create) {
      await gh.rest.git.createRef({
        owner: repo.owner,
        repo: repo.repo,
        ref: `refs/heads/${branch}`,
        sha
      })
    } else {
      await gh.rest.git.updateRef({
        owner: repo.owner,
        repo: repo.repo,
        ref: `heads/${branch}`,
        sha,
        force: opts.force
      })
    }
    return 'ok'
  } catch (err) {
    if (httpStatus(err) === 422) return 'conflict'
    throw err
  }
}

/** Subjects of the commits on `head` that `base` lacks (oldest first, at most 250). */
export async function commitSubjects(
  gh: GitHubClient,
  repo: GitHubRepo,
  base: string,
  head: string
): Promise<string[]> {
  const { data } = await gh.rest.repos.compareCommitsWithBasehead({
    owner: repo.owner,
    repo: repo.repo,
    basehead: `${base}...${head}`
  })
  return data.commits.map((c) => c.commit.message.split('\n')[0])
}
