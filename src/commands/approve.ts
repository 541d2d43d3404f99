import type { Command } from '../runtime/context.js'
import { openPipeline, requireStage } from '../pipeline/context.js'
import { findFreight } from '../pipeline/promotions.js'
import { requestFor } from '../pipeline/availability.js'
import { UsageError, WaybillError } from '../util/errors.js'

export const approveCommand: Command = {
  name: 'approve',
  description:
    'Approve freight for a stage: it becomes available there without upstream verification',
  flags: {
    stage: { type: 'string', description: 'Stage (required)' },
    freight: { type: 'string', description: 'Freight ID, alias or ID prefix (required)' }
  },
  async run(ctx, args) {
    const stageName = args.stage as string | undefined
    const ref = args.freight as string | undefined
    if (!stageName || !ref) throw new UsageError('--stage and --freight are required')
    const pipeline = await openPipeline(ctx)
    const stage = requireStage(pipeline.model, stageName)
    let alias = ref
    await pipeline.store.update((draft) => {
      const f = findFreight(draft, ref)
      if (!f)
        throw new WaybillError(
          `freight '${ref}' does not exist`,
          'use an ID, an alias or an ID prefix (see waybill status)'
        )
      if (!requestFor(stage, f.origin))
        throw new WaybillError(
          `stage '${stageName}' does not request freight from warehouse ${f.origin.name}`
        )
      alias = f.alias
      if (f.status.approvedFor[stageName]) return undefined
      const now = ctx.now().toISOString()
      f.status.approvedFor[stageName] = { approvedAt: now, actor: ctx.actor }
      draft.audit.push({
        at: now,
        actor: ctx.actor,
        action: 'approve',
        stage: stageName,
        freight: f.name,
        runURL: ctx.runURL
      })
      return `approve: ${f.alias} for ${stageName} by ${ctx.actor ?? 'unknown'}`
    })
    ctx.print(
      ctx.json
        ? JSON.stringify({ stage: stageName, freight: alias, approved: true })
        : `approved ${alias} for ${stageName}`
    )
    return {
      exitCode: 0,
      outputs: { approved: JSON.stringify({ stage: stageName, freight: alias }) }
    }
  }
}
