import { z } from 'zod'
import { defineStep } from '../define.js'
import type { StepResult } from '../types.js'
import {
  getPullRequest,
  githubError,
  httpStatus,
  mergePullRequest,
  type MergeMethod
} from '../../integrations/github.js'
import { durationMs, durationSchema, providerSchema, repoUrlSchema } from './common.js'
import { MIN_POLL_MS } from './git-wait-for-pr.js'

const GITHUB_METHODS: MergeMethod[] = ['merge', 'squash', 'rebase']

const schema = z.strictObject({
  repoURL: repoUrlSchema,
  prNumber: z.number().int().min(1),
  provider: providerSchema.optional(),
  insecureSkipTLSVerify: z.boolean().optional(),
  wait: z.boolean().optional(),
  pollInterval: durationSchema.optional(),
  mergeMethod: z
    .string()
    .min(1)
    .refine((m) => GITHUB_METHODS.includes(m as MergeMethod), {
      error: (iss) => `'${String(iss.input)}' is not a GitHub merge method (merge, squash, rebase)`
    })
    .optional()
})
export type GitMergePRConfig = z.infer<typeof schema>

/**
 * Merges a pull request (synchronously; no merge queues). Already merged → Succeeded with its
 * merge commit. Not mergeable → Running when `wait`, else Failed.
 */
export const gitMergePR = defineStep({
  name: 'git-merge-pr',
  schema,
  capabilities: ['github'],
  async run(cfg, ctx): Promise<StepResult> {
    const repo = ctx.caps.github.repo(cfg.repoURL, cfg.provider)
    const gh = ctx.caps.github.client(repo)
    const pollIntervalMs = Math.max(MIN_POLL_MS, durationMs(cfg.pollInterval ?? '10s'))
    const notYet = (why: string): StepResult =>
      cfg.wait
        ? { status: 'Running', message: `${why}; waiting`, pollIntervalMs }
        : { status: 'Failed', message: why }
    try {
      const pr = await getPullRequest(gh, repo, cfg.prNumber)
      if (pr.merged || pr.merged_at) {
        ctx.logger.info(`Pull request #${pr.number} is already merged`)
        return {
          status: 'Succeeded',
          outputs: {
            commit: pr.merge_commit_sha ?? undefined,
            branch: pr.base.ref,
            repoURL: cfg.repoURL
          }
        }
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
        return {
          status: 'Succeeded',
          outputs: { commit: res.sha, branch: pr.base.ref, repoURL: cfg.repoURL }
        }
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
})
