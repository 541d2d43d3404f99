/*
 * Promotion windows as a gate on starting promotions: which windows apply to a stage, whether its
 * schedule is open now, and how reports word a freeze. A promotion to a closed stage stays
 * Pending (queued, not failed) and starts on a later run once the schedule opens, unless it was
 * queued with an explicit override (`promote --override-windows`).
 */
import type { ProjectModel } from '../config/index.js'
import { stageSelectorMatches } from './policies.js'
import { evaluateSchedule, type CompiledWindow, type ScheduleState } from './windows.js'

/** The compiled windows whose stageSelector selects a stage (all windows when it has none). */
export function stageWindows(model: ProjectModel, stageName: string): CompiledWindow[] {
  const stage = model.stages.get(stageName)
  if (!stage) return []
  return (model.promotionWindows ?? []).filter(
    (w) => !w.spec.stageSelector || stageSelectorMatches(w.spec.stageSelector, stageName, stage)
  )
}

/** A stage's schedule at `now` (uncached: for reports and plan, which look once). */
export function stageSchedule(model: ProjectModel, stageName: string, now: Date): ScheduleState {
  const windows = stageWindows(model, stageName)
  return windows.length ? evaluateSchedule(windows, now) : { open: true }
}

interface RunLike {
  model: ProjectModel
  now: () => Date
}

const perRun = new WeakMap<RunLike, Map<string, ScheduleState>>()

/**
 * A stage's schedule for this run, evaluated once per run (the first time it is asked): every
 * promotion of the stage this run considers sees the same decision.
 */
export function runSchedule(run: RunLike, stageName: string): ScheduleState {
  let cache = perRun.get(run)
  if (!cache) perRun.set(run, (cache = new Map<string, ScheduleState>()))
  let s = cache.get(stageName)
  if (!s) cache.set(stageName, (s = stageSchedule(run.model, stageName, run.now())))
  return s
}

/** "frozen until <time> (<reason>)" or "frozen (<reason>), no known reopening". */
export function frozenText(s: ScheduleState): string {
  const why = s.reason ?? 'closed by a promotion window'
  return s.nextOpen
    ? `frozen until ${s.nextOpen.toISOString()} (${why})`
    : `frozen (${why}), no known reopening`
}

/** Every stage whose schedule is closed at `now`, with its freeze text (for reports). */
export function frozenStages(model: ProjectModel, now: Date): Map<string, ScheduleState> {
  const out = new Map<string, ScheduleState>()
  if (!model.promotionWindows?.length) return out
  for (const name of model.stages.keys()) {
    const s = stageSchedule(model, name, now)
    if (!s.open) out.set(name, s)
  }
  return out
}
