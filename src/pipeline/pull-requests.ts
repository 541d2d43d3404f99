import {
  getBranchHead,
  getPullRequest,
  githubClient,
  githubError,
  httpStatus,
  type GitHubClient
} from '../integrations/github.js'
import { githubRepoFor, type GitHubRepo } from '../integrations/repo-url.js'
import type { Services } from '../runtime/services.js'
import type { Promotion } from '../state/types.js'
import { generatedBranch } from '../steps/git/common.js'
import { errorMessage } from '../util/errors.js'
import type { Logger } from '../util/logger.js'
import { redact } from '../util/logger.js'
import type { PromotionHook } from './deploy-hook.js'

/** A pull request a promotion opened (git-open-pr) or waited on (git-wait-for-pr). */
export interface PromotionPullRequest {
  repo: GitHubRepo
  number: number
  url: string
}

/** What was done to a finished promotion's pull requests and branches. */
export interface PullRequestCleanup {
  /** URLs of pull requests closed (they were still open). */
  closed: string[]
  /** `owner/repo:branch` of promotion branches deleted. */
  deletedBranches: string[]
  /** Why something could not be done (never fails the caller). */
  problems: string[]
}

/** The pull requests named in a promotion's step outputs (`pr: {id, url}`), once each. */
export function promotionPullRequests(services: Services, p: Promotion): PromotionPullRequest[] {
  const out = new Map<string, PromotionPullRequest>()
  for (const output of Object.values(p.state ?? {})) {
    const pr = (output as { pr?: { id?: unknown; url?: unknown } } | undefined)?.pr
    if (typeof pr?.url !== 'string') continue
    const m = /^(.*)\/pull\/(\d+)$/.exec(pr.url)
    const repo = m ? githubRepoFor(services, m[1]) : undefined
    if (!m || !repo) continue
    out.set(pr.url, { repo, number: Number(m[2]), url: pr.url })
  }
  return [...out.values()]
}

export interface FinishOptions {
  services: Services
  logger: Logger
  /**
   * Close pull requests still open, with this comment. Set for promotions that did not succeed
   * (aborted, failed, errored): merging their pull request later would change the stage while
   * the state names other freight.
   */
  closeWith?: string
}

/**
 * Tidies up after a finished promotion: closes its still-open pull requests (with `closeWith`),
 * then deletes the promotion branches Waybill generated for them (`waybill/promotion/<name>`,
 * from git-push's generateTargetBranch) once their pull request is merged or closed, unless
 * someone pushed more commits to the branch since. Failures are reported in `problems`.
 */
export async function finishPromotionPullRequests(
  p: Promotion,
  opts: FinishOptions
): Promise<PullRequestCleanup> {
  const result: PullRequestCleanup = { closed: [], deletedBranches: [], problems: [] }
  const prs = promotionPullRequests(opts.services, p)
  if (!prs.length || !opts.services.github.token) return result
  const clients = new Map<string, GitHubClient>()
  for (const pr of prs) {
    let gh = clients.get(pr.repo.apiUrl)
    if (!gh)
      clients.set(pr.repo.apiUrl, (gh = githubClient(opts.services, opts.logger, pr.repo.apiUrl)))
    const where = { owner: pr.repo.owner, repo: pr.repo.repo }
    try {
      const data = await getPullRequest(gh, pr.repo, pr.number)
      let open = data.state === 'open' && !data.merged
      if (open && opts.closeWith !== undefined) {
        await gh.rest.issues.createComment({
          ...where,
          issue_number: pr.number,
          body: redact(opts.closeWith)
        })
        await gh.rest.pulls.update({ ...where, pull_number: pr.number, state: 'closed' })
        result.closed.push(pr.url)
        opts.logger.info(`closed pull request #${pr.number} (${pr.url})`)
        open = false
      }
      const branch = data.head.ref
      const sameRepo =
        !data.head.repo || data.head.repo.full_name === `${pr.repo.owner}/${pr.repo.repo}`
      if (open || !sameRepo || branch !== generatedBranch(p.name)) continue
      const head = await getBranchHead(gh, pr.repo, branch)
      if (!head) continue
      if (head !== data.head.sha) {
        result.problems.push(
          `kept branch ${branch} of ${where.owner}/${where.repo}: it has commits after the pull request's`
        )
        continue
      }
      try {
        await gh.rest.git.deleteRef({ ...where, ref: `heads/${branch}` })
      } catch (err) {
        // Deleted meanwhile (GitHub's "delete head branch" setting): nothing left to do.
        if (httpStatus(err) !== 422) throw err
      }
      result.deletedBranches.push(`${where.owner}/${where.repo}:${branch}`)
      opts.logger.info(`deleted promotion branch ${branch} of ${where.owner}/${where.repo}`)
    } catch (err) {
      result.problems.push(
        errorMessage(githubError(err, `tidying up pull request #${pr.number}`, pr.repo))
      )
    }
  }
  for (const problem of result.problems) opts.logger.warn(problem)
  return result
}

/** Why a finished promotion's open pull requests are closed (the comment Waybill leaves). */
export function closingComment(p: Promotion, runURL?: string): string {
  const what =
    p.phase === 'Aborted'
      ? (p.message ?? 'was aborted')
      : `ended ${p.phase}${p.message ? `: ${p.message.split('\n')[0].slice(0, 300)}` : ''}`
  return [
    `Waybill promotion \`${p.name}\` to stage \`${p.stage}\` ${what}${runURL ? ` (run ${runURL})` : ''}.`,
    '',
    `Closing this pull request: merging it now would change \`${p.stage}\` while Waybill's state still names the freight it had. Promote again to propose the change anew.`
  ].join('\n')
}

/**
 * After each finished promotion: closes the pull requests it left open (failed, errored) and
 * deletes the promotion branches Waybill generated for them. Never fails the promotion.
 */
export function pullRequestCleanupHook(
  services: Services,
  logger: Logger,
  runURL?: string
): PromotionHook {
  return async (p) => {
    if (p.phase === 'Pending' || p.phase === 'Running') return
    try {
      await finishPromotionPullRequests(p, {
        services,
        logger,
        closeWith:
          p.phase === 'Succeeded' ? undefined : closingComment(p, p.executedBy?.runURL ?? runURL)
      })
    } catch (err) {
      logger.warn(`could not tidy up the pull requests of ${p.name}: ${errorMessage(err)}`)
    }
  }
}
