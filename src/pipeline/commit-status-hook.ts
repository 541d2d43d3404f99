import {
  currentCommitStatus,
  setCommitStatus,
  statusContext,
  statusDescription,
  type CommitStatus,
  type CommitStatusState
} from '../integrations/commit-status.js'
import { githubClient, type GitHubClient } from '../integrations/github.js'
import { githubRepoFor, type GitHubRepo } from '../integrations/repo-url.js'
import type { Services } from '../runtime/services.js'
import type { Promotion, State, VerificationPhase } from '../state/types.js'
import { errorMessage } from '../util/errors.js'
import type { Logger } from '../util/logger.js'
import type { PromotionHook } from './deploy-hook.js'

/** Called after each verification of a stage's current freight (see PipelineContext.onVerification). */
export type VerificationHook = (
  verification: { stage: string; phase: VerificationPhase; message?: string },
  state: State
) => Promise<void>

/** A commit on a GitHub-served repository. */
export interface StatusTarget {
  repo: GitHubRepo
  sha: string
}

const SHA = /^[0-9a-f]{40}$/

function targetKey(t: StatusTarget): string {
  return `${t.repo.apiUrl}|${t.repo.owner}/${t.repo.repo}@${t.sha}`
}

function dedupe(targets: StatusTarget[]): StatusTarget[] {
  const seen = new Map<string, StatusTarget>()
  for (const t of targets) seen.set(targetKey(t), t)
  return [...seen.values()]
}

/** The source commits of a collection's freight whose repository is GitHub-served. */
export function sourceCommits(
  services: Services,
  state: State,
  freightNames: string[]
): StatusTarget[] {
  const out: StatusTarget[] = []
  for (const name of freightNames) {
    for (const c of state.freight[name]?.commits ?? []) {
      const repo = githubRepoFor(services, c.repoURL)
      if (repo && SHA.test(c.id)) out.push({ repo, sha: c.id })
    }
  }
  return out
}

/** The repository a `…/owner/repo/commit/<sha>` or `…/owner/repo/pull/<n>` link points into. */
function repoOfLink(services: Services, link: unknown): GitHubRepo | undefined {
  if (typeof link !== 'string') return undefined
  const m = /^(.*?)\/(?:commit|pull)\/[^/]+$/.exec(link)
  return m ? githubRepoFor(services, m[1]) : undefined
}

/**
 * The commits a promotion left on GitHub-served branches: for each repository, the last commit a
 * step output (git-push, github-push: `commit` + `commitURL`; git-wait-for-pr: `commit` +
 * `pr.url`; git-merge-pr: `commit`, with the step's literal `repoURL`).
 */
export function promotedCommits(services: Services, p: Promotion): StatusTarget[] {
  const configs = new Map<string, unknown>()
  p.steps.forEach((raw, i) => {
    const s = raw as { as?: string; config?: { repoURL?: unknown } }
    configs.set(s.as || `step-${i + 1}`, s.config?.repoURL)
  })
  const last = new Map<string, StatusTarget>()
  for (const [alias, out] of Object.entries(p.state ?? {})) {
    const o = out as { commit?: unknown; commitURL?: unknown; pr?: { url?: unknown } } | undefined
    if (typeof o?.commit !== 'string' || !SHA.test(o.commit)) continue
    const literal = configs.get(alias)
    const repo =
      repoOfLink(services, o.commitURL) ??
      repoOfLink(services, o.pr?.url) ??
      (typeof literal === 'string' && !literal.includes('${{')
        ? githubRepoFor(services, literal)
        : undefined)
    if (!repo) continue
    const t = { repo, sha: o.commit }
    last.set(`${repo.apiUrl}|${repo.owner}/${repo.repo}`, t)
  }
  return [...last.values()]
}

export interface CommitStatusHookOptions {
  services: Services
  logger: Logger
  /** The run that acts (target_url), when the promotion does not name one. */
  runURL?: string
  /** Whether a verification follows a successful promotion of the stage (status stays pending). */
  verifies(stage: string, state: State): boolean
}

function promotionStatus(
  p: Promotion,
  alias: string,
  verifies: boolean
): { state: CommitStatusState; description: string } | undefined {
  switch (p.phase) {
    case 'Running':
      return { state: 'pending', description: `Promoting ${alias} to ${p.stage}` }
    case 'Succeeded':
      return verifies
        ? { state: 'pending', description: `${alias} promoted to ${p.stage}; verifying` }
        : { state: 'success', description: `${alias} promoted to ${p.stage}` }
    case 'Failed':
    case 'Errored':
    case 'Aborted': {
      const why = p.message?.split('\n')[0]
      return {
        state: p.phase === 'Failed' ? 'failure' : 'error',
        description: `Promotion of ${alias} to ${p.stage} ${p.phase.toLowerCase()}${why ? `: ${why}` : ''}`
      }
    }
    default:
      return undefined
  }
}

function verificationStatus(
  phase: VerificationPhase,
  alias: string,
  stage: string,
  message?: string
): { state: CommitStatusState; description: string } | undefined {
  switch (phase) {
    case 'Running':
    case 'Pending':
      // As the successful promotion said, so a verification still running posts nothing new.
      return { state: 'pending', description: `${alias} promoted to ${stage}; verifying` }
    case 'Successful':
      return { state: 'success', description: `${alias} verified in ${stage}` }
    case 'Failed':
    case 'Error': {
      const why = message?.split('\n')[0]
      return {
        state: phase === 'Failed' ? 'failure' : 'error',
        description: `Verification of ${alias} in ${stage} ${phase === 'Failed' ? 'failed' : 'errored'}${why ? `: ${why}` : ''}`
      }
    }
    default:
      return undefined
  }
}

/**
 * Commit statuses `waybill/<stage>` on the commits a promotion pushed and on the freight's source
 * commits: pending while it runs (and while the stage verifies), then success or failure. A
 * status already there is not posted again. Failures are warnings (a status never fails a
 * promotion); a repository that refuses (HTTP 403) is skipped for the rest of the run.
 */
export function commitStatusHooks(opts: CommitStatusHookOptions): {
  onPromotion: PromotionHook
  onVerification: VerificationHook
} {
  const clients = new Map<string, GitHubClient>()
  const posted = new Map<string, string>()
  const refused = new Set<string>()
  const client = (repo: GitHubRepo) => {
    let c = clients.get(repo.apiUrl)
    if (!c) clients.set(repo.apiUrl, (c = githubClient(opts.services, opts.logger, repo.apiUrl)))
    return c
  }

  const post = async (targets: StatusTarget[], status: CommitStatus): Promise<void> => {
    const wanted = `${status.state}|${statusDescription(status.description)}`
    for (const t of dedupe(targets)) {
      const repoKey = `${t.repo.apiUrl}|${t.repo.owner}/${t.repo.repo}`
      if (refused.has(repoKey)) continue
      const key = `${targetKey(t)}#${status.context}`
      const gh = client(t.repo)
      try {
        if (!posted.has(key)) {
          const current = await currentCommitStatus(gh, t.repo, t.sha, status.context)
          if (current) posted.set(key, `${current.state}|${current.description ?? ''}`)
        }
        if (posted.get(key) === wanted) continue
        await setCommitStatus(gh, t.repo, t.sha, status, opts.logger)
        posted.set(key, wanted)
      } catch (err) {
        const msg = errorMessage(err)
        if (/HTTP 403/.test(msg)) refused.add(repoKey)
        opts.logger.warn(
          `could not set commit status ${status.context} on ${t.repo.owner}/${t.repo.repo}@${t.sha.slice(0, 12)}: ${msg}`
        )
      }
    }
  }

  const aliasOf = (state: State, names: string[]) =>
    names.map((n) => state.freight[n]?.alias ?? n.slice(0, 7)).join(', ')

  return {
    async onPromotion(p, state) {
      const names = p.freightCollection
        ? Object.values(p.freightCollection.items).map((i) => i.name)
        : [p.freight]
      const s = promotionStatus(p, aliasOf(state, [p.freight]), opts.verifies(p.stage, state))
      if (!s) return
      const targets = [
        ...promotedCommits(opts.services, p),
        ...sourceCommits(opts.services, state, names)
      ]
      await post(targets, {
        ...s,
        context: statusContext(p.stage),
        targetUrl: p.executedBy?.runURL ?? p.runURL ?? opts.runURL
      })
    },
    async onVerification(v, state) {
      const collection = state.stages[v.stage]?.freightHistory[0]
      if (!collection) return
      const names = Object.values(collection.items).map((i) => i.name)
      const s = verificationStatus(v.phase, aliasOf(state, names), v.stage, v.message)
      if (!s) return
      const promotion = collection.promotion ? state.promotions[collection.promotion] : undefined
      const targets = [
        ...(promotion ? promotedCommits(opts.services, promotion) : []),
        ...sourceCommits(opts.services, state, names)
      ]
      await post(targets, { ...s, context: statusContext(v.stage), targetUrl: opts.runURL })
    }
  }
}
