import { defineCommand } from './define.js'
import { openPipeline } from '../pipeline/context.js'
import type { PipelineContext } from '../pipeline/reconcile.js'
import { abortPromotion, nextPromotion } from '../pipeline/promotions.js'
import { closingComment, finishPromotionPullRequests } from '../pipeline/pull-requests.js'
import { recordDeployment } from '../integrations/deployments.js'
import type { CommandContext } from '../runtime/context.js'
import { cloneJson } from '../state/draft.js'
import type { Promotion } from '../state/types.js'
import { errorMessage, UsageError, WaybillError } from '../util/errors.js'
import { actionSummary } from '../report/summary.js'

/**
 * What aborting leaves behind outside the state: the promotion's open pull requests are closed
 * (merging one later would change the stage behind Waybill's back) and its generated branch
 * deleted; its GitHub deployment is marked inactive. Returns summary rows; never throws.
 */
async function tidyUp(
  ctx: CommandContext,
  pipeline: PipelineContext,
  p: Promotion
): Promise<Array<[string, string]>> {
  const rows: Array<[string, string]> = []
  const cleanup = await finishPromotionPullRequests(p, {
    services: ctx.services,
    logger: ctx.logger,
    closeWith: closingComment(p, ctx.runURL)
  })
  for (const url of cleanup.closed) rows.push(['Pull request closed', url])
  for (const b of cleanup.deletedBranches) rows.push(['Branch deleted', b])
  for (const problem of cleanup.problems) rows.push(['Warning', problem])
  if (ctx.deployments && pipeline.repository && ctx.services.github.token) {
    try {
      const rec = await recordDeployment({
        services: ctx.services,
        logger: ctx.logger,
        repository: pipeline.repository,
        stage: p.stage,
        promotion: p,
        freightAlias: p.freight.slice(0, 7),
        ref: process.env.GITHUB_SHA ?? 'HEAD',
        state: 'inactive',
        existingOnly: true
      })
      if (rec) rows.push(['Deployment', `${rec.deploymentId} marked inactive`])
    } catch (err) {
      const msg = `could not mark the deployment of ${p.name} inactive: ${errorMessage(err)}`
      ctx.logger.warn(msg)
      rows.push(['Warning', msg])
    }
  }
  return rows
}

export const abortCommand = defineCommand({
  name: 'abort',
  description:
    'Abort a running or queued promotion (by name, or the next one of a stage); closes its open pull request',
  flags: {
    promotion: { type: 'string', description: 'Promotion name' },
    stage: {
      type: 'string',
      description: "Abort this stage's running promotion (or its oldest queued one)"
    }
  },
  async run(ctx, args) {
    const name = args.promotion
    const stageName = args.stage
    if (!name && !stageName) throw new UsageError('--promotion or --stage is required')
    const pipeline = await openPipeline(ctx)
    let aborted: Promotion | undefined
    let alias = ''
    await pipeline.store.update((draft) => {
      const target = name ?? nextPromotion(draft, stageName ?? '')?.name
      if (!target) throw new WaybillError(`stage '${stageName}' has no running or queued promotion`)
      const p = abortPromotion(draft, target, ctx.actor, ctx.now())
      draft.audit[draft.audit.length - 1].runURL ??= ctx.runURL
      aborted = cloneJson(p)
      alias = draft.freight[p.freight]?.alias ?? p.freight.slice(0, 7)
      return `abort: ${p.name} by ${ctx.actor ?? 'unknown'}`
    })
    const p = aborted!
    const rows = await tidyUp(ctx, pipeline, p)
    ctx.print(
      ctx.json ? JSON.stringify({ promotion: p.name, phase: 'Aborted' }) : `aborted ${p.name}`
    )
    return {
      exitCode: 0,
      outputs: { promotion: p.name, phase: 'Aborted' },
      summary: actionSummary(`Aborted ${p.name}`, [
        ['Promotion', p.name],
        ['Stage', p.stage],
        ['Freight', alias],
        ['By', ctx.actor ?? 'unknown'],
        ...rows
      ])
    }
  }
})
