import type { Command } from '../runtime/context.js'
import { openPipeline, requireStage } from '../pipeline/context.js'
import { verifyStages } from '../pipeline/reconcile.js'

export const verifyCommand: Command = {
  name: 'verify',
  description: "Re-run a stage's verification now; a failure revokes verifiedIn",
  flags: { stage: { type: 'string', description: 'Stage (required)' } },
  async run(ctx, args) {
    const stageName = args.stage as string
    const pipeline = await openPipeline(ctx)
    requireStage(pipeline.model, stageName)
    const results = await verifyStages(pipeline, { stages: new Set([stageName]), reverify: true })
    const r = results[0]
    if (!r) {
      ctx.print(
        ctx.json
          ? JSON.stringify({ stage: stageName, phase: 'None' })
          : `${stageName}: nothing to verify (no current freight, or a promotion in progress)`
      )
      return { exitCode: 0 }
    }
    ctx.print(ctx.json ? JSON.stringify(r) : `${stageName}: ${r.phase} — ${r.message}`)
    return {
      exitCode: r.phase === 'Failed' || r.phase === 'Error' ? 1 : 0,
      outputs: { verified: JSON.stringify(results) }
    }
  }
}
