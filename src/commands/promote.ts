import { defineCommand } from './define.js'
import { openPipeline, requireStage } from '../pipeline/context.js'
import { isControlFlow } from '../config/graph.js'
import { createPromotion } from '../pipeline/promotions.js'
import { freightAvailability } from '../pipeline/availability.js'
import { resolveFreightRef } from '../pipeline/freight-ref.js'
import { autoPromotionCandidate } from '../pipeline/reconcile.js'
import { runRequestedPromotion } from '../pipeline/promote-one.js'
import { autoPromotionEnabled } from '../pipeline/policies.js'
import { activityOutputs } from '../pipeline/report.js'
import { renderSummary } from '../report/summary.js'
import { pullRequestOutputs } from './pull-request-outputs.js'
import { UsageError, WaybillError } from '../util/errors.js'
import { isUnsuccessfulPhase, type Promotion, type State } from '../state/types.js'
import { cloneJson } from '../state/draft.js'
import { dryRunPromotion } from './dry-run.js'
import { dryRunOutcome } from './dry-run-report.js'

export const promoteCommand = defineCommand({
  name: 'promote',
  description:
    'Promote freight (ID, alias or "latest") to a stage and run that promotion and its verification (nothing else)',
  dryRun: true,
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
    'override-windows': {
      type: 'boolean',
      description:
        'Start it even while promotion windows freeze the stage (recorded in the audit trail)'
    },
    'no-run': {
      type: 'boolean',
      description:
        'Only queue the promotion; a later promote of this stage runs it (or reconcile, when the stage auto-promotes)'
    }
  },
  async run(ctx, args) {
    const pipeline = await openPipeline(ctx)
    const stage = requireStage(pipeline.model, args.stage)
    const stageName = stage.metadata.name
    // This run was asked to promote this stage: its promotions may run even if it does not auto-promote.
    pipeline.promoteStages = new Set([stageName])
    if (isControlFlow(pipeline.model, stageName)) {
      throw new UsageError(
        `stage '${stageName}' has no promotion steps (a control-flow stage): freight becomes current there when it is available`,
        `approve freight for it instead: waybill approve --stage ${stageName} --freight <freight>`
      )
    }
    const ref = args.freight ?? 'latest'
    let created: Promotion | undefined
    const queue = (draft: State) => {
      const now = ctx.now()
      const freight = resolveFreightRef(draft, stageName, stage, ref, {
        warehouse: args.warehouse,
        now,
        latest: 'available'
      })
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
        now,
        overrideWindows: args['override-windows']
      })
      return `promote: ${freight.alias} → ${stageName} by ${ctx.actor ?? 'unknown'}`
    }
    if (ctx.dryRun) {
      // The promotion is made on a copy of the state and never recorded.
      const draft = cloneJson(await pipeline.store.read())
      queue(draft)
      return dryRunOutcome(ctx, await dryRunPromotion(pipeline, created!, draft))
    }
    await pipeline.store.update(queue)
    const promotion = created!
    ctx.logger.info(`queued ${promotion.name}`)
    if (args['no-run']) {
      if (ctx.json) ctx.print(JSON.stringify({ promotion: promotion.name, phase: promotion.phase }))
      return { exitCode: 0, outputs: { promotion: promotion.name, phase: promotion.phase } }
    }
    // Only what was asked: other stages' due auto-promotions wait for the next reconcile.
    const activity = await runRequestedPromotion(pipeline, promotion)
    const state = await pipeline.store.read()
    // A record that vanished is never a success: the steps may have run with nothing to show it.
    const final = state.promotions[promotion.name] ??
      activity.finished.find((p) => p.name === promotion.name && p.phase === 'Errored') ?? {
        ...promotion,
        phase: 'Errored' as const,
        message: `its record vanished from the state branch ${ctx.stateBranch}; its outcome is unknown`
      }
    if (ctx.json)
      ctx.print(
        JSON.stringify({ promotion: final.name, phase: final.phase, message: final.message })
      )
    else ctx.print(`${final.name}: ${final.phase}${final.message ? ` — ${final.message}` : ''}`)
    const failed = isUnsuccessfulPhase(final.phase)
    return {
      exitCode: failed ? 1 : 0,
      outputs: {
        ...activityOutputs(activity, state),
        ...pullRequestOutputs([final], state),
        promotion: final.name,
        phase: final.phase
      },
      summary: renderSummary({
        model: pipeline.model,
        state,
        activity,
        runURL: ctx.runURL,
        now: ctx.now()
      })
    }
  }
})
