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

/**
 * A stage's schedule at `now`. Stages selected by the same windows share one schedule: pass a
 * `memo` when asking for many stages at one time, so the windows are expanded once per set, not
 * once per stage (a freeze over 3,000 stages is one evaluation).
 */
export function stageSchedule(
  model: ProjectModel,
  stageName: string,
  now: Date,
  memo?: Map<string, ScheduleState>
): ScheduleState {
  const windows = stageWindows(model, stageName)
  if (!windows.length) return { open: true }
  const key = windows.map((w) => w.spec.name).join('\n')
  let s = memo?.get(key)
  if (!s) {
    s = evaluateSchedule(windows, now)
    memo?.set(key, s)
  }
  return s
}

interface RunLike {
  model: ProjectModel
  now: () => Date
}

const perRun = new WeakMap<RunLike, { now: Date; byWindows: Map<string, ScheduleState> }>()

/**
 * A stage's schedule for this run, evaluated once per run (the first time it is asked): every
 * promotion of the stage this run considers sees the same decision.
 */
export function runSchedule(run: RunLike, stageName: string): ScheduleState {
  let cache = perRun.get(run)
  if (!cache) perRun.set(run, (cache = { now: run.now(), byWindows: new Map() }))
  return stageSchedule(run.model, stageName, cache.now, cache.byWindows)
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
  const memo = new Map<string, ScheduleState>()
  for (const name of model.stages.keys()) {
    const s = stageSchedule(model, name, now, memo)
    if (!s.open) out.set(name, s)
  }
  return out
}
