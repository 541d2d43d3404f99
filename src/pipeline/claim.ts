import type { Promotion, State } from '../state/types.js'
import { cloneJson } from '../state/draft.js'
import { frozenText, runSchedule } from './gates.js'
import { autoPromotionEnabled } from './policies.js'
import {
  applyPromotionResult,
  bindToConfig,
  claimPromotion,
  nextPromotion,
  promotionCollection
} from './promotions.js'
import type { PipelineContext, RefusedPromotion } from './reconcile.js'

/**
 * Why this run may not run promotions of a stage, or undefined when it may. A stage that does not
 * auto-promote is promoted only by a run asked to promote it (the environment-gated `promote`
 * job): a Pending or Running promotion found in the state (which anyone who can push the state
 * branch can write) must not reach it from the scheduled reconcile, past the environment's
 * required reviewers.
 */
export function promotionRunRefusal(
  ctx: PipelineContext,
  stageName: string,
  promotion?: Promotion
): string | undefined {
  if (autoPromotionEnabled(ctx.model, stageName) || ctx.promoteStages?.has(stageName))
    return undefined
  // A promotion that a promote run started (past the environment's reviewers) and that now waits
  // (a pull request, Argo CD health) is resumed by whichever run comes next: the schedule, or the
  // delete event of its merged branch. Its steps are still the reviewed config's (bindToConfig).
  if (promotion?.phase === 'Running' && promotion.startedBy?.command === 'promote') return undefined
  return `stage ${stageName} does not auto-promote: its promotions run only in a run asked to promote it (waybill promote --stage ${stageName}, the environment-gated job), never in reconcile`
}

/** What taking a stage's next promotion did to the draft. */
export type ClaimOutcome =
  | { kind: 'none' }
  | { kind: 'refused'; refused: RefusedPromotion }
  /** Its steps no longer match the config: recorded Errored without running. */
  | { kind: 'stopped'; promotion: Promotion; message: string }
  /** Leased to this run and Running: its steps are this run's to execute. */
  | { kind: 'claimed'; promotion: Promotion; message: string }

/**
 * Takes the next promotion of a stage for this run, in the draft: leases it, records who runs it
 * (and the audit entries), binds it to the loaded config's steps and, when it starts, fixes the
 * freight collection it deploys. Part of a state mutator: pure apart from the draft.
 */
export function claimNext(ctx: PipelineContext, draft: State, stageName: string): ClaimOutcome {
  const next = nextPromotion(draft, stageName)
  if (!next) return { kind: 'none' }
  const refusal = promotionRunRefusal(ctx, stageName, next)
  if (refusal)
    return { kind: 'refused', refused: { promotion: next.name, stage: stageName, reason: refusal } }
  const starting = next.phase === 'Pending'
  // Windows gate starting a promotion; one already running (waiting on a PR, health) goes on.
  const schedule = starting ? runSchedule(ctx, stageName) : undefined
  if (schedule && !schedule.open && !next.windowOverride)
    return {
      kind: 'refused',
      refused: { promotion: next.name, stage: stageName, reason: frozenText(schedule), frozen: true }
    }
  if (!claimPromotion(draft, next.name, ctx.runId, ctx.now(), ctx.leaseMs)) return { kind: 'none' }
  const live = draft.promotions[next.name]
  const now = ctx.now()
  const command = ctx.promoteStages?.has(stageName) ? 'promote' : 'reconcile'
  live.executedBy = {
    runId: ctx.runId,
    runURL: ctx.runURL,
    actor: ctx.actor,
    command,
    at: now.toISOString()
  }
  if (starting) live.startedBy = { ...live.executedBy }
  const mismatch = bindToConfig(live, ctx.model, starting)
  if (mismatch) {
    const errored: Promotion = {
      ...cloneJson(live),
      phase: 'Errored',
      message: `not run: ${mismatch}`,
      finishedAt: now.toISOString()
    }
    applyPromotionResult(draft, ctx.model, { promotion: errored, effects: [], healthChecks: [] }, now)
    return {
      kind: 'stopped',
      promotion: errored,
      message: `promotion: ${next.name} errored (steps do not match the config)`
    }
  }
  const runEntry = (message: string) =>
    draft.audit.push({
      at: now.toISOString(),
      actor: ctx.actor,
      action: 'run',
      stage: stageName,
      freight: live.freight,
      promotion: live.name,
      runURL: ctx.runURL,
      message
    })
  if (!starting && live.executedBy.runId !== live.startedBy?.runId)
    runEntry(`resumed by ${command} run ${ctx.runId}`)
  if (schedule && !schedule.open && live.windowOverride)
    draft.audit.push({
      at: now.toISOString(),
      actor: live.windowOverride.actor,
      action: 'override-windows',
      stage: stageName,
      freight: live.freight,
      promotion: live.name,
      runURL: live.windowOverride.runURL,
      message: `started while ${schedule.reason ?? 'the promotion windows were closed'}: windows overridden by ${live.windowOverride.actor ?? 'unknown'} (run ${live.windowOverride.runURL ?? ctx.runId})`
    })
  if (starting) runEntry(`started by ${command} run ${ctx.runId}`)
  const freight = draft.freight[next.freight]
  // Promotions queued together (one per origin) each see what the previous one deployed.
  if (starting && freight)
    live.freightCollection = promotionCollection(draft, ctx.model, stageName, freight, now)
  return {
    kind: 'claimed',
    promotion: cloneJson(live),
    message: `promotion: ${next.name} running`
  }
}

/** Extends this run's leases on promotions it holds and has not finished (part of a mutator). */
export function renewLeases(ctx: PipelineContext, draft: State, names: Iterable<string>): void {
  const expiresAt = new Date(ctx.now().getTime() + ctx.leaseMs).toISOString()
  for (const name of names) {
    const p = draft.promotions[name]
    if (p?.lease?.holder === ctx.runId && p.lease.expiresAt < expiresAt) p.lease.expiresAt = expiresAt
  }
}
