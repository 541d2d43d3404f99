import { defineCommand } from './define.js'
import { openPipeline, requireStage } from '../pipeline/context.js'
import { eventFromArgs, list } from './args.js'
import { freightSummary } from './discover.js'
import { reconcilePipeline } from '../pipeline/reconcile.js'
import { activityOutputs } from '../pipeline/report.js'
import { renderSummary } from '../report/summary.js'
import { pullRequestOutputs } from './pull-request-outputs.js'
import { publishStatusPage } from '../report/publish.js'
import { reservedBranches, runDiscovery, type DiscoveryRun } from '../discovery/index.js'
import { gcMutation } from '../state/gc.js'

export const reconcileCommand = defineCommand({
  name: 'reconcile',
  description:
    'Discover due warehouses, resume waiting promotions, verify, auto-promote, until nothing changes',
  flags: {
    stage: {
      type: 'string',
      multiple: true,
      description: 'Only promote/verify these stages (fan-out jobs)'
    },
    'no-discover': { type: 'boolean', description: 'Skip discovery' },
    'force-discover': {
      type: 'boolean',
      description: 'Discover every warehouse even if its interval has not passed'
    },
    'event-name': {
      type: 'string',
      description: 'GitHub event name (push, registry_package, repository_dispatch, …)'
    },
    event: { type: 'string', description: 'The event payload: JSON, or a path to a JSON file' },
    'publish-page': {
      type: 'boolean',
      description: 'Publish the pipeline page (index.html) on the state branch when it changed'
    }
  },
  async run(ctx, args) {
    const pipeline = await openPipeline(ctx)
    const stages = list(args.stage)
    for (const s of stages) requireStage(pipeline.model, s)
    const event = eventFromArgs(args)
    let discovery: DiscoveryRun | undefined
    const skipDiscovery = args['no-discover'] || stages.length > 0 || event?.name === 'pull_request'
    if (!skipDiscovery) {
      discovery = await ctx.logger.group('Discovery', () =>
        runDiscovery(
          {
            model: pipeline.model,
            store: pipeline.store,
            services: ctx.services,
            logger: ctx.logger,
            now: ctx.now,
            reservedBranches: reservedBranches(pipeline.model, ctx.stateBranch)
          },
          { force: args['force-discover'], event }
        )
      )
    }
    const activity = await reconcilePipeline(pipeline, {
      stages: stages.length ? new Set(stages) : undefined
    })
    for (const e of discovery?.errors ?? [])
      activity.errors.push(`discovery of ${e.warehouse}: ${e.message}`)
    await pipeline.store.update((draft) =>
      gcMutation(draft, {
        liveWarehouses: new Set(pipeline.model.warehouses.keys()),
        liveStages: new Set(pipeline.model.stages.keys())
      })
    )
    if (args['publish-page']) await publishStatusPage(ctx, pipeline.model, pipeline.store)
    // What this run last read or wrote (its own writes included): no second fetch.
    const state = await pipeline.store.read({ cached: true })
    const freight = (discovery?.newFreight ?? []).map(freightSummary)
    const outputs = { ...activityOutputs(activity, state), freight: JSON.stringify(freight) }
    // Waiting promotions first: the pull request a reviewer should look at.
    const prOutputs = pullRequestOutputs(
      [...activity.waiting, ...activity.finished, ...activity.created],
      state
    )
    if (ctx.json)
      ctx.print(
        JSON.stringify({
          freight,
          ...Object.fromEntries(
            Object.entries(outputs)
              .filter(([k]) => k !== 'freight')
              .map(([k, v]) => [k, JSON.parse(v)])
          )
        })
      )
    else {
      for (const f of freight) ctx.print(`new freight ${f.alias} (${f.warehouse})`)
      for (const p of activity.finished)
        ctx.print(`${p.stage}: ${state.freight[p.freight]?.alias ?? p.freight} ${p.phase}`)
      for (const p of activity.waiting)
        ctx.print(
          `${p.stage}: ${state.freight[p.freight]?.alias ?? p.freight} waiting — ${state.promotions[p.name]?.message ?? ''}`
        )
      if (!freight.length && !activity.finished.length && !activity.waiting.length)
        ctx.print('nothing to do')
    }
    const failed =
      activity.errors.length > 0 ||
      activity.finished.some((p) => p.phase === 'Failed' || p.phase === 'Errored')
    return {
      exitCode: failed ? 1 : 0,
      outputs: { ...outputs, ...prOutputs },
      summary: renderSummary({
        model: pipeline.model,
        state,
        activity,
        newFreight: discovery?.newFreight ?? [],
        runURL: ctx.runURL,
        now: ctx.now()
      })
    }
  }
})
