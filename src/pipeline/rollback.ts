/*
 * Auto-rollback (Kargo's promotionPolicies[].autoRollback): when a promotion ends Failed/Errored
 * (onPromotion) or a stage's verification ends Failed/Error (onVerification), a promotion of the
 * stage's last verified freight is queued, once per failed promotion. A rollback is never rolled
 * back (no loops), holds auto-promotion of its origin (so the freight that failed is not promoted
 * again by itself), and is gated by promotion windows like every promotion.
 */
import type { ProjectModel } from '../config/index.js'
import type { Freight } from '../freight/types.js'
import type { Promotion, State } from '../state/types.js'
import type { StateStore } from '../state/store.js'
import type { Logger } from '../util/logger.js'
import { stagePolicy } from './policies.js'
import { createPromotion } from './promotions.js'

export type RollbackTrigger =
  | { on: 'promotion'; promotion: string; phase: string; message?: string }
  | { on: 'verification'; promotion: string; phase: string; message?: string }

/** Whether the stage's policy rolls back on this outcome. */
export function rollsBackOn(model: ProjectModel, stageName: string, t: RollbackTrigger): boolean {
  const rb = stagePolicy(model, stageName)?.autoRollback
  const phases = t.on === 'promotion' ? rb?.onPromotion : rb?.onVerification
  return Boolean(phases?.includes(t.phase))
}

/**
 * The freight a rollback of `failed` promotes: of the same origin, verified in the stage, not the
 * failed freight, most recently verified there.
 */
export function lastVerifiedFreight(state: State, failed: Promotion): Freight | undefined {
  const origin = state.freight[failed.freight]?.origin
  let best: Freight | undefined
  let bestAt = ''
  for (const f of Object.values(state.freight)) {
    if (f.name === failed.freight) continue
    if (origin && (f.origin.kind !== origin.kind || f.origin.name !== origin.name)) continue
    const at = f.status.verifiedIn[failed.stage]?.verifiedAt
    if (at && at > bestAt) [best, bestAt] = [f, at]
  }
  return best
}

/** Why no rollback is queued for this trigger, or undefined when one should be. */
function skipReason(draft: State, t: RollbackTrigger): string | undefined {
  const failed = draft.promotions[t.promotion]
  if (!failed) return `promotion ${t.promotion} is not in the state`
  if (failed.rollbackOf) return `${failed.name} is itself a rollback (never rolled back)`
  const done = Object.values(draft.promotions).find((p) => p.rollbackOf === failed.name)
  if (done) return `already rolled back by ${done.name}`
  return undefined
}

/** Queues the rollback a failed promotion or verification calls for; returns it, if any. */
export async function queueRollback(
  run: { model: ProjectModel; store: StateStore; logger: Logger; now: () => Date; runURL?: string },
  stageName: string,
  t: RollbackTrigger
): Promise<Promotion | undefined> {
  if (!rollsBackOn(run.model, stageName, t)) return undefined
  let created: Promotion | undefined
  let skipped: string | undefined
  await run.store.update((draft) => {
    created = skipped = undefined
    skipped = skipReason(draft, t)
    if (skipped) return undefined
    const failed = draft.promotions[t.promotion]
    const target = lastVerifiedFreight(draft, failed)
    if (!target) {
      skipped = `no freight was verified in ${stageName} before`
      return undefined
    }
    const now = run.now()
    const why = `${t.on} ${t.phase}${t.message ? `: ${t.message.split('\n')[0].slice(0, 200)}` : ''}`
    const reason = `rollback of ${failed.name}: ${why}`
    const p = createPromotion(draft, run.model, {
      stage: stageName,
      freight: target,
      actor: 'auto-rollback',
      runURL: run.runURL,
      auto: true,
      hold: true,
      now
    })
    p.rollbackOf = failed.name
    p.reason = reason
    draft.audit.push({
      at: now.toISOString(),
      actor: 'auto-rollback',
      action: 'rollback',
      stage: stageName,
      freight: target.name,
      promotion: p.name,
      runURL: run.runURL,
      message: reason
    })
    created = p
    return `rollback: ${target.alias} → ${stageName} (${reason})`
  })
  if (created) run.logger.warn(`queued auto-rollback ${created.name}: ${created.reason}`)
  else if (skipped) run.logger.info(`no auto-rollback for ${t.promotion}: ${skipped}`)
  return created
}
