import type { Command } from '../runtime/context.js'
import { openPipeline } from '../pipeline/context.js'
import { stageOrder } from '../config/graph.js'
import { isControlFlow, nextPromotion } from '../pipeline/promotions.js'
import { autoPromotionCandidate, autoPromotionSkipReason } from '../pipeline/reconcile.js'
import { autoPromotionEnabled } from '../pipeline/policies.js'
import { freightRequests } from '../pipeline/availability.js'

/**
 * Lists the stages with work due (a queued or waiting promotion, or an auto-promotion candidate)
 * as a GitHub Actions matrix, so a workflow can fan promotions out across jobs:
 * `strategy.matrix: ${{ fromJSON(needs.plan.outputs.matrix) }}` then `waybill reconcile --stage`.
 */
export const planCommand: Command = {
  name: 'plan',
  description: 'Print the promotions that are due as a JSON matrix (for a fan-out job)',
  flags: {},
  async run(ctx) {
    const pipeline = await openPipeline(ctx)
    const state = await pipeline.store.read()
    const now = ctx.now()
    const include: Array<{ stage: string; freight: string; alias: string; reason: string }> = []
    for (const stageName of stageOrder(pipeline.model)) {
      if (isControlFlow(pipeline.model, stageName)) continue
      const next = nextPromotion(state, stageName)
      if (next) {
        include.push({
          stage: stageName,
          freight: next.freight,
          alias: state.freight[next.freight]?.alias ?? '',
          reason: next.phase === 'Running' ? 'resume' : 'queued'
        })
        continue
      }
      if (!autoPromotionEnabled(pipeline.model, stageName)) continue
      for (const req of freightRequests(pipeline.model.stages.get(stageName)!)) {
        const c = autoPromotionCandidate(pipeline.model, state, stageName, req.origin.name, now)
        if (c && !autoPromotionSkipReason(state, stageName, c)) {
          include.push({
            stage: stageName,
            freight: c.name,
            alias: c.alias,
            reason: 'auto-promotion'
          })
          break
        }
      }
    }
    const matrix = JSON.stringify({ include })
    ctx.print(
      ctx.json
        ? matrix
        : include.length
          ? include.map((i) => `${i.stage}: ${i.alias} (${i.reason})`).join('\n')
          : 'nothing due'
    )
    return { exitCode: 0, outputs: { matrix, 'has-work': String(include.length > 0) } }
  }
}
