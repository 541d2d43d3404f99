/*
 * Promotion windows: the schedule of the windows matching one stage (open or closed now, and
 * when that next changes). Parsing and compiling a window (iCal times, RFC 5545 rules, time
 * zones) is config's job: src/config/windows.ts.
 */
import type { CompiledWindow, PromotionWindowSpec } from '../config/windows.js'

export {
  compileWindow,
  parseICalTime,
  WindowSpecError,
  type CompiledWindow,
  type ParsedTime,
  type PromotionWindowSpec,
  type WindowKind
} from '../config/windows.js'

/** How far ahead nextOpen/nextClose look: beyond this a freeze has "no known end". */
export const HORIZON_MS = 400 * 24 * 3600_000

export interface ScheduleState {
  open: boolean
  /** Why it is closed (the windows responsible), set when closed. */
  reason?: string
  /** When it next opens (closed only); absent when no opening is known within the horizon. */
  nextOpen?: Date
  /** When it next closes (open only), and why. */
  nextClose?: Date
  nextCloseReason?: string
}

interface Expanded {
  spec: PromotionWindowSpec
  /** Sorted by start. */
  occurrences: Array<[number, number]>
  longest: number
}

function expand(w: CompiledWindow, from: number, to: number): Expanded {
  const occurrences = w.occurrences(from, to).sort((a, b) => a[0] - b[0])
  const longest = occurrences.reduce((m, [s, e]) => Math.max(m, e - s), 0)
  return { spec: w.spec, occurrences, longest }
}

/** Binary search for the last occurrence starting at or before t, then back over overlaps. */
function activeAt(w: Expanded, t: number): boolean {
  const occ = w.occurrences
  let lo = 0
  let hi = occ.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (occ[mid][0] <= t) lo = mid + 1
    else hi = mid
  }
  for (let i = lo - 1; i >= 0 && occ[i][0] > t - w.longest - 1; i--) if (t < occ[i][1]) return true
  return false
}

function closedReason(windows: Expanded[], t: number): string | undefined {
  const deny = windows.filter((w) => w.spec.kind === 'Deny' && activeAt(w, t))
  if (deny.length) return `frozen by Deny window ${deny.map((w) => `'${w.spec.name}'`).join(', ')}`
  const allow = windows.filter((w) => w.spec.kind === 'Allow')
  if (allow.length && !allow.some((w) => activeAt(w, t)))
    return `outside Allow window ${allow.map((w) => `'${w.spec.name}'`).join(', ')}`
  return undefined
}

/** The schedule of the windows matching one stage, at `now`, with its next change. */
export function evaluateSchedule(windows: CompiledWindow[], now: Date): ScheduleState {
  if (!windows.length) return { open: true }
  const t = now.getTime()
  // Expand each window once over the horizon; the schedule can only change at a boundary.
  const expanded = windows.map((w) => expand(w, t, t + HORIZON_MS))
  const reason = closedReason(expanded, t)
  const boundaries = new Set<number>()
  for (const w of expanded)
    for (const [s, e] of w.occurrences) {
      if (s > t) boundaries.add(s)
      if (e > t && Number.isFinite(e)) boundaries.add(e)
    }
  const sorted = [...boundaries].sort((a, b) => a - b)
  if (reason) {
    const next = sorted.find((b) => closedReason(expanded, b) === undefined)
    return { open: false, reason, ...(next !== undefined ? { nextOpen: new Date(next) } : {}) }
  }
  for (const b of sorted) {
    const why = closedReason(expanded, b)
    if (why) return { open: true, nextClose: new Date(b), nextCloseReason: why }
  }
  return { open: true }
}
