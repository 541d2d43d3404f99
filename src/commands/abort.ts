import type { Command } from '../runtime/context.js'
import { openPipeline } from '../pipeline/context.js'
import { abortPromotion, nextPromotion } from '../pipeline/promotions.js'
import { UsageError, WaybillError } from '../util/errors.js'

export const abortCommand: Command = {
  name: 'abort',
  description: 'Abort a running or queued promotion (by name, or the next one of a stage)',
  flags: {
    promotion: { type: 'string', description: 'Promotion name' },
    stage: {
      type: 'string',
      description: "Abort this stage's running promotion (or its oldest queued one)"
    }
  },
  async run(ctx, args) {
    const name = args.promotion as string | undefined
    const stageName = args.stage as string | undefined
    if (!name && !stageName) throw new UsageError('--promotion or --stage is required')
    const pipeline = await openPipeline(ctx)
    let aborted = ''
    await pipeline.store.update((draft) => {
      const target = name ?? nextPromotion(draft, stageName!)?.name
      if (!target) throw new WaybillError(`stage '${stageName}' has no running or queued promotion`)
      aborted = abortPromotion(draft, target, ctx.actor, ctx.now()).name
      return `abort: ${aborted} by ${ctx.actor ?? 'unknown'}`
    })
    ctx.print(
      ctx.json ? JSON.stringify({ promotion: aborted, phase: 'Aborted' }) : `aborted ${aborted}`
    )
    return { exitCode: 0, outputs: { promotion: aborted, phase: 'Aborted' } }
  }
}
