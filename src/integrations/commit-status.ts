/**
 * Commit statuses for promotions and verifications (context `waybill/<stage>`), so a commit or
 * pull request page shows where a change is deployed and other tools can gate on it.
 */
import { WaybillError } from '../util/errors.js'
import type { Logger } from '../util/logger.js'
import { redact } from '../util/logger.js'
import { githubError, type GitHubClient } from './github.js'
import type { GitHubRepo } from './repo-url.js'

export type CommitStatusState = 'pending' | 'success' | 'failure' | 'error'

export interface CommitStatus {
  state: CommitStatusState
  /** `waybill/<stage>`. */
  context: string
  description: string
  /** The workflow run; only http(s) URLs are sent. */
  targetUrl?: string
}

/** GitHub's limit on a status description. */
export const MAX_DESCRIPTION = 140

export function statusContext(stage: string): string {
  return `waybill/${stage}`
}

/**
 * A description GitHub shows as one short line: secrets redacted, control characters and
 * runs of whitespace folded to one space, cut to 140 characters with an ellipsis.
 */
export function statusDescription(text: string): string {
  // Control characters (C0 and DEL) and whitespace runs become one space.
  // eslint-disable-next-line no-control-regex
  const controlOrSpace = /[\u0000-\u001f\u007f\s]+/g
  const flat = redact(text).replace(controlOrSpace, ' ').trim()
  return flat.length > MAX_DESCRIPTION ? `${flat.slice(0, MAX_DESCRIPTION - 1)}…` : flat
}

function httpUrl(v: string | undefined): string | undefined {
  if (!v) return undefined
  try {
    const u = new URL(v)
    return u.protocol === 'https:' || u.protocol === 'http:' ? v : undefined
  } catch {
    return undefined
  }
}

/** The latest status of `context` on a commit (state and description), if any. */
export async function currentCommitStatus(
  gh: GitHubClient,
  repo: GitHubRepo,
  sha: string,
  context: string
): Promise<{ state: string; description: string | null } | undefined> {
  const { data } = await gh.rest.repos.getCombinedStatusForRef({
    owner: repo.owner,
    repo: repo.repo,
    ref: sha,
    per_page: 100
  })
  const s = data.statuses.find((x) => x.context === context)
  return s && { state: s.state, description: s.description }
}

/** Sets a commit status; errors name the repository, the commit and the permission. */
export async function setCommitStatus(
  gh: GitHubClient,
  repo: GitHubRepo,
  sha: string,
  status: CommitStatus,
  logger: Logger
): Promise<void> {
  const targetUrl = httpUrl(status.targetUrl)
  try {
    await gh.rest.repos.createCommitStatus({
      owner: repo.owner,
      repo: repo.repo,
      sha,
      state: status.state,
      context: status.context,
      description: statusDescription(status.description),
      ...(targetUrl ? { target_url: targetUrl } : {})
    })
    logger.debug(
      `${repo.owner}/${repo.repo}@${sha.slice(0, 12)} ${status.context}: ${status.state}`
    )
  } catch (err) {
    const e = githubError(err, `setting status ${status.context} on ${sha.slice(0, 12)}`, repo)
    throw /HTTP 403/.test(e.message)
      ? new WaybillError(
          e.message,
          'the workflow needs permissions: { statuses: write } on that repository (or set commit-statuses: false)'
        )
      : e
  }
}
