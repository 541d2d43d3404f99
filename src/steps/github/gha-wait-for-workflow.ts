import { z } from 'zod'
import { defineStep } from '../define.js'
import type { StepResult } from '../types.js'
import { durationMs, durationSchema, repoUrlSchema } from '../git/common.js'
import { MIN_POLL_MS } from '../git/git-wait-for-pr.js'
import { WaybillError } from '../../util/errors.js'
import { actionsError } from './common.js'

const STEP = 'gha-wait-for-workflow'

/** The conclusions Kargo lets `expectedConclusion` name. */
export const WORKFLOW_CONCLUSIONS = [
  'success',
  'failure',
  'cancelled',
  'skipped',
  'timed_out',
  'action_required',
  'neutral',
  'stale'
] as const

const schema = z.strictObject({
  repoURL: repoUrlSchema,
  runID: z.number().int().min(1),
  expectedConclusion: z.enum(WORKFLOW_CONCLUSIONS).optional(),
  /** Kargo >= v1.10; Waybill's default is 30s (at least 10s). */
  pollInterval: durationSchema.optional(),
  /** Accepted for Kargo compatibility; the GitHub API client's TLS settings apply. */
  insecureSkipTLSVerify: z.boolean().optional()
})
export type GhaWaitForWorkflowConfig = z.infer<typeof schema>

/**
 * Waits for a GitHub Actions workflow run to complete. Completed → Succeeded with its
 * `conclusion` (Failed when `expectedConclusion` is set and differs); queued or in progress →
 * Running, so the promotion is saved and a later run (or the same one, polling in place) checks
 * again.
 */
export const ghaWaitForWorkflow = defineStep({
  name: STEP,
  schema,
  capabilities: ['github'],
  async run(cfg, ctx): Promise<StepResult> {
    const repo = ctx.caps.github.repo(cfg.repoURL, 'github', `${STEP}.repoURL`)
    const gh = ctx.caps.github.client(repo)
    const { data: run } = await gh.rest.actions
      .getWorkflowRun({ owner: repo.owner, repo: repo.repo, run_id: cfg.runID })
      .catch((err: unknown) => {
        if (err instanceof WaybillError) throw err
        throw actionsError(err, {
          step: STEP,
          what: `reading workflow run ${cfg.runID}`,
          repo,
          permission: 'actions: read',
          notFoundField: 'runID'
        })
      })
    const label = `workflow run ${run.id}${run.name ? ` (${run.name})` : ''}`
    const outputs = { runURL: run.html_url, status: run.status ?? undefined }
    if (run.status !== 'completed') {
      return {
        status: 'Running',
        outputs,
        message: `waiting for ${label} to complete: ${run.status ?? 'unknown'} (${run.html_url})`,
        pollIntervalMs: Math.max(MIN_POLL_MS, durationMs(cfg.pollInterval ?? '30s'))
      }
    }
    const conclusion = run.conclusion ?? 'unknown'
    if (cfg.expectedConclusion && conclusion !== cfg.expectedConclusion) {
      return {
        status: 'Failed',
        outputs: { ...outputs, conclusion },
        message: `${label} concluded '${conclusion}', expected '${cfg.expectedConclusion}' (${run.html_url})`
      }
    }
    ctx.logger.info(`${label} concluded '${conclusion}': ${run.html_url}`)
    return { status: 'Succeeded', outputs: { ...outputs, conclusion } }
  }
})
