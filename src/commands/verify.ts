import { defineCommand } from './define.js'
import { openPipeline, requireStage } from '../pipeline/context.js'
import { verifyStages } from '../pipeline/reconcile.js'
import { verifySummary } from '../report/summary.js'

export const verifyCommand = defineCommand({
  name: 'verify',
  description: "Re-run a stage's verification now; a failure revokes verifiedIn",
  flags: { stage: { type: 'string', description: 'Stage (required)' } },
  async run(ctx, args) {
    const pipeline = await openPipeline(ctx)
    const stageName = requireStage(pipeline.model, args.stage).metadata.name
    const results = await verifyStages(pipeline, { stages: new Set([stageName]), reverify: true })
    const r = results[0]
    if (!r) {
      ctx.print(
        ctx.json
          ? JSON.stringify({ stage: stageName, phase: 'None' })
          : `${stageName}: nothing to verify (no current freight, or a promotion in progress)`
      )
      return {
        exitCode: 0,
        summary: verifySummary(stageName, await pipeline.store.read({ cached: true }))
      }
    }
    ctx.print(ctx.json ? JSON.stringify(r) : `${stageName}: ${r.phase} — ${r.message}`)
    return {
      exitCode: r.phase === 'Failed' || r.phase === 'Error' ? 1 : 0,
      outputs: { verified: JSON.stringify(results) },
      summary: verifySummary(stageName, await pipeline.store.read({ cached: true }), r)
    }
  }
})
