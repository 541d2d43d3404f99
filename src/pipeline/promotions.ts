import { ulid } from 'ulid'
import type { ProjectModel } from '../config/index.js'
import type { Freight } from '../freight/types.js'
import { originKey } from '../freight/types.js'
import { inflateSteps, type StepVar } from '../promotion/tasks.js'
import { draftOverlay } from '../state/draft.js'
import { compact } from '../state/serialize.js'
import type { StepEffect } from '../steps/types.js'
import type { FreightCollection, HealthCheck, Promotion, State } from '../state/types.js'
import { isTerminalPhase } from '../state/types.js'
import { WaybillError } from '../util/errors.js'
import { freightCollectionId } from '../freight/id.js'
import {
  collectionWith,
  markCollectionVerified,
  pushCollection,
  stageState
} from './collections.js'
import { hasVerification } from './verification-config.js'
import { availableFreight, freightRequests } from './availability.js'

export function isTerminal(p: Promotion): boolean {
  return isTerminalPhase(p.phase)
}

const byName = (a: { name: string }, b: { name: string }) =>
  a.name < b.name ? -1 : a.name > b.name ? 1 : 0

/** Promotions of a stage in creation order (names embed a ULID, so lexical order is creation order). */
export function stagePromotions(state: State, stage: string): Promotion[] {
  const keys = indexedStageKeys(state.promotions, stage)
  // Read through state.promotions so that a draft hands out its own (writable) records.
  if (keys) return keys.map((key) => state.promotions[key])
  return Object.values(state.promotions)
    .filter((p) => p.stage === stage)
    .sort(byName)
}

/** A key of a promotions map and the name of the promotion it holds. */
interface KeyedName {
  key: string
  name: string
}

/** The keys of a promotions map by stage, each stage's in stagePromotions order. */
type KeysByStage = Map<string, KeyedName[]>

/** Per frozen promotions map; null when a record is not frozen or unnamed (so only a scan can tell). */
const byStageCache = new WeakMap<object, KeysByStage | null>()

function isFrozenNamedRecord(p: unknown): p is Promotion {
  return (
    typeof p === 'object' &&
    p !== null &&
    Object.isFrozen(p) &&
    typeof (p as { name?: unknown }).name === 'string'
  )
}

function indexByStage(promotions: Record<string, Promotion>): KeysByStage | null {
  const index: KeysByStage = new Map()
  for (const [key, p] of Object.entries(promotions)) {
    if (!isFrozenNamedRecord(p)) return null
    const { stage, name } = p
    const group = index.get(stage)
    if (group) group.push({ key, name })
    else index.set(stage, [{ key, name }])
  }
  for (const group of index.values()) group.sort(byName)
  return index
}

function frozenIndex(promotions: Record<string, Promotion>): KeysByStage | null {
  let index = byStageCache.get(promotions)
  if (index === undefined) {
    index = indexByStage(promotions)
    byStageCache.set(promotions, index)
  }
  return index
}

const hasRepeatedName = (sorted: KeyedName[]) =>
  sorted.some((e, i) => i > 0 && e.name === sorted[i - 1].name)

/**
 * The keys of a stage's promotions in stagePromotions order, from the index of the frozen map
 * `promotions` is (or is a draft of) with the draft's changed keys read afresh; undefined when
 * only a scan can tell. A name found twice leaves the order to the map's key order: scan.
 */
function indexedStageKeys(
  promotions: Record<string, Promotion>,
  stage: string
): string[] | undefined {
  const overlay = draftOverlay(promotions)
  const index = overlay && frozenIndex(overlay.base)
  if (!overlay || !index) return undefined
  const indexed = index.get(stage) ?? []
  const { changedKeys } = overlay
  if (changedKeys.size === 0) return indexed.map((e) => e.key)
  const entries = indexed.filter((e) => !changedKeys.has(e.key))
  for (const key of changedKeys) {
    // Deleted keys read undefined; promotions of another stage are skipped.
    const p = promotions[key] as Promotion | undefined
    if (p?.stage !== stage) continue
    if (typeof p.name !== 'string') return undefined
    entries.push({ key, name: p.name })
  }
  entries.sort(byName)
  return hasRepeatedName(entries) ? undefined : entries.map((e) => e.key)
}

/** The promotion a stage works on next: the one in progress, else the oldest pending one. */
export function nextPromotion(state: State, stage: string): Promotion | undefined {
  const ps = stagePromotions(state, stage)
  return ps.find((p) => p.phase === 'Running') ?? ps.find((p) => p.phase === 'Pending')
}

export interface NewPromotion {
  stage: string
  freight: Freight
  actor?: string
  runURL?: string
  auto: boolean
  /** A manual promotion of freight that is not the newest candidate holds auto-promotion. */
  hold?: boolean
  now: Date
  /** `promote --override-windows`: may start while the stage's promotion windows are closed. */
  overrideWindows?: boolean
}

/**
 * The collection a promotion of `freight` deploys, computed when it starts (as Kargo does): the
 * stage's current freight with this freight's origin replaced. A requested origin the stage has
 * never received is filled with the newest freight available to the stage from it, so that the
 * first promotion of a multi-warehouse stage sees an artifact of every origin.
 */
export function promotionCollection(
  draft: State,
  model: ProjectModel,
  stageName: string,
  freight: Freight,
  now: Date
): FreightCollection {
  const collection = collectionWith(draft, stageName, freight)
  const stage = model.stages.get(stageName)
  if (!stage) return collection
  let filled = false
  for (const req of freightRequests(stage)) {
    const key = originKey(req.origin)
    if (collection.items[key]) continue
    const newest = availableFreight(draft, stageName, stage, req.origin, now)[0]
    if (!newest) continue
    collection.items[key] = { name: newest.name, origin: newest.origin }
    filled = true
  }
  if (filled)
    collection.id = freightCollectionId(Object.values(collection.items).map((i) => i.name))
  return collection
}

/** Adds a Pending promotion to the draft: steps inflated from the stage's template now (as Kargo does). */
export function createPromotion(draft: State, model: ProjectModel, req: NewPromotion): Promotion {
  const stage = model.stages.get(req.stage)
  if (!stage)
    throw new WaybillError(
      `stage '${req.stage}' does not exist`,
      `stages: ${[...model.stages.keys()].join(', ')}`
    )
  const { steps, vars } = configuredSteps(model, req.stage)
  const id = ulid(req.now.getTime()).toLowerCase()
  const name = `${req.stage}.${id}.${req.freight.name.slice(0, 7)}`
  const promotion: Promotion = {
    name,
    stage: req.stage,
    freight: req.freight.name,
    freightCollection: promotionCollection(draft, model, req.stage, req.freight, req.now),
    phase: 'Pending',
    createdAt: req.now.toISOString(),
    actor: req.actor,
    runURL: req.runURL,
    auto: req.auto,
    hold: req.hold,
    ...(req.overrideWindows
      ? { windowOverride: { actor: req.actor, runURL: req.runURL, at: req.now.toISOString() } }
      : {}),
    steps: steps,
    vars,
    currentStep: 0,
    stepExecutionMetadata: [],
    state: {}
  }
  draft.promotions[name] = promotion
  draft.audit.push({
    at: promotion.createdAt,
    actor: req.actor,
    action: req.auto ? 'auto-promote' : 'promote',
    stage: req.stage,
    freight: req.freight.name,
    promotion: name,
    runURL: req.runURL
  })
  return promotion
}

/**
 * The steps (tasks inflated) and vars a promotion to `stageName` runs, from the loaded config: the
 * reviewed config at the commit this run checked out, never the copy stored in the state.
 */
export function configuredSteps(
  model: ProjectModel,
  stageName: string
): { steps: unknown[]; vars: StepVar[] } {
  const stage = model.stages.get(stageName)
  const template = stage?.spec.promotionTemplate?.spec ?? {}
  const vars = [...(stage?.spec.vars ?? []), ...(template.vars ?? [])]
  return { steps: inflateSteps(template.steps ?? [], model, vars), vars }
}

/**
 * Makes a promotion about to run use the config's steps; returns why it must not run otherwise.
 * A promotion that has not started takes the config's steps and vars now (nothing of the stored
 * ones ran), whatever the state branch says it holds. One already running (a crashed or waiting
 * run's) resumes only when its stored steps are exactly the config's: its step index, outputs and
 * metadata refer to that list, so a config change mid-way, or steps written into the state by
 * hand, stop it instead of running something nobody reviewed.
 */
export function bindToConfig(
  p: Promotion,
  model: ProjectModel,
  starting: boolean
): string | undefined {
  let configured: { steps: unknown[]; vars: StepVar[] }
  try {
    configured = configuredSteps(model, p.stage)
  } catch (err) {
    return `its steps cannot be resolved from the config: ${(err as Error).message}`
  }
  if (configured.steps.length === 0) return `stage ${p.stage} has no promotion steps in the config`
  if (starting) {
    p.steps = configured.steps
    p.vars = configured.vars
    p.currentStep = 0
    p.stepExecutionMetadata = []
    p.state = {}
    delete p.healthChecks
    return undefined
  }
  if (
    compact(p.steps) !== compact(configured.steps) ||
    compact(p.vars ?? []) !== compact(configured.vars)
  )
    return `its steps or vars differ from the promotion template of stage ${p.stage} in the config this run checked out (the config changed while it ran, or the state was edited); it was stopped without running another step: promote again`
  if (!Number.isInteger(p.currentStep) || p.currentStep < 0 || p.currentStep >= p.steps.length)
    return `its current step ${p.currentStep} is outside its ${p.steps.length} steps`
  return undefined
}

/** Takes the run lease on a promotion; false if another run holds a live lease or it is finished. */
export function claimPromotion(
  draft: State,
  name: string,
  holder: string,
  now: Date,
  leaseMs: number
): boolean {
  const p = draft.promotions[name]
  if (!p || isTerminal(p)) return false
  if (p.lease && p.lease.holder !== holder && Date.parse(p.lease.expiresAt) > now.getTime())
    return false
  p.lease = { holder, expiresAt: new Date(now.getTime() + leaseMs).toISOString() }
  if (p.phase === 'Pending') {
    p.phase = 'Running'
    p.startedAt = now.toISOString()
  }
  return true
}

/** Records the engine's result and, for a successful promotion, moves the stage to the new collection. */
export function applyPromotionResult(
  draft: State,
  model: ProjectModel,
  result: { promotion: Promotion; effects: StepEffect[]; healthChecks: HealthCheck[] },
  now: Date
): void {
  const p: Promotion = { ...result.promotion }
  delete p.lease
  draft.promotions[p.name] = p
  const st = stageState(draft, p.stage)
  if (!isTerminal(p)) {
    st.currentPromotion = p.name
    return
  }
  if (st.currentPromotion === p.name) delete st.currentPromotion
  st.lastPromotion = {
    name: p.name,
    freight: p.freight,
    phase: p.phase,
    finishedAt: p.finishedAt ?? now.toISOString()
  }
  applyEffects(draft, result.effects)
  if (p.phase !== 'Succeeded' || !p.freightCollection) return
  const collection: FreightCollection = {
    ...p.freightCollection,
    promotion: p.name,
    verificationHistory: []
  }
  pushCollection(draft, p.stage, collection, now)
  st.healthChecks = result.healthChecks.length ? result.healthChecks : undefined
  const freight = draft.freight[p.freight]
  if (freight) {
    const key = originKey(freight.origin)
    if (p.hold) {
      st.autoPromotionHolds[key] = {
        freightName: p.freight,
        origin: freight.origin,
        promotionName: p.name,
        actor: p.actor,
        createdAt: now.toISOString()
      }
    } else if (!p.auto) delete st.autoPromotionHolds[key]
  }
  const stage = model.stages.get(p.stage)
  if (stage && !hasVerification(stage) && !st.healthChecks) {
    collection.verificationHistory.unshift({
      id: `${p.name}.verify`,
      startTime: now.toISOString(),
      finishTime: now.toISOString(),
      phase: 'Successful',
      message: stage.spec.verification?.analysisTemplates?.length
        ? `skipped analysisTemplates (${stage.spec.verification.analysisTemplates.map((t) => t.name).join(', ')}): they need Argo Rollouts; use spec.verification.checks`
        : 'no verification configured'
    })
    markCollectionVerified(draft, p.stage, collection, now)
  }
}

function applyEffects(draft: State, effects: StepEffect[]): void {
  for (const e of effects) {
    if (e.kind === 'metadata') {
      if (e.target === 'Stage') Object.assign(stageState(draft, e.name).metadata, e.values)
      else {
        const f = findFreight(draft, e.name)
        if (f) Object.assign(f.status.metadata, e.values)
      }
    } else if (e.kind === 'freight-alias') {
      const f = findFreight(draft, e.freight)
      const taken = Object.values(draft.freight).some(
        (x) => x.alias === e.alias && x.name !== f?.name
      )
      if (f && !taken) f.alias = e.alias
    }
  }
}

/** Finds freight by ID, alias or unambiguous ID prefix (≥ 7 chars). */
export function findFreight(state: State, ref: string): Freight | undefined {
  if (state.freight[ref]) return state.freight[ref]
  const byAlias = Object.values(state.freight).find((f) => f.alias === ref)
  if (byAlias) return byAlias
  if (ref.length >= 7) {
    const matches = Object.values(state.freight).filter((f) => f.name.startsWith(ref))
    if (matches.length === 1) return matches[0]
  }
  return undefined
}

/** Ends a pending or running promotion as Aborted. */
export function abortPromotion(
  draft: State,
  name: string,
  actor: string | undefined,
  now: Date
): Promotion {
  const p = draft.promotions[name]
  if (!p) throw new WaybillError(`promotion '${name}' does not exist`)
  if (isTerminal(p)) throw new WaybillError(`promotion '${name}' already finished (${p.phase})`)
  p.phase = 'Aborted'
  p.message = `aborted by ${actor ?? 'unknown'}`
  p.finishedAt = now.toISOString()
  delete p.lease
  const st = stageState(draft, p.stage)
  if (st.currentPromotion === name) delete st.currentPromotion
  st.lastPromotion = { name, freight: p.freight, phase: 'Aborted', finishedAt: p.finishedAt }
  draft.audit.push({
    at: p.finishedAt,
    actor,
    action: 'abort',
    stage: p.stage,
    freight: p.freight,
    promotion: name
  })
  return p
}
