import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import crypto from 'node:crypto'
import type { ProjectModel } from '../config/index.js'
import { isControlFlow, stageOrder } from '../config/graph.js'
import { messageChannelLookup } from '../config/model.js'
import type { Freight } from '../freight/types.js'
import { originKey } from '../freight/types.js'
import { runPromotion } from '../promotion/engine.js'
import type { Services } from '../runtime/services.js'
import type { StateStore } from '../state/store.js'
import type { Promotion, State, VerificationInfo } from '../state/types.js'
import type { Logger } from '../util/logger.js'
import { errorMessage } from '../util/errors.js'
import { availableFreight, freightRequests } from './availability.js'
import {
  collectionWith,
  currentCollection,
  markCollectionVerified,
  markCurrentlyIn,
  MAX_VERIFICATIONS,
  pushCollection
} from './collections.js'
import { autoPromotionEnabled } from './policies.js'
import {
  applyPromotionResult,
  bindToConfig,
  claimPromotion,
  createPromotion,
  isTerminal,
  nextPromotion,
  promotionCollection,
  stagePromotions
} from './promotions.js'
import { evaluateVerification } from './verification.js'
import type { PromotionHook } from './deploy-hook.js'
import type { VerificationHook } from './commit-status-hook.js'
import { hasVerification, verificationTimeoutMs } from './verification-config.js'
import { cloneJson } from '../state/draft.js'
import { frozenText, runSchedule } from './gates.js'
import { queueRollback } from './rollback.js'

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
}

export function newRunId(): string {
  return `${os.hostname()}:${process.pid}:${crypto.randomBytes(4).toString('hex')}`
}

export function defaultWorkRoot(): string {
  const base = process.env.RUNNER_TEMP || os.tmpdir()
  fs.mkdirSync(base, { recursive: true })
  return fs.mkdtempSync(path.join(base, 'waybill-'))
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

/** Control-flow stages: every available freight is verified there at once and the newest is current. */
export async function reconcileControlFlow(ctx: PipelineContext): Promise<number> {
  let marked = 0
  await ctx.store.update((draft) => {
    marked = 0
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
    return marked
      ? `control-flow: ${names.length ? names.join(', ') : 'current freight updated'}`
      : undefined
  })
  return marked
}

/** Queues promotions for every stage whose policy enables auto-promotion. */
export async function autoPromote(
  ctx: PipelineContext,
  onlyStages?: Set<string>
): Promise<Promotion[]> {
  let created: Promotion[] = []
  await ctx.store.update((draft) => {
    created = []
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
    return created.length
      ? `auto-promote: ${created.map((p) => `${draft.freight[p.freight]?.alias ?? p.freight} → ${p.stage}`).join(', ')}`
      : undefined
  })
  for (const p of created) ctx.logger.info(`queued auto-promotion ${p.name}`)
  return created
}

/**
 * Why this run may not run promotions of a stage, or undefined when it may. A stage that does not
 * auto-promote is promoted only by a run asked to promote it (the environment-gated `promote`
 * job): a Pending or Running promotion found in the state (which anyone who can push the state
 * branch can write) must not reach it from the scheduled reconcile, past the environment's
 * required reviewers.
 */
export function promotionRunRefusal(
  ctx: PipelineContext,
  stageName: string,
  promotion?: Promotion
): string | undefined {
  if (autoPromotionEnabled(ctx.model, stageName) || ctx.promoteStages?.has(stageName))
    return undefined
  // A promotion that a promote run started (past the environment's reviewers) and that now waits
  // (a pull request, Argo CD health) is resumed by whichever run comes next: the schedule, or the
  // delete event of its merged branch. Its steps are still the reviewed config's (bindToConfig).
  if (promotion?.phase === 'Running' && promotion.startedBy?.command === 'promote') return undefined
  return `stage ${stageName} does not auto-promote: its promotions run only in a run asked to promote it (waybill promote --stage ${stageName}, the environment-gated job), never in reconcile`
}

/**
 * Runs (or resumes) the next promotion of a stage with the steps of the loaded config. Returns it
 * as it ended this run, or undefined when there is none this run may take (a refusal is passed
 * to `onRefused`, the promotion left as it is).
 */
export async function advanceStage(
  ctx: PipelineContext,
  stageName: string,
  onRefused?: (refused: RefusedPromotion) => void
): Promise<Promotion | undefined> {
  let claimed: Promotion | undefined
  let snapshot: State | undefined
  let refused: RefusedPromotion | undefined
  let stopped: Promotion | undefined
  await ctx.store.update((draft) => {
    claimed = refused = stopped = undefined
    const next = nextPromotion(draft, stageName)
    if (!next) return undefined
    const refusal = promotionRunRefusal(ctx, stageName, next)
    if (refusal) {
      refused = { promotion: next.name, stage: stageName, reason: refusal }
      return undefined
    }
    const starting = next.phase === 'Pending'
    // Windows gate starting a promotion; one already running (waiting on a PR, health) goes on.
    const schedule = starting ? runSchedule(ctx, stageName) : undefined
    if (schedule && !schedule.open && !next.windowOverride) {
      refused = {
        promotion: next.name,
        stage: stageName,
        reason: frozenText(schedule),
        frozen: true
      }
      return undefined
    }
    if (!claimPromotion(draft, next.name, ctx.runId, ctx.now(), ctx.leaseMs)) return undefined
    const live = draft.promotions[next.name]
    const now = ctx.now()
    live.executedBy = {
      runId: ctx.runId,
      runURL: ctx.runURL,
      actor: ctx.actor,
      command: ctx.promoteStages?.has(stageName) ? 'promote' : 'reconcile',
      at: now.toISOString()
    }
    if (starting) live.startedBy = { ...live.executedBy }
    const mismatch = bindToConfig(live, ctx.model, starting)
    if (mismatch) {
      const errored: Promotion = {
        ...cloneJson(live),
        phase: 'Errored',
        message: `not run: ${mismatch}`,
        finishedAt: now.toISOString()
      }
      applyPromotionResult(
        draft,
        ctx.model,
        { promotion: errored, effects: [], healthChecks: [] },
        now
      )
      stopped = errored
      return `promotion: ${next.name} errored (steps do not match the config)`
    }
    const runEntry = (message: string) =>
      draft.audit.push({
        at: now.toISOString(),
        actor: ctx.actor,
        action: 'run',
        stage: stageName,
        freight: live.freight,
        promotion: live.name,
        runURL: ctx.runURL,
        message
      })
    if (!starting && live.executedBy.runId !== live.startedBy?.runId)
      runEntry(`resumed by ${live.executedBy.command ?? 'reconcile'} run ${ctx.runId}`)
    if (schedule && !schedule.open && live.windowOverride)
      draft.audit.push({
        at: now.toISOString(),
        actor: live.windowOverride.actor,
        action: 'override-windows',
        stage: stageName,
        freight: live.freight,
        promotion: live.name,
        runURL: live.windowOverride.runURL,
        message: `started while ${schedule.reason ?? 'the promotion windows were closed'}: windows overridden by ${live.windowOverride.actor ?? 'unknown'} (run ${live.windowOverride.runURL ?? ctx.runId})`
      })
    if (starting)
      runEntry(
        `started by ${ctx.promoteStages?.has(stageName) ? 'promote' : 'reconcile'} run ${ctx.runId}`
      )
    const freight = draft.freight[next.freight]
    // Promotions queued together (one per origin) each see what the previous one deployed.
    if (starting && freight)
      draft.promotions[next.name].freightCollection = promotionCollection(
        draft,
        ctx.model,
        stageName,
        freight,
        ctx.now()
      )
    claimed = cloneJson(draft.promotions[next.name])
    snapshot = cloneJson(draft)
    return `promotion: ${next.name} running`
  })
  if (refused) {
    onRefused?.(refused)
    return undefined
  }
  if (stopped) {
    ctx.logger.error(`✘ ${stopped.name} Errored: ${stopped.message ?? ''}`)
    return stopped
  }
  if (!claimed || !snapshot) return undefined
  const promotion = claimed
  if (promotion.stepExecutionMetadata.length === 0) await ctx.onPromotion?.(promotion, snapshot)
  const stage = ctx.model.stages.get(stageName)
  const workRoot = path.join(ctx.workRoot, promotion.name)
  fs.mkdirSync(workRoot, { recursive: true })
  let result: Awaited<ReturnType<typeof runPromotion>>
  try {
    result = await ctx.logger.group(
      `promote ${snapshot.freight[promotion.freight]?.alias ?? promotion.freight} → ${stageName}`,
      () =>
        runPromotion(promotion, {
          state: snapshot!,
          project: ctx.project,
          stageVars: stage?.spec.vars ?? [],
          services: ctx.services,
          logger: ctx.logger,
          workRoot,
          now: ctx.now,
          waitMs: ctx.waitMs,
          messageChannel: messageChannelLookup(ctx.model)
        })
    )
  } catch (err) {
    const now = ctx.now().toISOString()
    result = {
      promotion: { ...promotion, phase: 'Errored', message: errorMessage(err), finishedAt: now },
      effects: [],
      healthChecks: []
    }
  } finally {
    fs.rmSync(workRoot, { recursive: true, force: true })
  }
  /** The promotion as the state has it when this run's result could not be recorded. */
  let unrecorded: { live?: Promotion } | undefined
  const applied = await ctx.store.update((draft) => {
    const live = draft.promotions[promotion.name]
    unrecorded = undefined
    if (!live || live.lease?.holder !== ctx.runId) {
      // Aborted (or taken over) while we ran: keep what the state says.
      unrecorded = { live: live && cloneJson(live) }
      return undefined
    }
    applyPromotionResult(draft, ctx.model, result, ctx.now())
    const p = result.promotion
    return `promotion: ${p.name} ${p.phase.toLowerCase()}${p.message ? ` (${p.message.split('\n')[0].slice(0, 120)})` : ''}`
  })
  if (unrecorded?.live) {
    const live = unrecorded.live
    ctx.logger.warn(
      `${live.name} is ${live.phase} in the state: aborted or taken over by another run while this one ran (this run's result, ${result.promotion.phase}, was not recorded)`
    )
    return live
  }
  if (unrecorded) {
    const vanished = vanishedOutcome(result.promotion)
    ctx.logger.error(`✘ ${vanished.name} ${vanished.phase}: ${vanished.message}`)
    return vanished
  }
  const p = result.promotion
  if (p.phase !== 'Running') await ctx.onPromotion?.(p, applied.state)
  if (p.phase === 'Succeeded') ctx.logger.info(`✔ ${p.name} succeeded`)
  else if (p.phase === 'Running') ctx.logger.info(`… ${p.name} waiting: ${p.message ?? ''}`)
  else ctx.logger.error(`✘ ${p.name} ${p.phase}: ${p.message ?? ''}`)
  if (p.phase === 'Failed' || p.phase === 'Errored')
    await queueRollback(ctx, stageName, {
      on: 'promotion',
      promotion: p.name,
      phase: p.phase,
      message: p.message
    })
  return p
}

/**
 * A promotion whose record vanished from the state while this run executed it: the steps ran,
 * possibly deployed, and nothing records it, so it is reported as an error, never a success.
 */
function vanishedOutcome(result: Promotion): Promotion {
  return {
    ...result,
    phase: 'Errored',
    message: `its record vanished from the state while this run executed it (the steps ended ${result.phase}${result.message ? `: ${result.message}` : ''}); the result was not recorded: check the stage and promote again`
  }
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
 * changes nothing (bounded), so a single run moves freight as far as policy allows.
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
    progressed += await reconcileControlFlow(ctx)
    const created = await autoPromote(ctx, opts.stages)
    activity.created.push(...created)
    progressed += created.length
    for (const stageName of stageOrder(ctx.model)) {
      if (opts.stages && !opts.stages.has(stageName)) continue
      for (;;) {
        const p = await advanceStage(ctx, stageName, (r) => {
          if (activity.refused.some((x) => x.promotion === r.promotion)) return
          activity.refused.push(r)
          if (r.frozen) ctx.logger.info(`promotion ${r.promotion} waits: ${r.reason}`)
          else ctx.logger.warn(`promotion ${r.promotion} was not run: ${r.reason}`)
        })
        if (!p) break
        if (p.phase === 'Running') {
          if (!waitingSeen.has(p.name)) activity.waiting.push(p)
          waitingSeen.add(p.name)
          break
        }
        activity.finished.push(p)
        progressed++
      }
    }
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
