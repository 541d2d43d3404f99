import { z } from 'zod'
import { defineStep } from '../define.js'
import type { StepResult } from '../types.js'
import { getPullRequest, githubError } from '../../integrations/github.js'
import { durationMs, durationSchema, providerSchema, repoUrlSchema } from './common.js'

const schema = z.strictObject({
  repoURL: repoUrlSchema,
  prNumber: z.number().int().min(1),
  provider: providerSchema.optional(),
  pollInterval: durationSchema.optional(),
  insecureSkipTLSVerify: z.boolean().optional()
})
export type GitWaitForPRConfig = z.infer<typeof schema>

/** Kargo's floor for suggested poll intervals. */
export const MIN_POLL_MS = 10_000

/**
 * Waits for a pull request: merged → Succeeded (outputs the merge commit), closed without merging
 * → Failed, still open → Running (the promotion resumes on the PR-closed event or the schedule).
 */
export const gitWaitForPR = defineStep({
  name: 'git-wait-for-pr',
  schema,
  capabilities: ['github'],
  async run(cfg, ctx): Promise<StepResult> {
    const repo = ctx.caps.github.repo(cfg.repoURL, cfg.provider)
    const gh = ctx.caps.github.client(repo)
    const pr = await getPullRequest(gh, repo, cfg.prNumber).catch((err) => {
      throw githubError(err, `reading pull request #${cfg.prNumber}`, repo)
    })
    const merged = pr.merged || !!pr.merged_at
    const info = { id: pr.number, url: pr.html_url, open: pr.state === 'open', merged }
    if (merged) {
      ctx.logger.info(`Pull request #${pr.number} was merged as ${pr.merge_commit_sha}`)
      return {
        status: 'Succeeded',
        // branch + repoURL: where the merge commit landed (drift checks it later).
        outputs: {
          commit: pr.merge_commit_sha ?? undefined,
          pr: info,
          branch: pr.base.ref,
          repoURL: cfg.repoURL
        }
      }
    }
    if (pr.state !== 'open') {
      return {
        status: 'Failed',
        outputs: { pr: info },
        message: `pull request #${pr.number} (${pr.html_url}) was closed without being merged`
      }
    }
    return {
      status: 'Running',
      outputs: { pr: info },
      message: `waiting for pull request #${pr.number} (${pr.html_url}) to be merged`,
      pollIntervalMs: Math.max(MIN_POLL_MS, durationMs(cfg.pollInterval ?? '30s'))
    }
  }
})
