import fs from 'node:fs'
import path from 'node:path'
import { messageChannelLookup } from '../config/model.js'
import { runPromotion, type PromotionRunResult } from '../promotion/engine.js'
import { cloneJson } from '../state/draft.js'
import type { Promotion, State } from '../state/types.js'
import { errorMessage } from '../util/errors.js'
import type { Logger } from '../util/logger.js'
import { applyPromotionResult } from './promotions.js'
import type { PipelineContext } from './reconcile.js'
import { queueRollback } from './rollback.js'

/** The group a promotion's log lines are printed under. */
export function promotionGroupName(state: State, promotion: Promotion): string {
  return `promote ${state.freight[promotion.freight]?.alias ?? promotion.freight} → ${promotion.stage}`
}

/**
 * Runs (or resumes) the steps of a promotion this run has claimed, against the state as it was
 * claimed, in a working directory of its own that is removed afterwards. A step's error becomes
 * an Errored result; only the start hook's can throw.
 */
export async function executeClaimed(
  ctx: PipelineContext,
  promotion: Promotion,
  snapshot: State,
  logger: Logger
): Promise<PromotionRunResult> {
  if (promotion.stepExecutionMetadata.length === 0) await ctx.onPromotion?.(promotion, snapshot)
  const workRoot = path.join(ctx.workRoot, promotion.name)
  try {
    fs.mkdirSync(workRoot, { recursive: true, mode: 0o700 })
    const stage = ctx.model.stages.get(promotion.stage)
    return await runPromotion(promotion, {
      state: snapshot,
      project: ctx.project,
      stageVars: stage?.spec.vars ?? [],
      services: ctx.services,
      logger,
      workRoot,
      now: ctx.now,
      waitMs: ctx.waitMs,
      messageChannel: messageChannelLookup(ctx.model)
    })
  } catch (err) {
    const now = ctx.now().toISOString()
    return {
      promotion: { ...promotion, phase: 'Errored', message: errorMessage(err), finishedAt: now },
      effects: [],
      healthChecks: []
    }
  } finally {
    fs.rmSync(workRoot, { recursive: true, force: true })
    removeIfEmpty(ctx.workRoot)
  }
}

/** The run's work root once no promotion uses it (another one running keeps it: ENOTEMPTY). */
function removeIfEmpty(dir: string): void {
  try {
    fs.rmdirSync(dir)
  } catch {
    // in use by a promotion still running, or already gone
  }
}

/**
 * How recording a result went: recorded, or not because the state no longer lets this run
 * record it (aborted or taken over while it ran: `live` is what the state says; vanished).
 */
export type RecordOutcome =
  | { kind: 'recorded'; message: string }
  | { kind: 'taken'; live: Promotion }
  | { kind: 'vanished' }

/** Records a result in the draft when this run still holds the promotion's lease (part of a mutator). */
export function recordResult(
  ctx: PipelineContext,
  draft: State,
  result: PromotionRunResult
): RecordOutcome {
  const live = draft.promotions[result.promotion.name]
  if (!live) return { kind: 'vanished' }
  if (live.lease?.holder !== ctx.runId) return { kind: 'taken', live: cloneJson(live) }
  applyPromotionResult(draft, ctx.model, result, ctx.now())
  const p = result.promotion
  return {
    kind: 'recorded',
    message: `promotion: ${p.name} ${p.phase.toLowerCase()}${p.message ? ` (${p.message.split('\n')[0].slice(0, 120)})` : ''}`
  }
}

/**
 * After a result was written (or could not be): logs it, runs the promotion hooks (Deployments,
 * commit statuses, pull-request clean-up) and queues a rollback when it failed. Returns the
 * promotion as this run reports it.
 */
export async function reportResult(
  ctx: PipelineContext,
  result: PromotionRunResult,
  outcome: RecordOutcome,
  state: State
): Promise<Promotion> {
  if (outcome.kind === 'taken') {
    const live = outcome.live
    ctx.logger.warn(
      `${live.name} is ${live.phase} in the state: aborted or taken over by another run while this one ran (this run's result, ${result.promotion.phase}, was not recorded)`
    )
    return live
  }
  if (outcome.kind === 'vanished') {
    const vanished = vanishedOutcome(result.promotion)
    ctx.logger.error(`✘ ${vanished.name} ${vanished.phase}: ${vanished.message}`)
    return vanished
  }
  const p = result.promotion
  if (p.phase !== 'Running') await ctx.onPromotion?.(p, state)
  if (p.phase === 'Succeeded') ctx.logger.info(`✔ ${p.name} succeeded`)
  else if (p.phase === 'Running') ctx.logger.info(`… ${p.name} waiting: ${p.message ?? ''}`)
  else ctx.logger.error(`✘ ${p.name} ${p.phase}: ${p.message ?? ''}`)
  if (p.phase === 'Failed' || p.phase === 'Errored')
    await queueRollback(ctx, p.stage, {
      on: 'promotion',
      promotion: p.name,
      phase: p.phase,
      message: p.message
    })
  return p
}

/**
 * A promotion whose record vanished from the state while this run executed it: the steps ran,
 * possibly deployed, and nothing records it, so it is reported as an error, never a success.
 */
function vanishedOutcome(result: Promotion): Promotion {
  return {
    ...result,
    phase: 'Errored',
    message: `its record vanished from the state while this run executed it (the steps ended ${result.phase}${result.message ? `: ${result.message}` : ''}); the result was not recorded: check the stage and promote again`
  }
}
