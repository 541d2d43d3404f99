import { defineCommand } from './define.js'
import { reconcileCommand } from './reconcile.js'
import { openPipeline, requireStage } from '../pipeline/context.js'
import { nextPromotion } from '../pipeline/promotions.js'
import type { InflatedStep } from '../promotion/tasks.js'
import type { Promotion, State, StepResponse } from '../state/types.js'
import { inputProblems } from '../steps/approval/responses.js'
import { UsageError, WaybillError } from '../util/errors.js'
import { redact } from '../util/logger.js'

/** The steps a response answers, by the kind of response. */
const ANSWERS: Record<StepResponse['action'], string> = {
  approve: 'wait-for-approval',
  reject: 'wait-for-approval',
  input: 'get-user-input'
}

const MAX_INPUT = 64 * 1024

interface WaitingStep {
  alias: string
  step: InflatedStep
}

/** The step of `p` waiting for this kind of response: `--step`, else the running one. */
function waitingStep(p: Promotion, uses: string, alias: string | undefined): WaitingStep {
  const steps = p.steps as InflatedStep[]
  const all = steps.map((step, i) => ({
    alias: p.stepExecutionMetadata[i]?.alias ?? step.as ?? `step-${i + 1}`,
    step,
    status: p.stepExecutionMetadata[i]?.status
  }))
  const found = alias
    ? all.find((s) => s.alias === alias)
    : all.find((s) => s.status === 'Running' && s.step.uses === uses)
  if (!found)
    throw new WaybillError(
      alias
        ? `promotion ${p.name} has no step '${alias}'`
        : `promotion ${p.name} is not waiting on a ${uses} step`,
      `its steps: ${all.map((s) => `${s.alias} (${s.step.uses}${s.status ? `, ${s.status}` : ''})`).join(', ')}`
    )
  if (found.step.uses !== uses)
    throw new UsageError(
      `step '${found.alias}' of ${p.name} is a ${found.step.uses} step: this response answers ${uses}`
    )
  if (found.status !== 'Running')
    throw new WaybillError(
      `step '${found.alias}' of ${p.name} is not waiting (${found.status ?? 'not started'})`
    )
  return found
}

function parseInput(raw: string): Record<string, unknown> {
  if (raw.length > MAX_INPUT) throw new UsageError(`--input is longer than ${MAX_INPUT} characters`)
  let v: unknown
  try {
    v = JSON.parse(raw)
  } catch (err) {
    throw new UsageError(`--input is not valid JSON: ${(err as Error).message}`)
  }
  if (!v || typeof v !== 'object' || Array.isArray(v))
    throw new UsageError('--input must be a JSON object ({"field": value, …})')
  return v as Record<string, unknown>
}

/** Validates input early when the step's schema is literal (no expressions to evaluate first). */
function checkInputNow(step: InflatedStep, values: Record<string, unknown>): void {
  const schema = step.config?.schema
  if (!schema || typeof schema !== 'object' || JSON.stringify(schema).includes('${{')) return
  let problems: string[]
  try {
    problems = inputProblems(schema as Record<string, unknown>, values)
  } catch {
    return // the step reports a broken schema with its field
  }
  if (problems.length)
    throw new UsageError(
      `the input does not match the schema of step '${step.as ?? step.uses}': ${problems.join('; ')}`,
      `schema: ${JSON.stringify(schema)}`
    )
}

/** Drops responses of promotions that no longer exist (pruned by GC). */
function pruneResponses(state: State): void {
  for (const name of Object.keys(state.responses ?? {}))
    if (!state.promotions[name]) delete state.responses![name]
}

export const respondCommand = defineCommand({
  name: 'respond',
  description:
    "Answer a promotion's wait-for-approval (--approve/--reject) or get-user-input (--input) step, then resume it",
  flags: {
    stage: { type: 'string', description: 'Stage whose running promotion waits (required)' },
    promotion: { type: 'string', description: 'Promotion name (default: the stage’s running one)' },
    step: { type: 'string', description: 'Alias of the waiting step (default: the running one)' },
    approve: { type: 'boolean', description: 'Approve (wait-for-approval)' },
    reject: { type: 'boolean', description: 'Reject: fails the step and the promotion' },
    input: { type: 'string', description: 'Values for get-user-input: a JSON object' },
    message: { type: 'string', description: 'A note kept with the response' },
    response: {
      type: 'string',
      description:
        'The action input: approve, reject, or a JSON object of values (same as --approve, --reject, --input)'
    }
  },
  async run(ctx, args) {
    const stageName = args.stage
    if (!stageName) throw new UsageError('--stage is required')
    const response = args.response?.trim()
    const input = args.input ?? (response?.startsWith('{') ? response : undefined)
    if (response && !input && response !== 'approve' && response !== 'reject')
      throw new UsageError(
        `response must be approve, reject or a JSON object of values, not '${response.slice(0, 40)}'`
      )
    const kinds = [
      (args.approve || response === 'approve') && 'approve',
      (args.reject || response === 'reject') && 'reject',
      input && 'input'
    ]
    const chosen = kinds.filter((k): k is StepResponse['action'] => !!k)
    if (chosen.length !== 1)
      throw new UsageError('give exactly one of --approve, --reject or --input')
    const action = chosen[0]
    if (!ctx.actor)
      throw new UsageError(
        'respond needs to know who responds',
        'the action uses GITHUB_ACTOR; the CLI the local user'
      )
    const values = input ? parseInput(input) : undefined
    const pipeline = await openPipeline(ctx)
    requireStage(pipeline.model, stageName)
    const repositoryURL = pipeline.repository
      ? `${ctx.services.github.serverUrl.replace(/\/+$/, '')}/${pipeline.repository}`
      : undefined
    let target = ''
    let alias = ''
    await pipeline.store.update((draft) => {
      const p = args.promotion ? draft.promotions[args.promotion] : nextPromotion(draft, stageName)
      if (!p || p.stage !== stageName)
        throw new WaybillError(
          args.promotion
            ? `stage '${stageName}' has no promotion ${args.promotion}`
            : `stage '${stageName}' has no running promotion`
        )
      const w = waitingStep(p, ANSWERS[action], args.step)
      if (values) checkInputNow(w.step, values)
      target = p.name
      alias = w.alias
      const at = ctx.now().toISOString()
      const message = args.message ? redact(args.message).slice(0, 1000) : undefined
      const response: StepResponse = {
        actor: ctx.actor!,
        at,
        action,
        ...(message ? { message } : {}),
        ...(values ? { values } : {}),
        ...(repositoryURL ? { repositoryURL } : {}),
        ...(ctx.runURL ? { runURL: ctx.runURL } : {})
      }
      pruneResponses(draft)
      draft.responses ??= {}
      const byStep = (draft.responses[p.name] ??= {})
      byStep[alias] = [...(byStep[alias] ?? []), response]
      draft.audit.push({
        at,
        actor: ctx.actor,
        action: `respond-${action}`,
        stage: stageName,
        freight: p.freight,
        promotion: p.name,
        runURL: ctx.runURL,
        message: `step ${alias}${message ? `: ${message}` : ''}`
      })
      return `respond: ${action} on ${p.name} step ${alias} by ${ctx.actor}`
    })
    if (!ctx.json) ctx.print(`recorded ${action} by ${ctx.actor} on ${target} (step ${alias})`)
    // Resume the promotion now: the step reads the response from the state.
    const resumed = await reconcileCommand.run(ctx, { stage: [stageName], 'no-discover': true })
    return {
      ...resumed,
      // A rejection fails the promotion: that is the answer given, not a failed run.
      exitCode: action === 'reject' ? 0 : resumed.exitCode,
      outputs: {
        ...resumed.outputs,
        response: JSON.stringify({ promotion: target, step: alias, action, actor: ctx.actor })
      }
    }
  }
})
