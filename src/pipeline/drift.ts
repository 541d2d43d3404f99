import { git } from '../git/git.js'
import { githubClient } from '../integrations/github.js'
import { githubRepoFor } from '../integrations/repo-url.js'
import type { ApplicationHealthStatus } from '../promotion/health.js'
import { credentialsForUrl, type Services } from '../runtime/services.js'
import type { Promotion, State } from '../state/types.js'
import { errorMessage } from '../util/errors.js'
import type { Logger } from '../util/logger.js'
import { redact } from '../util/logger.js'
import { stagePromotions } from './promotions.js'

/**
 * Drift: a stage changed outside Waybill. A stage branch whose head is no longer the commit
 * Waybill last pushed (or merged) there, or an Argo CD Application synced to another revision
 * than the one Waybill set. The state still names the freight Waybill deployed; what runs is
 * something else.
 */
export interface DriftFinding {
  stage: string
  kind: 'branch' | 'argocd'
  /** `<repoURL> <branch>`, or `<namespace>/<application>`. */
  target: string
  /** What Waybill recorded (commit or revision). */
  expected: string
  /** What is there now; null when the branch is gone. */
  actual: string | null
  /** The promotion that recorded `expected`. */
  promotion?: string
  /** Who or what made the change, when it can be told (commit author and subject). */
  changedBy?: string
  /** One sentence: what changed. */
  message: string
  /** What to do about it. */
  hint: string
}

/** A commit a promotion left on a branch (git-push, github-push, git-wait-for-pr, git-merge-pr). */
export interface BranchRecord {
  stage: string
  repoURL: string
  branch: string
  commit: string
  promotion: string
}

const SHA = /^[0-9a-f]{40}$/
const PROMOTION_BRANCH = 'waybill/promotion/'

/**
 * A URL `git ls-remote` may be pointed at: the state branch is writable by more people than the
 * config, so a recorded URL is only followed when it is a plain http(s), ssh, scp-style or file
 * URL (no `ext::` transports, no option-looking text).
 */
function listableUrl(url: string): boolean {
  return /^(https?|ssh|file):\/\/[^\s]+$/i.test(url) || /^[\w.-]+@[\w.-]+:[^\s:][^\s]*$/.test(url)
}

/** The last commit each step output of a promotion records on a branch, per repository+branch. */
function promotionRecords(p: Promotion): BranchRecord[] {
  const out = new Map<string, BranchRecord>()
  for (const raw of Object.values(p.state ?? {})) {
    const o = raw as { repoURL?: unknown; branch?: unknown; commit?: unknown } | undefined
    if (typeof o?.repoURL !== 'string' || typeof o.branch !== 'string') continue
    if (!listableUrl(o.repoURL) || !/^[\w./-]+$/.test(o.branch)) continue
    if (typeof o.commit !== 'string' || !SHA.test(o.commit)) continue
    // A promotion branch is a pull request's head, not where a stage lives.
    if (o.branch.startsWith(PROMOTION_BRANCH)) continue
    out.set(`${o.repoURL}\n${o.branch}`, {
      stage: p.stage,
      repoURL: o.repoURL,
      branch: o.branch,
      commit: o.commit,
      promotion: p.name
    })
  }
  return [...out.values()]
}

/**
 * For each repository+branch a stage's promotions wrote to, the commit the newest of them left
 * there. Pending promotions wrote nothing yet.
 */
export function recordedBranches(state: State, stage: string): BranchRecord[] {
  const out = new Map<string, BranchRecord>()
  for (const p of stagePromotions(state, stage).reverse()) {
    if (p.phase === 'Pending') continue
    for (const r of promotionRecords(p)) {
      const key = `${r.repoURL}\n${r.branch}`
      if (!out.has(key)) out.set(key, r)
    }
  }
  return [...out.values()]
}

/** Heads of branches of one repository, and its default branch, from one `git ls-remote`. */
export interface RemoteHeads {
  defaultBranch?: string
  heads: Map<string, string>
}

export type LsRemote = (repoURL: string, branches: string[]) => Promise<RemoteHeads>

/** `git ls-remote --symref <url> HEAD refs/heads/<b>…`: one call per repository. */
export function gitLsRemote(services: Services): LsRemote {
  return async (repoURL, branches) => {
    const out = await git(
      [
        'ls-remote',
        '--symref',
        '--end-of-options',
        repoURL,
        'HEAD',
        ...branches.map((b) => `refs/heads/${b}`)
      ],
      { credentials: credentialsForUrl(services, repoURL), timeoutMs: 60_000 }
    )
    const heads = new Map<string, string>()
    let defaultBranch: string | undefined
    for (const line of out.split('\n')) {
      const [left, ref] = line.split('\t')
      if (!ref) continue
      if (left.startsWith('ref: refs/heads/') && ref === 'HEAD')
        defaultBranch = left.slice('ref: refs/heads/'.length)
      else if (ref.startsWith('refs/heads/') && branches.includes(ref.slice(11)))
        heads.set(ref.slice(11), left)
    }
    return { defaultBranch, heads }
  }
}

export interface BranchDriftOptions {
  services: Services
  logger: Logger
  /** Stages to check (default: every stage in the state). */
  stages?: string[]
  /** For tests: another way to list remote heads. */
  lsRemote?: LsRemote
}

/** Who made a commit, for GitHub-served repositories (one API call per drifted branch). */
async function commitAuthor(
  services: Services,
  logger: Logger,
  repoURL: string,
  sha: string
): Promise<string | undefined> {
  const repo = githubRepoFor(services, repoURL)
  if (!repo || !services.github.token) return undefined
  try {
    const gh = githubClient(services, logger, repo.apiUrl)
    const { data } = await gh.rest.git.getCommit({
      owner: repo.owner,
      repo: repo.repo,
      commit_sha: sha
    })
    const subject = data.message.split('\n')[0].slice(0, 120)
    return redact(`${data.author?.name ?? 'unknown'}: ${subject}`)
  } catch (err) {
    logger.debug(`could not read commit ${sha} of ${repoURL}: ${errorMessage(err)}`)
    return undefined
  }
}

/**
 * Stage branches that moved since Waybill last wrote them. Checked only where Waybill alone
 * writes: a branch two stages write to, or a repository's default branch (where people commit),
 * moves for reasons that are not drift. Stages with a promotion under way are skipped. A
 * repository that cannot be listed is logged and skipped: drift is advice, never an error.
 */
export async function branchDrift(state: State, opts: BranchDriftOptions): Promise<DriftFinding[]> {
  const stages = opts.stages ?? Object.keys(state.stages)
  const records: BranchRecord[] = []
  for (const stage of stages) {
    if (stagePromotions(state, stage).some((p) => p.phase === 'Running')) continue
    records.push(...recordedBranches(state, stage))
  }
  const owners = new Map<string, Set<string>>()
  for (const stage of Object.keys(state.stages))
    for (const r of recordedBranches(state, stage)) {
      const key = `${r.repoURL}\n${r.branch}`
      owners.set(key, (owners.get(key) ?? new Set()).add(stage))
    }
  const byRepo = new Map<string, BranchRecord[]>()
  for (const r of records) {
    if ((owners.get(`${r.repoURL}\n${r.branch}`)?.size ?? 0) > 1) continue
    byRepo.set(r.repoURL, [...(byRepo.get(r.repoURL) ?? []), r])
  }
  const lsRemote = opts.lsRemote ?? gitLsRemote(opts.services)
  const findings: DriftFinding[] = []
  for (const [repoURL, recs] of byRepo) {
    let remote: RemoteHeads
    try {
      remote = await lsRemote(repoURL, [...new Set(recs.map((r) => r.branch))])
    } catch (err) {
      opts.logger.warn(`drift: cannot list the branches of ${repoURL}: ${errorMessage(err)}`)
      continue
    }
    for (const r of recs) {
      if (r.branch === remote.defaultBranch) continue
      const actual = remote.heads.get(r.branch) ?? null
      if (actual === r.commit) continue
      const changedBy = actual
        ? await commitAuthor(opts.services, opts.logger, repoURL, actual)
        : undefined
      findings.push({
        stage: r.stage,
        kind: 'branch',
        target: `${repoURL} ${r.branch}`,
        expected: r.commit,
        actual,
        promotion: r.promotion,
        ...(changedBy ? { changedBy } : {}),
        message: actual
          ? `branch ${r.branch} of ${repoURL} is at ${actual.slice(0, 12)}, not at ${r.commit.slice(0, 12)} that ${r.promotion} left there${changedBy ? ` (by ${changedBy})` : ''}`
          : `branch ${r.branch} of ${repoURL} was deleted; ${r.promotion} left ${r.commit.slice(0, 12)} there`,
        hint: actual
          ? `the stage no longer runs what Waybill recorded: promote the freight you want to ${r.stage} again (it rewrites the branch), or revert the change on ${r.branch}`
          : `promote to ${r.stage} again to recreate the branch`
      })
    }
  }
  return findings
}

/**
 * Argo CD Applications synced to another revision than the one the stage's last promotion set
 * (argocd-update's desiredRevisions), from the health the status already evaluated live. An
 * Application being synced or not yet reconciled (health Unknown) is not judged.
 */
export function argocdDrift(state: State, stages?: string[]): DriftFinding[] {
  const findings: DriftFinding[] = []
  for (const stage of stages ?? Object.keys(state.stages)) {
    const st = state.stages[stage]
    if (!st?.healthChecks?.length || !st.health) continue
    const statuses =
      (st.health.output as { applicationStatuses?: ApplicationHealthStatus[] } | undefined)
        ?.applicationStatuses ?? []
    for (const check of st.healthChecks) {
      const apps = (check.input as { apps?: unknown } | undefined)?.apps
      if (!Array.isArray(apps)) continue
      for (const app of apps as Array<{ name?: unknown; desiredRevisions?: unknown }>) {
        if (typeof app?.name !== 'string' || !Array.isArray(app.desiredRevisions)) continue
        const seen = statuses.find((s) => s.name === app.name)
        if (!seen || seen.status === 'Unknown' || !seen.revisions) continue
        app.desiredRevisions.forEach((desired, i) => {
          if (typeof desired !== 'string' || !desired) return
          const actual = seen.revisions?.[i]
          if (actual === desired) return
          findings.push({
            stage,
            kind: 'argocd',
            target: `${seen.namespace}/${seen.name}`,
            expected: desired,
            actual: actual ?? null,
            promotion: st.freightHistory[0]?.promotion,
            message: `Argo CD Application ${seen.namespace}/${seen.name} is synced to ${actual ?? '(nothing)'}, not to ${desired} that Waybill set${app.desiredRevisions && (app.desiredRevisions as unknown[]).length > 1 ? ` (source ${i + 1})` : ''}`,
            hint: `someone synced or edited the Application outside Waybill (or auto-sync followed a moved branch): promote to ${stage} again, or sync the Application to ${desired}`
          })
        })
      }
    }
  }
  return findings
}

/** Every drift of the given stages: branches (one ls-remote per repository) and Argo CD. */
export async function detectDrift(state: State, opts: BranchDriftOptions): Promise<DriftFinding[]> {
  return [...(await branchDrift(state, opts)), ...argocdDrift(state, opts.stages)]
}
