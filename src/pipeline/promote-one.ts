import type { Promotion } from '../state/types.js'
import {
  advanceStage,
  emptyActivity,
  verifyStages,
  type PipelineActivity,
  type PipelineContext
} from './reconcile.js'

/**
 * Runs what a `promote` was asked for and nothing else: the stage's queue up to and including
 * `promotion` (promotions of the stage queued before it go first, as they would anyway), then the
 * stage's verification. No auto-promotion, no other stage: a run gated by the stage's
 * environment (required reviewers) must not also deploy what nobody approved there; the next
 * reconcile moves freight on from here.
 */
export async function runRequestedPromotion(
  ctx: PipelineContext,
  promotion: Pick<Promotion, 'name' | 'stage'>
): Promise<PipelineActivity> {
  const activity = emptyActivity()
  // An auto-rollback of what was asked (its promotion or verification failed) runs here too.
  let target: string | undefined = promotion.name
  while (target) {
    const wanted: string = target
    for (;;) {
      const p = await advanceStage(ctx, promotion.stage, (r) => {
        activity.refused.push(r)
        if (r.frozen) ctx.logger.warn(`promotion ${r.promotion} waits: ${r.reason}`)
        else ctx.logger.warn(`promotion ${r.promotion} was not run: ${r.reason}`)
      })
      if (!p) break
      if (p.phase === 'Running') {
        activity.waiting.push(p)
        break
      }
      activity.finished.push(p)
      if (p.name === wanted) break
    }
    if (activity.finished.some((p) => p.name === wanted && p.phase === 'Succeeded'))
      activity.verified.push(...(await verifyStages(ctx, { stages: new Set([promotion.stage]) })))
    const state = await ctx.store.read({ cached: true })
    target = Object.values(state.promotions).find(
      (p) => p.rollbackOf === wanted && p.phase === 'Pending'
    )?.name
  }
  return activity
}
