import { defineCommand } from './define.js'
import { openPipeline, requireStage } from '../pipeline/context.js'
import { resolveFreightRef } from '../pipeline/freight-ref.js'
import { requestFor } from '../pipeline/availability.js'
import { UsageError, WaybillError } from '../util/errors.js'
import { actionSummary } from '../report/summary.js'

export const approveCommand = defineCommand({
  name: 'approve',
  description:
    'Approve freight for a stage: it becomes available there without upstream verification',
  flags: {
    stage: { type: 'string', description: 'Stage (required)' },
    freight: {
      type: 'string',
      description:
        'Freight ID, alias, ID prefix, or "latest" (the newest freight of the warehouse the stage takes freight from)'
    },
    warehouse: {
      type: 'string',
      description: 'With "latest" on a multi-warehouse stage: which origin'
    }
  },
  async run(ctx, args) {
    const stageName = args.stage
    const ref = args.freight
    if (!stageName || !ref) throw new UsageError('--stage and --freight are required')
    const warehouse = args.warehouse
    const pipeline = await openPipeline(ctx)
    const stage = requireStage(pipeline.model, stageName)
    let alias = ref
    let already = false
    await pipeline.store.update((draft) => {
      const f = resolveFreightRef(draft, stageName, stage, ref, {
        warehouse,
        now: ctx.now(),
        latest: 'origin'
      })
      if (!requestFor(stage, f.origin))
        throw new WaybillError(
          `stage '${stageName}' does not request freight from warehouse ${f.origin.name}`
        )
      alias = f.alias
      already = Boolean(f.status.approvedFor[stageName])
      if (already) return undefined
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
      outputs: { approved: JSON.stringify({ stage: stageName, freight: alias }) },
      summary: actionSummary(`Approved ${alias} for ${stageName}`, [
        ['Stage', stageName],
        ['Freight', alias],
        ['By', ctx.actor ?? 'unknown'],
        ...(already ? [['Note', 'it was already approved'] as [string, string]] : [])
      ])
    }
  }
})
