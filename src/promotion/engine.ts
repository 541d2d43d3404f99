import fs from 'node:fs'
import path from 'node:path'
import type { Freight } from '../freight/types.js'
import type { Services } from '../runtime/services.js'
import type {
  HealthCheck,
  Promotion,
  PromotionPhase,
  State,
  StepExecutionMetadata,
  StepStatus
} from '../state/types.js'
import { isTerminalPhase } from '../state/types.js'
import { errorMessage } from '../util/errors.js'
import { redact, redactValue, type Logger } from '../util/logger.js'
import type { ExprEnv, ExprFunction } from '../expressions/index.js'
import { formatDurationShort, parseDuration } from '../util/duration.js'
import { sleep as defaultSleep } from '../util/sleep.js'
import {
  buildEnv,
  ctxVariable,
  evaluateCondition,
  evaluateStepConfig,
  evaluateVars,
  promotionFunctions,
  type PromotionExprContext
} from './evaluate-config.js'
import { stepRegistry } from '../steps/registry.js'
import { unknownStepMessage } from '../steps/names.js'
import { grantCapabilities } from '../steps/capabilities.js'
import type { InflatedStep, StepVar } from './tasks.js'
import type { AnyStepDefinition, StepContext, StepEffect, StepResult } from '../steps/types.js'
import type { MessageChannelLookup } from '../steps/messaging/channel.js'

export interface PromotionRunOptions {
  state: State
  project: string
  stageVars?: StepVar[]
  services: Services
  logger: Logger
  /** A directory for this promotion; the engine makes a fresh working directory inside it. */
  workRoot: string
  now: () => Date
  /** How long this run may poll a waiting step in place (0 = save as Running and return). */
  waitMs: number
  signal?: AbortSignal
  /** Step registry override (tests). */
  steps?: ReadonlyMap<string, AnyStepDefinition>
  /** Delay between in-place retries of an Errored step (default 1s × attempt, capped at 10s). */
  retryDelayMs?: (attempt: number) => number
  /** Sleep used for polling and retries (tests may replace it). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
  /** The config's message channels, for send-message. */
  messageChannel?: MessageChannelLookup
}

export interface PromotionRunResult {
  /** An updated copy of the promotion. */
  promotion: Promotion
  /** State changes requested by steps in this run (set-metadata, set-freight-alias). */
  effects: StepEffect[]
  /** Health checks registered by the promotion's steps so far (argocd-update). */
  healthChecks: HealthCheck[]
}

/** Default poll interval for a Running step that suggests none; Kargo's floor is 10s. */
export const DEFAULT_POLL_INTERVAL_MS = 30_000
export const MIN_POLL_INTERVAL_MS = 1_000

const FAILING: ReadonlySet<StepStatus | undefined> = new Set(['Failed', 'Errored', 'Aborted'])

/** The alias of step i: `as`, else `step-<i+1>` (Kargo's GetAlias over the inflated list). */
export function stepAlias(step: InflatedStep, i: number): string {
  return step.as || `step-${i + 1}`
}

/**
 * Runs (or resumes) a promotion: steps in order from currentStep, Kargo semantics for `if`,
 * continueOnError, retry.errorThreshold and retry.timeout. A step that returns Running either is
 * polled in place (bounded by waitMs) or leaves the promotion Running for a later run, with its
 * outputs and timings saved in the promotion.
 *
 * Phases: resolve the freight, evaluate the promotion's vars, prepare the working directory, then
 * per step decide (`if`), resolve it in the registry, run it with retry/timeout and record the
 * outcome; finally the worst counted status becomes the promotion's phase.
 */
export async function runPromotion(
  input: Promotion,
  opts: PromotionRunOptions
): Promise<PromotionRunResult> {
  const run = startRun(input, opts)
  const { promotion } = run
  if (isTerminalPhase(promotion.phase)) return runResult(run)
  if (opts.signal?.aborted) return finishRun(run, 'Aborted', 'aborted')
  beginRun(run)

  const corrupt = corruptProgress(promotion)
  if (corrupt) return finishRun(run, 'Errored', corrupt)
  const freight = resolveFreight(promotion, opts.state)
  if ('error' in freight) return finishRun(run, 'Errored', freight.error)
  const exprCtx: PromotionExprContext = {
    project: opts.project,
    stage: promotion.stage,
    promotion: promotion.name,
    actor: promotion.actor,
    targetFreight: freight.target,
    freight: freight.collection,
    state: opts.state,
    secrets: opts.services.secrets
  }
  let baseVars: Record<string, unknown>
  try {
    baseVars = evaluatePromotionVars(exprCtx, opts.stageVars, promotion.vars)
  } catch (err) {
    return finishRun(run, 'Errored', errorMessage(err))
  }
  const workDir = prepareWorkDir(opts.workRoot)

  const steps = promotion.steps as InflatedStep[]
  for (let i = promotion.currentStep ?? 0; i < steps.length; i++) {
    const outcome = await runStepAt(run, { steps, index: i, exprCtx, baseVars, workDir })
    const alias = stepAlias(steps[i], i)
    if (outcome === 'aborted') return finishRun(run, 'Aborted', `aborted at step '${alias}'`)
    if (outcome === 'waiting') {
      const m = promotion.stepExecutionMetadata[i]
      promotion.phase = 'Running'
      promotion.message = `waiting on ${alias}${m.message ? `: ${m.message}` : ''}`
      return runResult(run)
    }
  }

  promotion.currentStep = steps.length
  const { phase, message } = overallOutcome(promotion.stepExecutionMetadata)
  return finishRun(run, phase, message)
}

/**
 * Why a stored promotion's progress cannot be resumed, or undefined: currentStep must be a step
 * index (or the end) and every step before it must have been recorded, else steps would be
 * skipped and the promotion reported Succeeded with nothing run.
 */
function corruptProgress(p: Promotion): string | undefined {
  const n = p.steps.length
  const at = p.currentStep ?? 0
  const bad = (why: string) => `corrupt promotion record: currentStep ${at} ${why}`
  if (!Number.isInteger(at) || at < 0 || at > n) return bad(`is not a step of its ${n} steps`)
  for (let i = 0; i < at; i++)
    if (!p.stepExecutionMetadata[i]) return bad(`but step ${i + 1} never ran`)
  return undefined
}

// ---------------------------------------------------------------- the run

/** One run of one promotion: the working copy and what its steps handed back. */
export interface PromotionRunState {
  promotion: Promotion
  effects: StepEffect[]
  healthChecks: HealthCheck[]
  opts: PromotionRunOptions
  /** When this run started (its waitMs budget counts from here). */
  startedMs: number
  /** Time spent sleeping in this run (a frozen test clock still ends the wait). */
  slept: number
  iso: () => string
}

/** A working copy of the promotion and the run's bookkeeping. */
export function startRun(input: Promotion, opts: PromotionRunOptions): PromotionRunState {
  const promotion: Promotion = structuredClone(input)
  return {
    promotion,
    effects: [],
    healthChecks: [...(promotion.healthChecks ?? [])],
    opts,
    startedMs: opts.now().getTime(),
    slept: 0,
    iso: () => opts.now().toISOString()
  }
}

function beginRun(run: PromotionRunState): void {
  const { promotion } = run
  promotion.state = promotion.state ?? {}
  promotion.phase = 'Running'
  promotion.startedAt = promotion.startedAt ?? run.iso()
  promotion.message = undefined
}

/** The result of a run; persisted text is redacted. */
export function runResult(run: PromotionRunState): PromotionRunResult {
  const { promotion } = run
  promotion.healthChecks = run.healthChecks.length ? run.healthChecks : undefined
  if (promotion.message) promotion.message = redact(promotion.message)
  // Step outputs are persisted in the state: a secret a step handed out (an echoed header, a
  // yaml-update commitMessage holding a secret() value) is masked there. Later steps of this
  // run already read the values they need.
  if (promotion.state) promotion.state = redactValue(promotion.state)
  return { promotion, effects: run.effects, healthChecks: run.healthChecks }
}

function finishRun(
  run: PromotionRunState,
  phase: PromotionPhase,
  message?: string
): PromotionRunResult {
  run.promotion.phase = phase
  run.promotion.message = message
  run.promotion.finishedAt = run.iso()
  return runResult(run)
}

/** The target freight and the collection being deployed (target first when not in it). */
export function resolveFreight(
  promotion: Promotion,
  state: State
): { target: Freight; collection: Freight[] } | { error: string } {
  const target = state.freight[promotion.freight]
  if (!target) return { error: `freight '${promotion.freight}' is not in the state` }
  const collection: Freight[] = []
  for (const ref of Object.values(promotion.freightCollection?.items ?? {})) {
    const f = state.freight[ref.name]
    if (!f) return { error: `freight '${ref.name}' of the collection is not in the state` }
    collection.push(f)
  }
  if (!collection.some((f) => f.name === target.name)) collection.unshift(target)
  return { target, collection }
}

/** Promotion-level vars: Stage < template (ctx and earlier vars only). */
export function evaluatePromotionVars(
  exprCtx: PromotionExprContext,
  stageVars: readonly StepVar[] = [],
  promotionVars: readonly StepVar[] = []
): Record<string, unknown> {
  const functions = promotionFunctions(exprCtx)
  return evaluateVars(
    [...stageVars, ...promotionVars],
    {},
    (vars) => buildEnv({ ctx: ctxVariable(exprCtx), vars, functions }),
    'promotion'
  )
}

/** A fresh working directory for this run inside workRoot. */
export function prepareWorkDir(workRoot: string): string {
  fs.mkdirSync(workRoot, { recursive: true })
  return fs.mkdtempSync(path.join(workRoot, 'work-'))
}

/** The promotion's phase once every step ran: the worst status among steps that count. */
export function overallOutcome(meta: ReadonlyArray<StepExecutionMetadata | undefined>): {
  phase: PromotionPhase
  message?: string
} {
  let phase: PromotionPhase = 'Succeeded'
  let message: string | undefined
  for (const m of meta) {
    if (!m || m.continueOnError || !FAILING.has(m.status)) continue
    if (m.status === 'Errored' && phase !== 'Errored') {
      phase = 'Errored'
      message = m.message
    } else if (m.status === 'Failed' && phase === 'Succeeded') {
      phase = 'Failed'
      message = m.message
    }
  }
  return { phase, message }
}

// ---------------------------------------------------------------- one step

interface StepSlot {
  steps: InflatedStep[]
  index: number
  exprCtx: PromotionExprContext
  baseVars: Record<string, unknown>
  workDir: string
}

type StepOutcomeKind = 'done' | 'waiting' | 'aborted'

/** Decides, resolves, runs and records step `index`. */
async function runStepAt(run: PromotionRunState, slot: StepSlot): Promise<StepOutcomeKind> {
  const { promotion, opts } = run
  const { steps, index: i } = slot
  const step = steps[i]
  const alias = stepAlias(step, i)
  const log = opts.logger
  promotion.currentStep = i
  const meta = promotion.stepExecutionMetadata
  const m: StepExecutionMetadata = (meta[i] ??= { alias, errorCount: 0 })
  m.alias = alias
  if (step.continueOnError) m.continueOnError = true

  if (opts.signal?.aborted) {
    m.status = 'Aborted'
    m.finishedAt = run.iso()
    return 'aborted'
  }

  const envFor = stepEnvironment(run, slot)
  const where = `step '${alias}' (${step.uses})`

  // ---- if ----
  let decision: boolean
  try {
    decision = shouldRun(step, slot.baseVars, envFor, where, anyFailed(meta, i))
  } catch (err) {
    setStep(m, 'Errored', `${where}: ${errorMessage(err)}`, run.iso)
    log.error(m.message!)
    return 'done'
  }
  if (!decision) {
    m.status = 'Skipped'
    m.finishedAt = run.iso()
    m.message = undefined
    log.info(`step ${alias} (${step.uses}) skipped`)
    return 'done'
  }

  // ---- the step ----
  const resolved = resolveStep(opts.steps ?? stepRegistry, step.uses)
  if ('error' in resolved) {
    setStep(m, 'Errored', `${where}: ${resolved.error}`, run.iso)
    log.error(m.message!)
    return 'done'
  }
  let policy: RetryPolicy
  try {
    policy = retryPolicy(step, resolved.def)
  } catch (err) {
    setStep(m, 'Errored', `${where}: retry.timeout: ${errorMessage(err)}`, run.iso)
    return 'done'
  }
  return log.group(`step ${alias} (${step.uses})`, () =>
    runWithRetry(run, { ...slot, step, alias, where, m, envFor, def: resolved.def, policy })
  )
}

/** The expression environment for step `index`: outputs, task outputs and status functions. */
function stepEnvironment(
  run: PromotionRunState,
  slot: StepSlot
): (vars: Record<string, unknown>) => ExprEnv {
  const { steps, index: i, exprCtx } = slot
  const step = steps[i]
  const meta = run.promotion.stepExecutionMetadata
  const outputs = run.promotion.state
  const statusOf = (alias: string): string => {
    const j = steps.findIndex((s, idx) => stepAlias(s, idx) === alias)
    if (j < 0) throw new Error(`status: no step with alias '${alias}'`)
    return meta[j]?.status ?? 'Pending'
  }
  const fns: Record<string, ExprFunction> = Object.assign(
    Object.create(null) as Record<string, ExprFunction>,
    promotionFunctions(exprCtx),
    {
      always: () => true,
      success: () => !anyFailed(meta, i),
      failure: () => anyFailed(meta, i),
      status: (a: unknown) => statusOf(String(a))
    }
  )
  return (vars) =>
    buildEnv({
      ctx: ctxVariable(exprCtx, stepAlias(step, i)),
      vars,
      outputs,
      taskOutputs: step.taskAlias ? taskOutputsFor(outputs, step.taskAlias) : undefined,
      functions: fns
    })
}

/** Outputs of the steps of one task, by their alias inside the task. */
export function taskOutputsFor(
  outputs: Record<string, unknown>,
  taskAlias: string
): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  const prefix = `${taskAlias}::`
  for (const [k, v] of Object.entries(outputs)) {
    if (k.startsWith(prefix)) out[k.slice(prefix.length)] = v
  }
  return out
}

/** A step before `upto` failed (and did not continueOnError). */
export function anyFailed(
  meta: ReadonlyArray<StepExecutionMetadata | undefined>,
  upto: number
): boolean {
  for (let j = 0; j < upto; j++) {
    const m = meta[j]
    if (m && FAILING.has(m.status) && !m.continueOnError) return true
  }
  return false
}

/** The step's `if` (default: no earlier step failed), after its vars. */
export function shouldRun(
  step: InflatedStep,
  baseVars: Record<string, unknown>,
  envFor: (vars: Record<string, unknown>) => ExprEnv,
  where: string,
  earlierFailed: boolean
): boolean {
  const vars = evaluateVars(step.vars, baseVars, envFor, where)
  return step.if ? evaluateCondition(step.if, envFor(vars)) : !earlierFailed
}

/** The definition a step `uses`, or why there is none. */
export function resolveStep(
  registry: ReadonlyMap<string, AnyStepDefinition>,
  uses: string
): { def: AnyStepDefinition } | { error: string } {
  const def = registry.get(uses)
  if (def) return { def }
  return { error: unknownStepMessage(uses) ?? `step '${uses}' is not available` }
}

export interface RetryPolicy {
  /** Consecutive Errored attempts before the step is Errored. */
  threshold: number
  /** How long a Running step may keep running (0 = no limit). */
  timeoutMs: number
}

/** retry.errorThreshold / retry.timeout, defaulting to the step's own defaults. */
export function retryPolicy(step: InflatedStep, def: AnyStepDefinition): RetryPolicy {
  const threshold = step.retry?.errorThreshold || def.defaults.errorThreshold || 1
  const timeoutMs = step.retry?.timeout
    ? parseDuration(step.retry.timeout)
    : (def.defaults.timeoutMs ?? 0)
  return { threshold, timeoutMs }
}

interface ResolvedStep extends StepSlot {
  step: InflatedStep
  alias: string
  where: string
  m: StepExecutionMetadata
  envFor: (vars: Record<string, unknown>) => ExprEnv
  def: AnyStepDefinition
  policy: RetryPolicy
}

/** Attempts the step until it is done, waits for a later run, or the run is aborted. */
async function runWithRetry(run: PromotionRunState, s: ResolvedStep): Promise<StepOutcomeKind> {
  const { opts } = run
  const sleep = opts.sleep ?? defaultSleep
  const { m } = s
  for (;;) {
    m.startedAt = m.startedAt ?? run.iso()
    const res = await attemptStep(run, s)
    if (opts.signal?.aborted) return abortStep(run, m)

    if (res.status === 'Succeeded' || res.status === 'Skipped') {
      recordSuccess(run, s, res)
      return 'done'
    }
    if (res.status === 'Running') {
      const next = onRunning(run, s, res)
      if (next.kind !== 'poll') return next.kind
      await sleep(next.pauseMs, opts.signal)
      run.slept += next.pauseMs
      if (opts.signal?.aborted) return abortStep(run, m)
      continue
    }
    const failure = onFailure(run, s, res)
    if (failure.kind === 'retry') {
      await sleep(failure.delayMs, opts.signal)
      continue
    }
    return 'done'
  }
}

function abortStep(run: PromotionRunState, m: StepExecutionMetadata): 'aborted' {
  m.status = 'Aborted'
  m.finishedAt = run.iso()
  return 'aborted'
}

/**
 * One attempt: vars and config are evaluated again (outputs may have changed), the config is
 * parsed with the step's schema and the step runs with only the capabilities it declared. A
 * throw becomes Errored.
 */
export async function attemptStep(run: PromotionRunState, s: ResolvedStep): Promise<StepResult> {
  try {
    const stepVars = evaluateVars(s.step.vars, s.baseVars, s.envFor, s.where)
    const config: unknown = evaluateStepConfig(s.def, s.step.config, s.envFor(stepVars), s.alias)
    return await s.def.run(config, stepContext(run, s))
  } catch (err) {
    return { status: 'Errored', message: errorMessage(err) }
  }
}

/** What the step sees: the promotion, read-only copies of outputs, and its capabilities. */
export function stepContext(
  run: PromotionRunState,
  s: Pick<ResolvedStep, 'alias' | 'def' | 'm' | 'workDir' | 'exprCtx'>
): StepContext<never> {
  const { opts, promotion } = run
  const outputs = promotion.state
  const prev = outputs[s.alias]
  return {
    workDir: s.workDir,
    project: opts.project,
    stage: promotion.stage,
    promotion: promotion.name,
    targetFreight: s.exprCtx.targetFreight,
    freight: s.exprCtx.freight,
    alias: s.alias,
    actor: promotion.actor,
    outputs: structuredClone(outputs),
    previousOutputs:
      prev && typeof prev === 'object' && s.m.status === 'Running'
        ? structuredClone(prev as Record<string, unknown>)
        : undefined,
    state: opts.state,
    logger: opts.logger,
    caps: grantCapabilities(s.def.capabilities, opts.services, {
      logger: opts.logger,
      signal: opts.signal
    }),
    signal: opts.signal,
    gitIdentity: opts.services.gitIdentity,
    messageChannel: opts.messageChannel,
    now: opts.now
  }
}

/** Succeeded/Skipped: outputs (and the task's, for steps that export them), effects, health. */
export function recordSuccess(
  run: PromotionRunState,
  s: Pick<ResolvedStep, 'alias' | 'step' | 'def' | 'm'>,
  res: StepResult
): void {
  const outputs = run.promotion.state
  const { m, alias, step } = s
  if (res.outputs) {
    outputs[alias] = res.outputs
    if (s.def.exportsTaskOutputs && step.taskAlias) {
      const prev = outputs[step.taskAlias]
      outputs[step.taskAlias] = {
        ...(prev && typeof prev === 'object' ? prev : {}),
        ...res.outputs
      }
    }
  }
  // Effects and health checks are persisted in the state: whatever step made them, a registered
  // secret in them is masked here, where they leave the step.
  if (res.effects) run.effects.push(...res.effects.map((e) => redactValue(e)))
  if (res.healthCheck) run.healthChecks.push(redactValue(res.healthCheck))
  m.status = res.status
  m.message = res.message ? redact(res.message) : undefined
  m.finishedAt = run.iso()
  m.errorCount = 0
  run.opts.logger.info(
    `step ${alias} ${res.status.toLowerCase()}${res.message ? `: ${redact(res.message)}` : ''}`
  )
}

/**
 * Running: Errored once past its timeout; polled in place while this run's waitMs lasts;
 * otherwise left Running for a later run.
 */
export function onRunning(
  run: PromotionRunState,
  s: Pick<ResolvedStep, 'alias' | 'where' | 'm' | 'policy'>,
  res: StepResult
): { kind: 'done' | 'waiting' } | { kind: 'poll'; pauseMs: number } {
  const { opts } = run
  const { m, alias, policy } = s
  const now = opts.now().getTime()
  if (res.outputs) run.promotion.state[alias] = res.outputs
  m.status = 'Running'
  m.message = res.message ? redact(res.message) : undefined
  const elapsed = now - Date.parse(m.startedAt!)
  if (policy.timeoutMs > 0 && elapsed >= policy.timeoutMs) {
    setStep(
      m,
      'Errored',
      `${s.where}: timed out after ${formatDurationShort(policy.timeoutMs)}${res.message ? ` (last: ${redact(res.message)})` : ''}`,
      run.iso
    )
    opts.logger.error(m.message!)
    return { kind: 'done' }
  }
  const poll = Math.max(res.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS, MIN_POLL_INTERVAL_MS)
  const waited = Math.max(opts.now().getTime() - run.startedMs, run.slept)
  const remaining = opts.waitMs - waited
  if (opts.waitMs > 0 && remaining > 0) {
    const pauseMs = Math.min(poll, remaining)
    opts.logger.info(
      `waiting on ${alias}${res.message ? `: ${redact(res.message)}` : ''} (checking again in ${formatDurationShort(pauseMs)})`
    )
    return { kind: 'poll', pauseMs }
  }
  return { kind: 'waiting' }
}

/**
 * Failed is terminal (a business failure); Errored is retried in place until
 * retry.errorThreshold consecutive errors.
 */
export function onFailure(
  run: PromotionRunState,
  s: Pick<ResolvedStep, 'alias' | 'where' | 'm' | 'policy' | 'step'>,
  res: StepResult
): { kind: 'done' } | { kind: 'retry'; delayMs: number } {
  const { opts } = run
  const { m, alias, policy } = s
  const text = redact(res.message ?? res.status.toLowerCase())
  const msg = text.startsWith(`step '${alias}' `) ? text : `${s.where}: ${text}`
  if (res.status === 'Errored') {
    m.errorCount++
    if (m.errorCount < policy.threshold) {
      opts.logger.warn(`${msg} (attempt ${m.errorCount} of ${policy.threshold}; retrying)`)
      const delayMs = opts.retryDelayMs
        ? opts.retryDelayMs(m.errorCount)
        : Math.min(1000 * m.errorCount, 10_000)
      return { kind: 'retry', delayMs }
    }
  }
  setStep(m, res.status === 'Failed' ? 'Failed' : 'Errored', msg, run.iso)
  opts.logger.error(msg + (s.step.continueOnError ? ' (continueOnError: continuing)' : ''))
  return { kind: 'done' }
}

function setStep(
  m: StepExecutionMetadata,
  status: StepStatus,
  message: string,
  iso: () => string
): void {
  m.status = status
  m.message = redact(message)
  m.startedAt = m.startedAt ?? iso()
  m.finishedAt = iso()
}
