/**
 * A small model of the GitHub rules that decide whether a workflow run happens at all, so e2e
 * tests can route an event to the workflows GitHub would really start. Each rule cites the GitHub
 * documentation it comes from. It models only what decides Waybill's behaviour:
 *
 * 1. Which commit the workflow files are read from (the default branch, the pushed commit, or a
 *    pull request's merge commit).
 *    https://docs.github.com/en/actions/reference/workflows-and-actions/events-that-trigger-workflows
 *    (the GITHUB_SHA / GITHUB_REF column of each event, and "This event will only trigger a
 *    workflow run if the workflow file exists on the default branch").
 * 2. Events caused by the repository's GITHUB_TOKEN start no new runs, except workflow_dispatch
 *    and repository_dispatch.
 *    https://docs.github.com/en/actions/concepts/security/github_token ("events triggered by the
 *    GITHUB_TOKEN ... will not create a new workflow run")
 * 3. `on:` filters: the event name, activity `types`, `branches`/`branches-ignore` (push: the
 *    pushed branch; pull_request: the base branch).
 *    https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax#onevent_nametypes
 * 4. Job-level `if:` with the github context, evaluated by GitHub's own expression engine
 *    (@actions/expressions).
 *    https://docs.github.com/en/actions/reference/workflows-and-actions/expressions
 * 5. Concurrency: one running or waiting job per group; a job waiting for an environment's
 *    required reviewers has already entered its group and holds it while it waits.
 *    https://docs.github.com/en/actions/how-tos/write-workflows/choose-when-workflows-run/control-workflow-concurrency
 *    https://docs.github.com/en/actions/how-tos/deploy/configure-and-manage-deployments/manage-environments
 *    (required reviewers: "the job will wait for approval")
 */
import picomatch from 'picomatch'
import { parse as parseYaml } from 'yaml'
import { data, Evaluator, Lexer, Parser } from '@actions/expressions'
import { truthy } from '@actions/expressions/result'

export type Actor = 'github-token' | 'user' | 'app'

export interface SimEvent {
  name: string
  payload: Record<string, unknown>
  /** Who caused the event: a push with GITHUB_TOKEN, a person, a GitHub App's token. */
  actor: Actor
}

/** Read access to the repository: workflow files at a ref or commit. */
export interface RepoView {
  defaultBranch: string
  /** `.github/workflows/*.yml` files at a branch (or undefined when the ref does not exist). */
  workflowsAt(ref: string): Record<string, string> | undefined
  /** Workflow files of a pull request's merge commit: the base branch merged with the head. */
  mergeCommitWorkflows(base: string, head: string): Record<string, string> | undefined
}

/** A payload or YAML scalar as text (`if: true` is a boolean); anything else is empty. */
function text(v: unknown): string {
  if (typeof v === 'string') return v
  return typeof v === 'number' || typeof v === 'boolean' ? String(v) : ''
}

/** Where GitHub reads the workflow files from, per event (rule 1). */
export function workflowSource(
  event: SimEvent,
  repo: RepoView
): { kind: 'default' | 'ref' | 'merge'; ref: string; head?: string } {
  const p = event.payload as Record<string, Record<string, unknown>>
  switch (event.name) {
    case 'push': {
      const ref = text(event.payload.ref).replace(/^refs\/heads\//, '')
      return { kind: 'ref', ref }
    }
    case 'pull_request': {
      const base = text((p.pull_request?.base as Record<string, unknown>)?.ref)
      const head = text((p.pull_request?.head as Record<string, unknown>)?.ref)
      return { kind: 'merge', ref: base, head }
    }
    case 'pull_request_target': {
      const base = text((p.pull_request?.base as Record<string, unknown>)?.ref)
      return { kind: 'ref', ref: base }
    }
    default:
      // schedule, delete, repository_dispatch, workflow_dispatch (from the default branch's
      // button), registry_package, status, check_suite, workflow_run: the default branch.
      return { kind: 'default', ref: repo.defaultBranch }
  }
}

function eventFilter(on: unknown, name: string): Record<string, unknown> | null | undefined {
  if (typeof on === 'string') return on === name ? null : undefined
  if (Array.isArray(on)) return on.includes(name) ? null : undefined
  if (on && typeof on === 'object' && name in on)
    return ((on as Record<string, unknown>)[name] ?? null) as Record<string, unknown> | null
  return undefined
}

function branchAllowed(filter: Record<string, unknown> | null, branch: string): boolean {
  if (!filter) return true
  const list = (k: string) => (Array.isArray(filter[k]) ? (filter[k] as string[]) : undefined)
  const include = list('branches')
  const exclude = list('branches-ignore')
  if (include && !include.some((g) => picomatch.isMatch(branch, g))) return false
  if (exclude && exclude.some((g) => picomatch.isMatch(branch, g))) return false
  return true
}

/** Whether the workflow's `on:` accepts the event (rule 3). */
export function onAccepts(workflow: Record<string, unknown>, event: SimEvent): boolean {
  const filter = eventFilter(workflow.on, event.name)
  if (filter === undefined) return false
  const types = filter && Array.isArray(filter.types) ? (filter.types as string[]) : undefined
  const action = event.payload.action
  if (types && typeof action === 'string' && !types.includes(action)) return false
  if (event.name === 'push') {
    const branch = text(event.payload.ref).replace(/^refs\/heads\//, '')
    return branchAllowed(filter, branch)
  }
  if (event.name === 'pull_request' || event.name === 'pull_request_target') {
    const pr = event.payload.pull_request as Record<string, Record<string, unknown>> | undefined
    return branchAllowed(filter, text(pr?.base?.ref))
  }
  return true
}

/** Evaluates a job's `if:` the way GitHub does (rule 4); no `if:` means run. */
export function jobIfAllows(
  job: Record<string, unknown>,
  event: SimEvent,
  inputs: Record<string, unknown> = {}
): boolean {
  const raw = job.if
  if (raw === undefined || raw === null) return true
  const source = text(raw)
    .trim()
    .replace(/^\$\{\{([\s\S]*)\}\}$/, '$1')
  const lexed = new Lexer(source).lex()
  const expr = new Parser(lexed.tokens, ['github', 'inputs'], []).parse()
  const context = JSON.parse(
    JSON.stringify({
      github: {
        event_name: event.name,
        event: event.payload,
        repository: 'acme/gitops',
        ref_type: event.payload.ref_type
      },
      inputs
    }),
    data.reviver
  ) as data.Dictionary
  const result = new Evaluator(expr, context).evaluate()
  return truthy(result)
}

export interface TriggeredRun {
  file: string
  jobs: string[]
}

/** The workflow runs (and their jobs) GitHub would start for an event (rules 1–4). */
export function triggeredRuns(
  repo: RepoView,
  event: SimEvent,
  inputs: Record<string, unknown> = {}
): TriggeredRun[] {
  const tokenExempt = event.name === 'workflow_dispatch' || event.name === 'repository_dispatch'
  if (event.actor === 'github-token' && !tokenExempt) return []
  const src = workflowSource(event, repo)
  const files =
    src.kind === 'merge'
      ? repo.mergeCommitWorkflows(src.ref, src.head ?? '')
      : repo.workflowsAt(src.ref)
  const runs: TriggeredRun[] = []
  for (const [file, content] of Object.entries(files ?? {})) {
    const wf = parseYaml(content) as Record<string, unknown>
    if (!onAccepts(wf, event)) continue
    const jobs = Object.entries((wf.jobs ?? {}) as Record<string, Record<string, unknown>>)
      .filter(([, job]) => jobIfAllows(job, event, inputs))
      .map(([name]) => name)
    if (jobs.length) runs.push({ file, jobs })
  }
  return runs
}

/** A job's concurrency group with `${{ }}` expressions evaluated (rule 5). */
export function concurrencyGroup(
  workflow: Record<string, unknown>,
  jobName: string,
  event: SimEvent,
  inputs: Record<string, unknown> = {}
): string | undefined {
  const job = ((workflow.jobs ?? {}) as Record<string, Record<string, unknown>>)[jobName]
  const raw = (job?.concurrency ?? workflow.concurrency) as string | { group?: string } | undefined
  const group = typeof raw === 'string' ? raw : raw?.group
  if (!group) return undefined
  return group.replace(/\$\{\{([\s\S]*?)\}\}/g, (_m, body: string) => {
    const expr = new Parser(new Lexer(body.trim()).lex().tokens, ['github', 'inputs'], []).parse()
    const context = JSON.parse(
      JSON.stringify({
        github: { repository: 'acme/gitops', event_name: event.name, event: event.payload },
        inputs
      }),
      data.reviver
    ) as data.Dictionary
    return new Evaluator(expr, context).evaluate().coerceString()
  })
}

/**
 * Concurrency groups as GitHub runs them (rule 5): a job enters its group when it starts, or
 * when it starts waiting for an environment's reviewers, and holds it until it ends.
 */
export class ConcurrencyBoard {
  private readonly holders = new Map<string, string>()

  /** Tries to start a job; returns false when another job holds its group (it stays pending). */
  start(group: string | undefined, job: string): boolean {
    if (!group) return true
    const holder = this.holders.get(group)
    if (holder && holder !== job) return false
    this.holders.set(group, job)
    return true
  }

  finish(group: string | undefined, job: string): void {
    if (group && this.holders.get(group) === job) this.holders.delete(group)
  }
}
