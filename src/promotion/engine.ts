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
import { errorMessage } from '../util/errors.js'
import { redact, redactValue, type Logger } from '../util/logger.js'
import { parseGoDuration, type ExprFunction } from '../expressions/index.js'
import {
  buildEnv,
  ctxVariable,
  evaluateCondition,
  evaluateStepConfig,
  evaluateVars,
  promotionFunctions,
  type PromotionExprContext
} from './evaluate-config.js'
import { stepRegistry } from '../steps/index.js'
import { KARGO_OSS_STEPS, unknownStepMessage } from '../steps/names.js'
import type { InflatedStep, StepVar } from './tasks.js'
import type { StepContext, StepDefinition, StepEffect, StepResult } from '../steps/types.js'

export interface PromotionRunOptions {
  state: State
  project: string
  stageVars?: StepVar[]
  services: Services
  logger: Logger
  /** A directory for this promotion; the engine makes a fresh working directory inside it. */
  workRoot: string
  now(): Date
  /** How long this run may poll a waiting step in place (0 = save as Running and return). */
  waitMs: number
  signal?: AbortSignal
  /** Step registry override (tests). */
  steps?: ReadonlyMap<string, StepDefinition<unknown>>
  /** Delay between in-place retries of an Errored step (default 1s × attempt, capped at 10s). */
  retryDelayMs?: (attempt: number) => number
  /** Sleep used for polling and retries (tests may replace it). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
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

const TERMINAL: ReadonlySet<PromotionPhase> = new Set(['Succeeded', 'Failed', 'Errored', 'Aborted'])
const FAILING: ReadonlySet<StepStatus | undefined> = new Set(['Failed', 'Errored', 'Aborted'])

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve()
    const t = setTimeout(done, ms)
    function done(): void {
      clearTimeout(t)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, { once: true })
  })
}

/** The alias of step i: `as`, else `step-<i+1>` (Kargo's GetAlias over the inflated list). */
export function stepAlias(step: InflatedStep, i: number): string {
  return step.as || `step-${i + 1}`
}

/**
 * Runs (or resumes) a promotion: steps in order from currentStep, Kargo semantics for `if`,
 * continueOnError, retry.errorThreshold and retry.timeout. A step that returns Running either is
 * polled in place (bounded by waitMs) or leaves the promotion Running for a later run, with its
 * outputs and timings saved in the promotion.
 */
export async function runPromotion(
  input: Promotion,
  opts: PromotionRunOptions
): Promise<PromotionRunResult> {
  const promotion: Promotion = structuredClone(input)
  const effects: StepEffect[] = []
  const healthChecks: HealthCheck[] = [...(promotion.healthChecks ?? [])]
  const now = () => opts.now()
  const iso = () => now().toISOString()
  const sleep = opts.sleep ?? defaultSleep
  const registry = opts.steps ?? stepRegistry
  const log = opts.logger
  const result = (): PromotionRunResult => {
    promotion.healthChecks = healthChecks.length ? healthChecks : undefined
    if (promotion.message) promotion.message = redact(promotion.message)
    // Step outputs are persisted in the state: a secret a step handed out (an echoed header, a
    // yaml-update commitMessage holding a secret() value) is masked there. Later steps of this
    // run already read the values they need.
    if (promotion.state) promotion.state = redactValue(promotion.state)
    return { promotion, effects, healthChecks }
  }
  const finish = (phase: PromotionPhase, message?: string): PromotionRunResult => {
    promotion.phase = phase
    promotion.message = message
    promotion.finishedAt = iso()
    return result()
  }

  if (TERMINAL.has(promotion.phase)) return result()
  if (opts.signal?.aborted) return finish('Aborted', 'aborted')

  const steps = promotion.steps as InflatedStep[]
  const meta = promotion.stepExecutionMetadata
  promotion.state = promotion.state ?? {}
  const outputs = promotion.state
  const runStarted = now().getTime()
  /** Time spent sleeping in this run (a frozen test clock still ends the wait). */
  let slept = 0
  promotion.phase = 'Running'
  promotion.startedAt = promotion.startedAt ?? iso()
  promotion.message = undefined

  // ---- freight ----
  const target = opts.state.freight[promotion.freight]
  if (!target) return finish('Errored', `freight '${promotion.freight}' is not in the state`)
  const collection: Freight[] = []
  for (const ref of Object.values(promotion.freightCollection?.items ?? {})) {
    const f = opts.state.freight[ref.name]
    if (!f) return finish('Errored', `freight '${ref.name}' of the collection is not in the state`)
    collection.push(f)
  }
  if (!collection.some((f) => f.name === target.name)) collection.unshift(target)

  const exprCtx: PromotionExprContext = {
    project: opts.project,
    stage: promotion.stage,
    promotion: promotion.name,
    actor: promotion.actor,
    targetFreight: target,
    freight: collection,
    state: opts.state,
    secrets: opts.services.secrets
  }
  const freightFns = promotionFunctions(exprCtx)

  // ---- promotion-level vars: Stage < template (ctx and earlier vars only) ----
  let baseVars: Record<string, unknown>
  try {
    baseVars = evaluateVars(
      [...(opts.stageVars ?? []), ...(promotion.vars ?? [])],
      {},
      (vars) => buildEnv({ ctx: ctxVariable(exprCtx), vars, functions: freightFns }),
      'promotion'
    )
  } catch (err) {
    return finish('Errored', errorMessage(err))
  }

  // ---- working directory ----
  fs.mkdirSync(opts.workRoot, { recursive: true })
  const workDir = fs.mkdtempSync(path.join(opts.workRoot, 'work-'))

  const statusOf = (alias: string): string => {
    const i = steps.findIndex((s, idx) => stepAlias(s, idx) === alias)
    if (i < 0) throw new Error(`status: no step with alias '${alias}'`)
    return meta[i]?.status ?? 'Pending'
  }
  /** A step before `upto` failed (and did not continueOnError). */
  const anyFailed = (upto: number): boolean => {
    for (let j = 0; j < upto; j++) {
      const m = meta[j]
      if (m && FAILING.has(m.status) && !m.continueOnError) return true
    }
    return false
  }
  const taskOutputsFor = (taskAlias: string): Record<string, unknown> => {
    const out: Record<string, unknown> = {}
    const prefix = `${taskAlias}::`
    for (const [k, v] of Object.entries(outputs)) {
      if (k.startsWith(prefix)) out[k.slice(prefix.length)] = v
    }
    return out
  }

  for (let i = promotion.currentStep ?? 0; i < steps.length; i++) {
    const step = steps[i]
    const alias = stepAlias(step, i)
    const uses = step.uses
    promotion.currentStep = i
    const m: StepExecutionMetadata = (meta[i] ??= { alias, errorCount: 0 })
    m.alias = alias
    if (step.continueOnError) m.continueOnError = true

    if (opts.signal?.aborted) {
      m.status = 'Aborted'
      m.finishedAt = iso()
      return finish('Aborted', `aborted at step '${alias}'`)
    }

    const fns: Record<string, ExprFunction> = Object.assign(Object.create(null), freightFns, {
      always: () => true,
      success: () => !anyFailed(i),
      failure: () => anyFailed(i),
      status: (a: unknown) => statusOf(String(a))
    })
    const envFor = (vars: Record<string, unknown>) =>
      buildEnv({
        ctx: ctxVariable(exprCtx, alias),
        vars,
        outputs,
        taskOutputs: step.taskAlias ? taskOutputsFor(step.taskAlias) : undefined,
        functions: fns
      })
    const where = `step '${alias}' (${uses})`

    // ---- if ----
    let run: boolean
    let vars: Record<string, unknown>
    try {
      vars = evaluateVars(step.vars, baseVars, envFor, where)
      run = step.if ? evaluateCondition(step.if, envFor(vars)) : !anyFailed(i)
    } catch (err) {
      setStep(m, 'Errored', `${where}: ${errorMessage(err)}`, iso)
      log.error(m.message!)
      continue
    }
    if (!run) {
      m.status = 'Skipped'
      m.finishedAt = iso()
      m.message = undefined
      log.info(`step ${alias} (${uses}) skipped`)
      continue
    }

    // ---- the step ----
    const def = registry.get(uses) as StepDefinition<unknown> | undefined
    if (!def) {
      const msg =
        unknownStepMessage(uses) ??
        ((KARGO_OSS_STEPS as readonly string[]).includes(uses)
          ? `step '${uses}' is not available in this build of Waybill`
          : `step '${uses}' is not available`)
      setStep(m, 'Errored', `${where}: ${msg}`, iso)
      log.error(m.message!)
      continue
    }
    const threshold = step.retry?.errorThreshold || def.defaultErrorThreshold || 1
    let timeoutMs = def.defaultTimeoutMs ?? 0
    if (step.retry?.timeout) {
      try {
        timeoutMs = parseGoDuration(step.retry.timeout)
      } catch (err) {
        setStep(m, 'Errored', `${where}: retry.timeout: ${errorMessage(err)}`, iso)
        continue
      }
    }

    const outcome = await opts.logger.group(`step ${alias} (${uses})`, async () => {
      for (;;) {
        m.startedAt = m.startedAt ?? iso()
        let res: StepResult
        try {
          // Vars and config are evaluated again on every attempt: outputs may have changed.
          const stepVars = evaluateVars(step.vars, baseVars, envFor, where)
          const config = evaluateStepConfig(def, step.config, envFor(stepVars), alias)
          const prev = outputs[alias]
          const stepCtx: StepContext = {
            workDir,
            project: opts.project,
            stage: promotion.stage,
            promotion: promotion.name,
            targetFreight: target,
            freight: collection,
            alias,
            actor: promotion.actor,
            outputs: structuredClone(outputs),
            previousOutputs:
              prev && typeof prev === 'object' && m.status === 'Running'
                ? structuredClone(prev as Record<string, unknown>)
                : undefined,
            state: opts.state,
            logger: log,
            services: opts.services,
            signal: opts.signal,
            now: opts.now
          }
          res = await def.run(config, stepCtx)
        } catch (err) {
          res = { status: 'Errored', message: errorMessage(err) }
        }
        if (opts.signal?.aborted) {
          m.status = 'Aborted'
          m.finishedAt = iso()
          return 'aborted' as const
        }

        if (res.status === 'Succeeded' || res.status === 'Skipped') {
          if (res.outputs) {
            outputs[alias] = res.outputs
            if (uses === 'compose-output' && step.taskAlias) {
              const prev = outputs[step.taskAlias]
              outputs[step.taskAlias] = {
                ...(prev && typeof prev === 'object' ? prev : {}),
                ...res.outputs
              }
            }
          }
          if (res.effects) effects.push(...res.effects)
          if (res.healthCheck) healthChecks.push(res.healthCheck)
          m.status = res.status
          m.message = res.message ? redact(res.message) : undefined
          m.finishedAt = iso()
          m.errorCount = 0
          log.info(
            `step ${alias} ${res.status.toLowerCase()}${res.message ? `: ${redact(res.message)}` : ''}`
          )
          return 'done' as const
        }

        if (res.status === 'Running') {
          if (res.outputs) outputs[alias] = res.outputs
          m.status = 'Running'
          m.message = res.message ? redact(res.message) : undefined
          const elapsed = now().getTime() - Date.parse(m.startedAt)
          if (timeoutMs > 0 && elapsed >= timeoutMs) {
            setStep(
              m,
              'Errored',
              `${where}: timed out after ${formatMs(timeoutMs)}${res.message ? ` (last: ${redact(res.message)})` : ''}`,
              iso
            )
            log.error(m.message!)
            return 'done' as const
          }
          const poll = Math.max(
            res.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS,
            MIN_POLL_INTERVAL_MS
          )
          const waited = Math.max(now().getTime() - runStarted, slept)
          const remaining = opts.waitMs - waited
          if (opts.waitMs > 0 && remaining > 0) {
            const pause = Math.min(poll, remaining)
            log.info(
              `waiting on ${alias}${res.message ? `: ${redact(res.message)}` : ''} (checking again in ${formatMs(pause)})`
            )
            await sleep(pause, opts.signal)
            slept += pause
            if (opts.signal?.aborted) {
              m.status = 'Aborted'
              m.finishedAt = iso()
              return 'aborted' as const
            }
            continue
          }
          return 'waiting' as const
        }

        // Failed or Errored. Failed is terminal (a business failure); Errored is retried in
        // place until retry.errorThreshold consecutive errors.
        const text = redact(res.message ?? res.status.toLowerCase())
        const msg = text.startsWith(`step '${alias}' `) ? text : `${where}: ${text}`
        if (res.status === 'Errored') {
          m.errorCount++
          if (m.errorCount < threshold) {
            log.warn(`${msg} (attempt ${m.errorCount} of ${threshold}; retrying)`)
            const delay = opts.retryDelayMs
              ? opts.retryDelayMs(m.errorCount)
              : Math.min(1000 * m.errorCount, 10_000)
            await sleep(delay, opts.signal)
            continue
          }
        }
        setStep(m, res.status === 'Failed' ? 'Failed' : 'Errored', msg, iso)
        log.error(msg + (step.continueOnError ? ' (continueOnError: continuing)' : ''))
        return 'done' as const
      }
    })

    if (outcome === 'aborted') return finish('Aborted', `aborted at step '${alias}'`)
    if (outcome === 'waiting') {
      promotion.phase = 'Running'
      promotion.message = `waiting on ${alias}${m.message ? `: ${m.message}` : ''}`
      return result()
    }
  }

  // ---- done: the worst status among steps that count ----
  promotion.currentStep = steps.length
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
  return finish(phase, message)
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

function formatMs(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`
  if (ms % 60_000 === 0) return `${ms / 60_000}m`
  if (ms % 1000 === 0) return `${ms / 1000}s`
  return `${ms}ms`
}
