import os from 'node:os'
import path from 'node:path'
import crypto from 'node:crypto'
import type { ProjectModel } from '../config/index.js'
import { isControlFlow, stageOrder } from '../config/graph.js'
import type { Freight } from '../freight/types.js'
import { originKey } from '../freight/types.js'
import type { Services } from '../runtime/services.js'
import type { StateStore } from '../state/store.js'
import type { Promotion, State, VerificationInfo } from '../state/types.js'
import type { Logger } from '../util/logger.js'
import { availableFreight, freightRequests } from './availability.js'
import { claimNext, type ClaimOutcome } from './claim.js'
import {
  collectionWith,
  currentCollection,
  markCollectionVerified,
  markCurrentlyIn,
  MAX_VERIFICATIONS,
  pushCollection
} from './collections.js'
import { autoPromotionEnabled } from './policies.js'
import { runPromotionRounds } from './promotion-rounds.js'
import { createPromotion, isTerminal, nextPromotion, stagePromotions } from './promotions.js'
import type { BatchLimits } from './result-batches.js'
import {
  executeClaimed,
  promotionGroupName,
  recordResult,
  reportResult,
  type RecordOutcome
} from './run-claimed.js'
import { evaluateVerification } from './verification.js'
import type { PromotionHook } from './deploy-hook.js'
import type { VerificationHook } from './commit-status-hook.js'
import { hasVerification, verificationTimeoutMs } from './verification-config.js'
import { queueRollback } from './rollback.js'

export { promotionRunRefusal } from './claim.js'

/** Everything the pipeline needs for one run. */
export interface PipelineContext {
  model: ProjectModel
  store: StateStore
  project: string
  services: Services
  logger: Logger
  now: () => Date
  actor?: string
  runURL?: string
  /** owner/repo the action runs in. */
  repository?: string
  /** How long a run may poll waiting steps in place (ms). */
  waitMs: number
  /** Identifies this run in promotion leases. */
  runId: string
  /** Where promotions get their working directories. */
  workRoot: string
  /** How long a lease on a running promotion lasts (a crashed run's lease expires). */
  leaseMs: number
  /** Called when a promotion starts running and after each run of it (GitHub Deployments). */
  onPromotion?: PromotionHook
  /** Called after each verification of a stage (commit statuses). */
  onVerification?: VerificationHook
  /**
   * Stages this run was explicitly asked to promote (`promote --stage`, the environment-gated
   * job). Promotions of a stage that does not auto-promote run only in such a run.
   */
  promoteStages?: ReadonlySet<string>
  /** Promotions of different stages run at once (default: defaultParallelPromotions()). */
  parallelPromotions?: number
  /** When results of promotions running at once are written (default DEFAULT_RESULT_BATCH). */
  resultBatch?: BatchLimits
}

export function newRunId(): string {
  return `${os.hostname()}:${process.pid}:${crypto.randomBytes(4).toString('hex')}`
}

/**
 * Where this run's promotions get their working directories: a path nobody can guess, created
 * by the first promotion that runs and removed when the last one is done (run-claimed.ts), so
 * a command that runs none leaves nothing behind.
 */
export function defaultWorkRoot(): string {
  const base = process.env.RUNNER_TEMP || os.tmpdir()
  return path.join(base, `waybill-${crypto.randomBytes(8).toString('hex')}`)
}

/** What one pass (or a whole reconcile) did, for outputs and the job summary. */
export interface PipelineActivity {
  created: Promotion[]
  finished: Promotion[]
  waiting: Promotion[]
  verified: Array<{ stage: string; freight: string[]; phase: string; message: string }>
  errors: string[]
  /** Promotions this run was not allowed to run (left as they are), with why. */
  refused: RefusedPromotion[]
}

export interface RefusedPromotion {
  promotion: string
  stage: string
  reason: string
  /** Held by a closed promotion window: it stays Pending and starts on a later run. */
  frozen?: boolean
}

export function emptyActivity(): PipelineActivity {
  return { created: [], finished: [], waiting: [], verified: [], errors: [], refused: [] }
}

/** The freight auto-promotion would pick for one origin of a stage (Kargo's SelectAutoPromotionCandidates). */
export function autoPromotionCandidate(
  model: ProjectModel,
  state: State,
  stageName: string,
  originName: string,
  now: Date
): Freight | undefined {
  const stage = model.stages.get(stageName)!
  const req = freightRequests(stage).find((r) => r.origin.name === originName)
  if (!req) return undefined
  const available = availableFreight(state, stageName, stage, req.origin, now)
  if (req.selectionPolicy === 'MatchUpstream') {
    const upstream = req.stages[0]
    const inUpstream = available.filter((f) => f.status.currentlyIn[upstream])
    return inUpstream.length === 1 ? inUpstream[0] : undefined
  }
  return available[0]
}

/** Why auto-promotion skips a candidate, or undefined when it should promote it. */
export function autoPromotionSkipReason(
  state: State,
  stageName: string,
  candidate: Freight
): string | undefined {
  const st = state.stages[stageName]
  const key = originKey(candidate.origin)
  const hold = st?.autoPromotionHolds[key]
  if (hold) return `held by ${hold.actor ?? 'a manual promotion'} (${hold.promotionName})`
  if (currentCollection(state, stageName)?.items[key]?.name === candidate.name)
    return 'already current'
  const forFreight = stagePromotions(state, stageName).filter((p) => p.freight === candidate.name)
  if (forFreight.some((p) => !isTerminal(p))) return 'already queued'
  const lastTerminal = forFreight.filter(isTerminal).pop()
  if (lastTerminal && lastTerminal.phase !== 'Succeeded')
    return `its last promotion ${lastTerminal.name} ${lastTerminal.phase.toLowerCase()}`
  return undefined
}

/**
 * Control-flow stages, in a draft (part of a mutator): every available freight is verified there
 * at once and the newest is current. Returns how many marks it made, and the commit message.
 */
export function controlFlowChange(
  ctx: PipelineContext,
  draft: State
): { marked: number; message: string | undefined } {
  let marked = 0
  const now = ctx.now()
  const names: string[] = []
  for (const stageName of stageOrder(ctx.model)) {
    if (!isControlFlow(ctx.model, stageName)) continue
    const stage = ctx.model.stages.get(stageName)!
    for (const req of freightRequests(stage)) {
      const available = availableFreight(draft, stageName, stage, req.origin, now)
      for (const f of available) {
        if (!f.status.verifiedIn[stageName]) {
          f.status.verifiedIn[stageName] = { verifiedAt: now.toISOString() }
          names.push(`${f.alias}→${stageName}`)
          marked++
        }
      }
      const newest = available[0]
      if (
        newest &&
        currentCollection(draft, stageName)?.items[originKey(newest.origin)]?.name !== newest.name
      ) {
        pushCollection(draft, stageName, collectionWith(draft, stageName, newest), now)
        marked++
      }
    }
    // State written before control-flow stages went through pushCollection has current freight
    // that is not currentlyIn the stage: its soak there starts now instead of never.
    const current = currentCollection(draft, stageName)
    if (current) {
      const entered = markCurrentlyIn(draft, stageName, current, now)
      if (entered) names.push(`${entered} current in ${stageName}`)
      marked += entered
    }
  }
  const message = marked
    ? `control-flow: ${names.length ? listed(names) : 'current freight updated'}`
    : undefined
  return { marked, message }
}

/** A list for a commit message: the first 20 items, then how many more. */
function listed(items: readonly string[]): string {
  return items.length <= 20
    ? items.join(', ')
    : `${items.slice(0, 20).join(', ')} and ${items.length - 20} more`
}

/**
 * Queues promotions, in a draft (part of a mutator), for every stage whose policy enables
 * auto-promotion. Returns the promotions queued, and the commit message.
 */
export function autoPromoteChange(
  ctx: PipelineContext,
  draft: State,
  onlyStages?: ReadonlySet<string>
): { created: Promotion[]; message: string | undefined } {
  const created: Promotion[] = []
  const now = ctx.now()
  for (const stageName of stageOrder(ctx.model)) {
    if (onlyStages && !onlyStages.has(stageName)) continue
    if (isControlFlow(ctx.model, stageName) || !autoPromotionEnabled(ctx.model, stageName))
      continue
    const stage = ctx.model.stages.get(stageName)!
    for (const req of freightRequests(stage)) {
      const candidate = autoPromotionCandidate(ctx.model, draft, stageName, req.origin.name, now)
      if (!candidate) continue
      const skip = autoPromotionSkipReason(draft, stageName, candidate)
      if (skip) {
        ctx.logger.debug(`auto-promotion of ${candidate.alias} to ${stageName} skipped: ${skip}`)
        continue
      }
      created.push(
        createPromotion(draft, ctx.model, {
          stage: stageName,
          freight: candidate,
          auto: true,
          now,
          runURL: ctx.runURL
        })
      )
    }
  }
  const message = created.length
    ? `auto-promote: ${listed(created.map((p) => `${draft.freight[p.freight]?.alias ?? p.freight} → ${p.stage}`))}`
    : undefined
  return { created, message }
}

/**
 * Runs (or resumes) the next promotion of a stage with the steps of the loaded config: one write
 * to claim it, one for its result. Returns it as it ended this run, or undefined when there is
 * none this run may take (a refusal is passed to `onRefused`, the promotion left as it is).
 */
export async function advanceStage(
  ctx: PipelineContext,
  stageName: string,
  onRefused?: (refused: RefusedPromotion) => void
): Promise<Promotion | undefined> {
  let claim: ClaimOutcome = { kind: 'none' }
  const claimedWrite = await ctx.store.update((draft) => {
    claim = claimNext(ctx, draft, stageName)
    return claim.kind === 'claimed' || claim.kind === 'stopped' ? claim.message : undefined
  })
  const taken = claim as ClaimOutcome
  if (taken.kind === 'refused') {
    onRefused?.(taken.refused)
    return undefined
  }
  if (taken.kind === 'stopped') {
    ctx.logger.error(`✘ ${taken.promotion.name} Errored: ${taken.promotion.message ?? ''}`)
    return taken.promotion
  }
  if (taken.kind !== 'claimed') return undefined
  const snapshot = claimedWrite.state
  const result = await ctx.logger.group(promotionGroupName(snapshot, taken.promotion), () =>
    executeClaimed(ctx, taken.promotion, snapshot, ctx.logger)
  )
  let outcome: RecordOutcome = { kind: 'vanished' }
  const applied = await ctx.store.update((draft) => {
    outcome = recordResult(ctx, draft, result)
    return outcome.kind === 'recorded' ? outcome.message : undefined
  })
  return reportResult(ctx, result, outcome, applied.state)
}

/**
 * Verifies each stage's current collection when its promotion is done: records the phase in the
 * collection's verification history and, when successful, marks its freight verifiedIn the stage.
 * With `reverify`, a stage that already passed is checked again and a failure revokes verifiedIn.
 */
export async function verifyStages(
  ctx: PipelineContext,
  opts: { stages?: Set<string>; reverify?: boolean } = {}
): Promise<PipelineActivity['verified']> {
  const out: PipelineActivity['verified'] = []
  // The state this run last read or wrote: every write below is a CAS on its tip (re-checked).
  const state = await ctx.store.read({ cached: true })
  for (const stageName of stageOrder(ctx.model)) {
    if (opts.stages && !opts.stages.has(stageName)) continue
    const stage = ctx.model.stages.get(stageName)!
    if (isControlFlow(ctx.model, stageName)) continue
    const st = state.stages[stageName]
    const collection = st?.freightHistory[0]
    if (!collection) continue
    if (!hasVerification(stage) && !st.healthChecks?.length) continue
    if (nextPromotion(state, stageName)) continue
    const last = collection.verificationHistory[0]
    const rerun = opts.reverify && last && last.phase !== 'Running'
    if (last && last.phase !== 'Running' && !rerun) continue
    const startedAt = rerun || !last ? ctx.now() : new Date(last.startTime)
    let outcome = await evaluateVerification(stageName, stage, state, {
      project: ctx.project,
      services: ctx.services,
      logger: ctx.logger,
      now: ctx.now,
      repository: ctx.repository,
      startedAt
    })
    if (
      outcome.phase === 'Running' &&
      ctx.now().getTime() - startedAt.getTime() > verificationTimeoutMs(stage)
    ) {
      outcome = {
        ...outcome,
        phase: 'Failed',
        message: `verification timed out: ${outcome.message}`
      }
    }
    const freightNames = Object.values(collection.items).map((i) => i.name)
    const recorded = await ctx.store.update((draft) => {
      const dst = draft.stages[stageName]
      const c = dst?.freightHistory[0]
      if (!c || c.id !== collection.id) return undefined
      const now = ctx.now()
      const current = c.verificationHistory[0]
      // A verification still running is updated in place; a new or re-run one gets an entry.
      const continuing = !rerun && current?.phase === 'Running'
      if (continuing && current.phase === outcome.phase && current.message === outcome.message)
        return undefined
      if (outcome.health) dst.health = outcome.health
      const entry: VerificationInfo = continuing
        ? { ...current, phase: outcome.phase, message: outcome.message }
        : {
            id: `${stageName}.${now.getTime().toString(36)}`,
            startTime: startedAt.toISOString(),
            actor: opts.reverify ? ctx.actor : undefined,
            phase: outcome.phase,
            message: outcome.message
          }
      if (outcome.phase !== 'Running') entry.finishTime = now.toISOString()
      if (continuing) c.verificationHistory[0] = entry
      else c.verificationHistory.unshift(entry)
      if (c.verificationHistory.length > MAX_VERIFICATIONS)
        c.verificationHistory.length = MAX_VERIFICATIONS
      if (outcome.phase === 'Successful') markCollectionVerified(draft, stageName, c, now)
      else if (outcome.phase !== 'Running' && rerun) {
        for (const name of freightNames) delete draft.freight[name]?.status.verifiedIn[stageName]
      }
      return `verification: ${stageName} ${outcome.phase.toLowerCase()}`
    })
    await ctx.onVerification?.({ stage: stageName, ...outcome }, recorded.state)
    if (collection.promotion && (outcome.phase === 'Failed' || outcome.phase === 'Error'))
      await queueRollback(ctx, stageName, {
        on: 'verification',
        promotion: collection.promotion,
        phase: outcome.phase,
        message: outcome.message
      })
    out.push({
      stage: stageName,
      freight: freightNames,
      phase: outcome.phase,
      message: outcome.message
    })
    const line = `verification of ${stageName}: ${outcome.phase} — ${outcome.message}`
    if (outcome.phase === 'Failed' || outcome.phase === 'Error') ctx.logger.warn(line)
    else ctx.logger.info(line)
  }
  return out
}

/**
 * One reconcile: control flow, auto-promotion, promotions, verification, repeated until a pass
 * changes nothing (bounded), so a single run moves freight as far as policy allows. Recording
 * results, control flow, auto-promotion and claiming what that queued are one write per round;
 * promotions of different stages run at once, their results written in batches
 * (promotion-rounds.ts).
 */
export async function reconcilePipeline(
  ctx: PipelineContext,
  opts: { stages?: Set<string>; maxPasses?: number } = {}
): Promise<PipelineActivity> {
  const activity = emptyActivity()
  const maxPasses = opts.maxPasses ?? 25
  const waitingSeen = new Set<string>()
  for (let pass = 0; pass < maxPasses; pass++) {
    let progressed = 0
    let created: Promotion[] = []
    let marked = 0
    const finishedBefore = activity.finished.length
    await runPromotionRounds(ctx, activity, {
      stages: opts.stages,
      waitingSeen,
      open: (draft) => {
        const flow = controlFlowChange(ctx, draft)
        const auto = autoPromoteChange(ctx, draft, opts.stages)
        created = auto.created
        marked = flow.marked
        const parts = [flow.message, auto.message].filter((m) => m !== undefined)
        return parts.length ? parts.join('; ') : undefined
      },
      onOpened: () => {
        for (const p of created) ctx.logger.info(`queued auto-promotion ${p.name}`)
        activity.created.push(...created)
        progressed += marked + created.length
      },
      onRefused: (r) => {
        if (activity.refused.some((x) => x.promotion === r.promotion)) return
        activity.refused.push(r)
        if (r.frozen) ctx.logger.info(`promotion ${r.promotion} waits: ${r.reason}`)
        else ctx.logger.warn(`promotion ${r.promotion} was not run: ${r.reason}`)
      }
    })
    progressed += activity.finished.length - finishedBefore
    const verified = await verifyStages(ctx, { stages: opts.stages })
    for (const v of verified) {
      const known = activity.verified.find((x) => x.stage === v.stage && x.phase === v.phase)
      if (!known) activity.verified.push(v)
      if (v.phase !== 'Running') progressed++
    }
    if (!progressed) break
  }
  activity.waiting = activity.waiting.filter(
    (w) => !activity.finished.some((f) => f.name === w.name)
  )
  return activity
}
