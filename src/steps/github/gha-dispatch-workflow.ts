import { z } from 'zod'
import { defineStep } from '../define.js'
import type { StepResult } from '../types.js'
import { repoUrlSchema } from '../git/common.js'
import { httpStatus, type GitHubClient } from '../../integrations/github.js'
import type { GitHubRepo } from '../../integrations/repo-url.js'
import { ConfigFieldError, WaybillError } from '../../util/errors.js'
import { redact } from '../../util/logger.js'
import { actionsError } from './common.js'
import { scalarText } from '../../util/text.js'

const STEP = 'gha-dispatch-workflow'
/** GitHub's limit on workflow_dispatch inputs. */
const MAX_INPUTS = 25

const schema = z.strictObject({
  repoURL: repoUrlSchema,
  workflowFile: z.string().min(1),
  ref: z.string().min(1),
  inputs: z
    .record(z.string(), z.unknown())
    .refine((i) => Object.keys(i).length <= MAX_INPUTS, {
      message: `GitHub accepts at most ${MAX_INPUTS} inputs`
    })
    .optional(),
  /** Seconds to wait for the run to appear after the dispatch (Kargo: default 60, max 300). */
  timeout: z.number().int().min(1).max(300).optional(),
  /** Accepted for Kargo compatibility; the GitHub API client's TLS settings apply. */
  insecureSkipTLSVerify: z.boolean().optional()
})
export type GhaDispatchWorkflowConfig = z.infer<typeof schema>

/** Test hook: how often the run list is polled when the dispatch did not return the run. */
export const dispatchPolling = { intervalMs: 3000 }

/** Workflow inputs as GitHub takes them: strings (numbers, booleans as text; objects as JSON). */
export function workflowInputs(inputs: Record<string, unknown> = {}): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(inputs)) {
    if (v === undefined || v === null) continue
    out[k] = scalarText(v) ?? JSON.stringify(v)
  }
  return out
}

/** The file name GitHub's API wants (`deploy.yml`), also from `.github/workflows/deploy.yml`. */
function workflowId(file: string): string {
  return file.replace(/^\.?\/?\.github\/workflows\//, '')
}

/** A 422 from the dispatch endpoint, attributed to the config field it is about. */
function dispatchRefusal(err: unknown, file: string, ref: string, where: string) {
  const raw = redact(err instanceof Error ? err.message : String(err))
  if (/workflow_dispatch/i.test(raw))
    return new ConfigFieldError(
      `${STEP}.workflowFile`,
      `${file} in ${where} cannot be dispatched: ${raw}`,
      `add 'on: workflow_dispatch' to the workflow on '${ref}'`
    )
  if (/\bref\b/i.test(raw))
    return new ConfigFieldError(
      `${STEP}.ref`,
      `GitHub did not find '${ref}' in ${where}: ${raw}`,
      'ref is a branch or tag of the repository holding the workflow'
    )
  if (/input/i.test(raw))
    return new ConfigFieldError(
      `${STEP}.inputs`,
      `${file} refused the inputs: ${raw}`,
      `inputs must match the workflow's on.workflow_dispatch.inputs`
    )
  return undefined
}

interface RunRef {
  id: number
  url?: string
}

/** The newest workflow_dispatch runs of the workflow on the ref. */
async function dispatchedRuns(gh: GitHubClient, repo: GitHubRepo, workflow: string, ref: string) {
  const { data } = await gh.rest.actions.listWorkflowRuns({
    owner: repo.owner,
    repo: repo.repo,
    workflow_id: workflow,
    event: 'workflow_dispatch',
    branch: ref,
    per_page: 30
  })
  return data.workflow_runs
}

/**
 * The run a dispatch created, on servers that answer the dispatch with 204 and no run ID
 * (GitHub Enterprise Server before return_run_details): the oldest workflow_dispatch run on the
 * ref that was not there before the dispatch. GitHub creates it asynchronously: poll.
 */
async function findDispatchedRun(
  gh: GitHubClient,
  repo: GitHubRepo,
  workflow: string,
  ref: string,
  before: ReadonlySet<number>,
  deadline: number,
  signal?: AbortSignal
): Promise<RunRef | undefined> {
  for (;;) {
    const fresh = (await dispatchedRuns(gh, repo, workflow, ref))
      .filter((r) => !before.has(r.id))
      .sort((a, b) => a.id - b.id)
    if (fresh.length) return { id: fresh[0].id, url: fresh[0].html_url }
    if (Date.now() >= deadline || signal?.aborted) return undefined
    await new Promise((r) => setTimeout(r, dispatchPolling.intervalMs))
  }
}

/**
 * Dispatches a GitHub Actions workflow (`workflow_dispatch`) with the action's GitHub token and
 * outputs the run's ID (`runID`) for gha-wait-for-workflow. GitHub returns the run with the
 * dispatch (`return_run_details`); after an older server's 204 the run is the new one in the
 * workflow's run list (the runs there before the dispatch are read first).
 */
export const ghaDispatchWorkflow = defineStep({
  name: STEP,
  schema,
  capabilities: ['github'],
  async run(cfg, ctx): Promise<StepResult> {
    const repo = ctx.caps.github.repo(cfg.repoURL, 'github', `${STEP}.repoURL`)
    const gh = ctx.caps.github.client(repo)
    const where = `${repo.owner}/${repo.repo}`
    const workflow = workflowId(cfg.workflowFile)
    const what = `dispatching workflow ${workflow} on '${cfg.ref}'`
    const startedAt = Date.now()
    let run: RunRef | undefined
    try {
      const before = new Set((await dispatchedRuns(gh, repo, workflow, cfg.ref)).map((r) => r.id))
      const res = await gh.request(
        'POST /repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches',
        {
          owner: repo.owner,
          repo: repo.repo,
          workflow_id: workflow,
          ref: cfg.ref,
          inputs: workflowInputs(cfg.inputs),
          return_run_details: true
        }
      )
      const details = (res as { data?: unknown }).data as
        { workflow_run_id?: unknown; html_url?: unknown } | undefined
      if (typeof details?.workflow_run_id === 'number')
        run = {
          id: details.workflow_run_id,
          url: typeof details.html_url === 'string' ? details.html_url : undefined
        }
      else
        run = await findDispatchedRun(
          gh,
          repo,
          workflow,
          cfg.ref,
          before,
          startedAt + (cfg.timeout ?? 60) * 1000,
          ctx.signal
        )
    } catch (err) {
      if (err instanceof WaybillError) throw err
      if (httpStatus(err) === 422) {
        const refusal = dispatchRefusal(err, workflow, cfg.ref, where)
        if (refusal) throw refusal
      }
      throw actionsError(err, {
        step: STEP,
        what,
        repo,
        permission: 'actions: write',
        notFoundField: 'workflowFile'
      })
    }
    if (!run)
      throw new ConfigFieldError(
        `${STEP}.timeout`,
        `workflow ${workflow} in ${where} was dispatched on '${cfg.ref}' but no run appeared within ${cfg.timeout ?? 60}s`,
        'raise timeout (at most 300), or check the workflow is enabled in the Actions tab'
      )
    ctx.logger.info(`Dispatched ${workflow} in ${where} on '${cfg.ref}': run ${run.id}`)
    return {
      status: 'Succeeded',
      outputs: { runID: run.id, ...(run.url ? { runURL: run.url } : {}) }
    }
  }
})
