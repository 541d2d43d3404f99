import os from 'node:os'
import pLimit from 'p-limit'
import { stageOrder } from '../config/graph.js'
import type { PromotionRunResult } from '../promotion/engine.js'
import type { Promotion, State } from '../state/types.js'
import { BufferedLogger } from '../util/buffered-logger.js'
import { claimNext, renewLeases } from './claim.js'
import type { PipelineActivity, PipelineContext, RefusedPromotion } from './reconcile.js'
import { DEFAULT_RESULT_BATCH, ResultBatches } from './result-batches.js'
import {
  executeClaimed,
  promotionGroupName,
  recordResult,
  reportResult,
  type RecordOutcome
} from './run-claimed.js'

/** Promotions one run executes at once by default: they mostly wait on Git and HTTP. */
export function defaultParallelPromotions(): number {
  return Math.min(16, Math.max(2, 2 * os.availableParallelism()))
}

/** Changes named one by one in a state commit's message; a round of 1,000 claims is summed up. */
const MESSAGE_PARTS = 20

/** A state commit's message from the changes it makes: the first few, then how many more. */
export function commitMessage(parts: readonly string[]): string {
  if (parts.length <= MESSAGE_PARTS) return parts.join('; ')
  return `${parts.slice(0, MESSAGE_PARTS).join('; ')}; and ${parts.length - MESSAGE_PARTS} more`
}

/** Rounds one pass may take: each runs one promotion per stage, so this bounds a stage's queue. */
const MAX_ROUNDS = 100

/**
 * The state changes each round's opening write makes before it claims (control flow,
 * auto-promotion): what the last round's results made possible is queued and claimed at once.
 */
export type RoundOpening = (draft: State) => string | undefined

/**
 * Runs the promotions of one pass in rounds. A round's opening write records the previous
 * round's last results, makes the other changes they allow (`open`) and claims the
 * next promotion of every stage that has one this run may take, all in one commit. The claimed
 * promotions then run at once (up to the parallel limit, in stage order); their results are
 * written every `resultBatch.count` results or `resultBatch.maxAgeMs`, and the rest go into the
 * next round's opening write. A stage whose promotion waits (a pull request, health), or whose
 * promotion this run may not take, is left alone for the rest of the pass.
 *
 * A run killed in between leaves claimed promotions Running under its lease: the next run resumes
 * them once the lease expires, as with one promotion at a time. Leases of claimed promotions are
 * renewed by every write and before one starts when half the lease has passed.
 */
export async function runPromotionRounds(
  ctx: PipelineContext,
  activity: PipelineActivity,
  opts: {
    stages?: ReadonlySet<string>
    open?: RoundOpening
    /** Called after each round's opening write (its changes are on the branch). */
    onOpened?: () => void
    onRefused: (refused: RefusedPromotion) => void
    waitingSeen: Set<string>
  }
): Promise<void> {
  const done = new Set<string>()
  let carry: PromotionRunResult[] = []
  const limit = Math.max(1, ctx.parallelPromotions ?? defaultParallelPromotions())
  const batch = ctx.resultBatch ?? DEFAULT_RESULT_BATCH

  /** Logs, hooks and activity for results a write just recorded (or could not). */
  const report = async (items: PromotionRunResult[], outcomes: RecordOutcome[], state: State) => {
    for (let i = 0; i < items.length; i++) {
      const p = await reportResult(ctx, items[i], outcomes[i], state)
      if (p.phase === 'Running') {
        done.add(p.stage)
        if (!opts.waitingSeen.has(p.name)) activity.waiting.push(p)
        opts.waitingSeen.add(p.name)
      } else {
        activity.finished.push(p)
      }
    }
  }

  for (let round = 0; ; round++) {
    const recording = carry
    let outcomes: RecordOutcome[] = []
    let claimed: Promotion[] = []
    let stopped: Promotion[] = []
    let refused: RefusedPromotion[] = []
    const opened = await ctx.store.update((draft) => {
      outcomes = recording.map((r) => recordResult(ctx, draft, r))
      const parts = outcomes.flatMap((o) => (o.kind === 'recorded' ? [o.message] : []))
      const change = opts.open?.(draft)
      if (change) parts.push(change)
      claimed = []
      stopped = []
      refused = []
      // The last round only records what the one before it left.
      for (const stageName of round < MAX_ROUNDS ? stageOrder(ctx.model) : []) {
        if (opts.stages && !opts.stages.has(stageName)) continue
        if (done.has(stageName)) continue
        const claim = claimNext(ctx, draft, stageName)
        if (claim.kind === 'refused') refused.push(claim.refused)
        else if (claim.kind === 'stopped') {
          stopped.push(claim.promotion)
          parts.push(claim.message)
        } else if (claim.kind === 'claimed') {
          claimed.push(claim.promotion)
          parts.push(claim.message)
        }
      }
      return parts.length ? commitMessage(parts) : undefined
    })
    opts.onOpened?.()
    await report(recording, outcomes, opened.state)
    for (const r of refused) {
      done.add(r.stage)
      opts.onRefused(r)
    }
    for (const p of stopped) {
      ctx.logger.error(`✘ ${p.name} Errored: ${p.message ?? ''}`)
      activity.finished.push(p)
    }
    if (!claimed.length && !stopped.length) break
    carry = await runClaimed(ctx, claimed, opened.state, limit, batch, report)
  }
}

/** Runs claimed promotions at once (bounded), writing results in batches; returns the unwritten rest. */
async function runClaimed(
  ctx: PipelineContext,
  claimed: Promotion[],
  snapshot: State,
  limit: number,
  batchLimits: { count: number; maxAgeMs: number },
  report: (items: PromotionRunResult[], outcomes: RecordOutcome[], state: State) => Promise<void>
): Promise<PromotionRunResult[]> {
  if (!claimed.length) return []
  const running = new Set(claimed.map((p) => p.name))
  let renewedAt = ctx.now().getTime()
  const batches = new ResultBatches<PromotionRunResult>(async (items) => {
    let outcomes: RecordOutcome[] = []
    const written = await ctx.store.update((draft) => {
      outcomes = items.map((r) => recordResult(ctx, draft, r))
      renewLeases(ctx, draft, running)
      const parts = outcomes.flatMap((o) => (o.kind === 'recorded' ? [o.message] : []))
      return parts.length ? commitMessage(parts) : 'promotions: leases renewed'
    })
    renewedAt = ctx.now().getTime()
    await report(items, outcomes, written.state)
  }, batchLimits)

  // One at a time, lines go straight to the log; side by side, each promotion's lines are held
  // and printed as one group when it ends (one group at a time).
  const alone = claimed.length === 1 || limit === 1
  let printing: Promise<void> = Promise.resolve()
  const run = pLimit(limit)
  const settled = await Promise.allSettled(
    claimed.map((promotion) =>
      run(async () => {
        if (batches.failed) return
        if (ctx.now().getTime() - renewedAt > ctx.leaseMs / 2) await batches.flush()
        const group = promotionGroupName(snapshot, promotion)
        let result: PromotionRunResult
        if (alone)
          result = await ctx.logger.group(group, () =>
            executeClaimed(ctx, promotion, snapshot, ctx.logger)
          )
        else {
          const logger = new BufferedLogger(ctx.logger)
          try {
            result = await executeClaimed(ctx, promotion, snapshot, logger)
          } finally {
            printing = printing.then(() => logger.replay(group))
            await printing
          }
        }
        running.delete(promotion.name)
        batches.add(result)
      })
    )
  )
  const failed = settled.find((s) => s.status === 'rejected')
  if (failed) {
    // What did finish is recorded before the error ends the run.
    await batches.flush()
    await batches.settle()
    throw failed.reason
  }
  return batches.settle()
}
