import type { Command } from '../runtime/context.js'
import { openPipeline, requireStage } from '../pipeline/context.js'
import { createPromotion, findFreight, isControlFlow } from '../pipeline/promotions.js'
import { availableFreight, freightAvailability, freightRequests } from '../pipeline/availability.js'
import { autoPromotionCandidate, reconcilePipeline } from '../pipeline/reconcile.js'
import { autoPromotionEnabled } from '../pipeline/policies.js'
import { activityOutputs } from '../pipeline/report.js'
import { renderSummary } from '../report/summary.js'
import { UsageError, WaybillError } from '../util/errors.js'
import type { Freight } from '../freight/types.js'
import type { Promotion } from '../state/types.js'

export const promoteCommand: Command = {
  name: 'promote',
  description: 'Promote freight (ID, alias or "latest") to a stage, then run it and what follows',
  flags: {
    stage: { type: 'string', description: 'Stage to promote to (required)' },
    freight: {
      type: 'string',
      description: 'Freight ID, alias, ID prefix, or "latest" (default latest)'
    },
    warehouse: {
      type: 'string',
      description: 'With "latest" on a multi-warehouse stage: which origin'
    },
    'no-run': {
      type: 'boolean',
      description: 'Only queue the promotion; a later reconcile runs it'
    }
  },
  async run(ctx, args) {
    const stageName = args.stage as string
    const pipeline = await openPipeline(ctx)
    const stage = requireStage(pipeline.model, stageName)
    if (isControlFlow(pipeline.model, stageName)) {
      throw new UsageError(
        `stage '${stageName}' has no promotion steps (a control-flow stage): freight becomes current there when it is available`,
        `approve freight for it instead: waybill approve --stage ${stageName} --freight <freight>`
      )
    }
    const ref = (args.freight as string | undefined) ?? 'latest'
    let created: Promotion | undefined
    await pipeline.store.update((draft) => {
      const now = ctx.now()
      let freight: Freight | undefined
      if (ref === 'latest') {
        const reqs = freightRequests(stage).filter(
          (r) => !args.warehouse || r.origin.name === args.warehouse
        )
        if (reqs.length !== 1)
          throw new UsageError(
            `stage '${stageName}' takes freight from ${freightRequests(stage)
              .map((r) => r.origin.name)
              .join(', ')}: pass --warehouse with --freight latest`
          )
        freight = availableFreight(draft, stageName, stage, reqs[0].origin, now)[0]
        if (!freight)
          throw new WaybillError(
            `no freight from ${reqs[0].origin.name} is available to ${stageName} yet`,
            'run discovery, or promote and verify it upstream first'
          )
      } else {
        freight = findFreight(draft, ref)
        if (!freight)
          throw new WaybillError(
            `freight '${ref}' does not exist`,
            'use an ID, an alias or "latest" (see waybill status)'
          )
      }
      const availability = freightAvailability(stageName, stage, freight, now)
      if (!availability.available) {
        throw new WaybillError(
          `freight ${freight.alias} is not available to ${stageName}: ${availability.reason}`,
          `approve it first (waybill approve --stage ${stageName} --freight ${freight.alias}) if you mean to skip the upstream stages`
        )
      }
      const candidate = autoPromotionEnabled(pipeline.model, stageName)
        ? autoPromotionCandidate(pipeline.model, draft, stageName, freight.origin.name, now)
        : undefined
      created = createPromotion(draft, pipeline.model, {
        stage: stageName,
        freight,
        actor: ctx.actor,
        runURL: ctx.runURL,
        auto: false,
        hold: Boolean(candidate && candidate.name !== freight.name),
        now
      })
      return `promote: ${freight.alias} → ${stageName} by ${ctx.actor ?? 'unknown'}`
    })
    const promotion = created!
    ctx.logger.info(`queued ${promotion.name}`)
    if (args['no-run']) {
      if (ctx.json) ctx.print(JSON.stringify({ promotion: promotion.name, phase: promotion.phase }))
      return { exitCode: 0, outputs: { promotion: promotion.name, phase: promotion.phase } }
    }
    const activity = await reconcilePipeline(pipeline)
    const state = await pipeline.store.read()
    const final = state.promotions[promotion.name] ?? promotion
    if (ctx.json)
      ctx.print(
        JSON.stringify({ promotion: final.name, phase: final.phase, message: final.message })
      )
    else ctx.print(`${final.name}: ${final.phase}${final.message ? ` — ${final.message}` : ''}`)
    const failed = ['Failed', 'Errored', 'Aborted'].includes(final.phase)
    return {
      exitCode: failed ? 1 : 0,
      outputs: { ...activityOutputs(activity, state), promotion: final.name, phase: final.phase },
      summary: renderSummary({ model: pipeline.model, state, activity, runURL: ctx.runURL })
    }
  }
}
