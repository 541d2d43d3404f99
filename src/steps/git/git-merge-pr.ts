import { z } from 'zod'
import type { StepContext, StepDefinition, StepResult } from '../types.js'
import { parseOrThrow } from '../../util/zod.js'
import { ConfigFieldError } from '../../util/errors.js'
import { assertProviderSupported, requireGitHubRepo } from '../../integrations/repo-url.js'
import {
  getPullRequest,
  githubClient,
  githubError,
  httpStatus,
  mergePullRequest,
  type MergeMethod
} from '../../integrations/github.js'
import { durationMs, durationSchema, providerSchema, repoUrlSchema } from './common.js'
import { MIN_POLL_MS } from './git-wait-for-pr.js'

const schema = z.strictObject({
  repoURL: repoUrlSchema,
  prNumber: z.number().int().min(1),
  provider: providerSchema.optional(),
  insecureSkipTLSVerify: z.boolean().optional(),
  wait: z.boolean().optional(),
  pollInterval: durationSchema.optional(),
  mergeMethod: z.string().min(1).optional()
})
export type GitMergePRConfig = z.infer<typeof schema>

const GITHUB_METHODS: MergeMethod[] = ['merge', 'squash', 'rebase']

/**
 * Merges a pull request (synchronously; no merge queues). Already merged → Succeeded with its
 * merge commit. Not mergeable → Running when `wait`, else Failed.
 */
export const gitMergePR: StepDefinition<GitMergePRConfig> = {
  name: 'git-merge-pr',
  parse: (config) => {
    const cfg = parseOrThrow(schema, config, 'config')
    assertProviderSupported(cfg.provider)
    if (cfg.mergeMethod && !GITHUB_METHODS.includes(cfg.mergeMethod as MergeMethod))
      throw new ConfigFieldError(
        'mergeMethod',
        `'${cfg.mergeMethod}' is not a GitHub merge method (merge, squash, rebase)`
      )
    return cfg
  },
  async run(cfg, ctx: StepContext): Promise<StepResult> {
    const repo = requireGitHubRepo(ctx.services, cfg.repoURL, cfg.provider)
    const gh = githubClient(ctx.services, ctx.logger, repo.apiUrl)
    const pollIntervalMs = Math.max(MIN_POLL_MS, durationMs(cfg.pollInterval ?? '10s'))
    const notYet = (why: string): StepResult =>
      cfg.wait
        ? { status: 'Running', message: `${why}; waiting`, pollIntervalMs }
        : { status: 'Failed', message: why }
    try {
      const pr = await getPullRequest(gh, repo, cfg.prNumber)
      if (pr.merged || pr.merged_at) {
        ctx.logger.info(`Pull request #${pr.number} is already merged`)
        return { status: 'Succeeded', outputs: { commit: pr.merge_commit_sha ?? undefined } }
      }
      if (pr.state !== 'open')
        return {
          status: 'Failed',
          message: `pull request #${pr.number} (${pr.html_url}) is closed and cannot be merged`
        }
      if (pr.mergeable === false)
        return notYet(
          `pull request #${pr.number} (${pr.html_url}) is not mergeable (${pr.mergeable_state})`
        )
      if (pr.mergeable === null && cfg.wait)
        return notYet(`GitHub is still computing whether pull request #${pr.number} is mergeable`)
      try {
        const res = await mergePullRequest(gh, repo, pr.number, {
          method: cfg.mergeMethod as MergeMethod | undefined,
          sha: pr.head.sha
        })
        if (!res.merged) return notYet(`pull request #${pr.number} was not merged: ${res.message}`)
        ctx.logger.info(`Merged pull request #${pr.number} as ${res.sha}`)
        return { status: 'Succeeded', outputs: { commit: res.sha } }
      } catch (err) {
        const status = httpStatus(err)
        if (status === 405 || status === 409)
          return notYet(
            `pull request #${pr.number} cannot be merged now: ${(err as Error).message}`
          )
        throw err
      }
    } catch (err) {
      throw githubError(err, `merging pull request #${cfg.prNumber}`, repo)
    }
  }
}
