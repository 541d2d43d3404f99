import { defineCommand } from './define.js'
import { openPipeline } from '../pipeline/context.js'
import { stageOrder } from '../config/graph.js'
import { isControlFlow } from '../config/graph.js'
import { nextPromotion } from '../pipeline/promotions.js'
import { autoPromotionCandidate, autoPromotionSkipReason } from '../pipeline/reconcile.js'
import { autoPromotionEnabled } from '../pipeline/policies.js'
import { freightRequests } from '../pipeline/availability.js'
import { planSummary } from '../report/summary.js'
import { frozenText, stageSchedule } from '../pipeline/gates.js'
import type { ScheduleState } from '../pipeline/windows.js'

/** GitHub Actions runs at most 256 jobs per matrix. */
export const MATRIX_JOB_LIMIT = 256

/** Splits the due promotions into matrices of at most `size` jobs, keeping their order. */
export function chunkMatrix<T>(include: T[], size = MATRIX_JOB_LIMIT): Array<{ include: T[] }> {
  const chunks: Array<{ include: T[] }> = []
  for (let i = 0; i < include.length; i += size)
    chunks.push({ include: include.slice(i, i + size) })
  return chunks.length ? chunks : [{ include: [] }]
}

/**
 * Lists the stages with work due (a queued or waiting promotion, or an auto-promotion candidate)
 * as a GitHub Actions matrix, so a workflow can fan promotions out across jobs:
 * `strategy.matrix: ${{ fromJSON(needs.plan.outputs.matrix) }}` then `waybill reconcile --stage`.
 * `matrix` holds the first MATRIX_JOB_LIMIT promotions; `matrices` all of them as a JSON list of
 * matrices (in stage-graph order), `matrix-count` how many (docs/workflows.md, fan-out).
 */
export const planCommand = defineCommand({
  name: 'plan',
  description: 'Print the promotions that are due as a JSON matrix (for a fan-out job)',
  dryRun: true,
  flags: {},
  async run(ctx) {
    const pipeline = await openPipeline(ctx)
    const state = await pipeline.store.read()
    const now = ctx.now()
    const include: Array<{ stage: string; freight: string; alias: string; reason: string }> = []
    // Work a closed promotion window holds: not in the matrix, reported with its next opening.
    const frozen: Array<(typeof include)[number] & { nextOpen: string | null; frozen: string }> = []
    const schedules = new Map<string, ScheduleState>()
    for (const stageName of stageOrder(pipeline.model)) {
      if (isControlFlow(pipeline.model, stageName)) continue
      const schedule = stageSchedule(pipeline.model, stageName, now, schedules)
      // A closed window holds what would start; a promotion already running goes on.
      const due = (work: (typeof include)[number]) => {
        if (schedule.open || work.reason === 'resume') include.push(work)
        else
          frozen.push({
            ...work,
            nextOpen: schedule.nextOpen?.toISOString() ?? null,
            frozen: frozenText(schedule)
          })
      }
      const next = nextPromotion(state, stageName)
      if (next) {
        due({
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
          due({
            stage: stageName,
            freight: c.name,
            alias: c.alias,
            reason: 'auto-promotion'
          })
          break
        }
      }
    }
    const chunks = chunkMatrix(include)
    const matrix = JSON.stringify(chunks[0])
    const held = frozen.map((f) => `${f.stage}: ${f.alias} (${f.reason}, ${f.frozen})`)
    ctx.print(
      ctx.json
        ? JSON.stringify(frozen.length ? { include, frozen } : { include })
        : [
            ...(include.length
              ? include.map((i) => `${i.stage}: ${i.alias} (${i.reason})`)
              : ['nothing due']),
            ...held
          ].join('\n')
    )
    return {
      exitCode: 0,
      outputs: {
        matrix,
        matrices: JSON.stringify(chunks),
        'matrix-count': String(include.length ? chunks.length : 0),
        'has-work': String(include.length > 0),
        frozen: JSON.stringify(frozen)
      },
      summary: planSummary(include)
    }
  }
})
