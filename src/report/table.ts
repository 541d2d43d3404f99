/**
 * Terminal output for `waybill status`: the stages as an aligned table, with ANSI colours when
 * the output is a TTY. Control characters from freight fields are stripped so that a hostile
 * string cannot move the cursor or change colours.
 */
import type { ProjectModel } from '../config/index.js'
import type { State } from '../state/types.js'
import { replaceNonPrintable, displayText } from '../util/text.js'
import { pipelineView, type StageStatus } from './view.js'

const ANSI = {
  reset: '\x1b[0m',
  bold: '\x1b[1m',
  dim: '\x1b[2m',
  red: '\x1b[31m',
  green: '\x1b[32m',
  yellow: '\x1b[33m'
}

/** Removes control characters (ESC sequences included) from text shown in a terminal. */
export function terminalSafe(text: unknown): string {
  return replaceNonPrintable(displayText(text))
}

/** Visible width (ANSI sequences excluded). */
function width(s: string): number {
  // eslint-disable-next-line no-control-regex
  return [...s.replace(/\x1b\[[0-9;]*m/g, '')].length
}

/** Aligns rows into columns separated by two spaces; the first row is the header. */
export function formatTable(rows: string[][]): string {
  const widths: number[] = []
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, width(c))))
  return rows
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c + ' '.repeat(widths[i] - width(c))))
        .join('  ')
        .trimEnd()
    )
    .join('\n')
}

const STATUS_COLOR: Record<StageStatus, string> = {
  healthy: ANSI.green,
  failed: ANSI.red,
  progressing: ANSI.yellow,
  unknown: ANSI.dim
}

/** The stages of the pipeline, one row each, in promotion order. */
export function renderStatusTable(
  model: ProjectModel,
  state: State,
  opts: { color?: boolean; now?: Date } = {}
): string {
  const c = (code: string, s: string) => (opts.color ? `${code}${s}${ANSI.reset}` : s)
  const view = pipelineView(model, state, opts.now)
  const rows: string[][] = [
    ['STAGE', 'FREIGHT', 'HEALTH', 'VERIFIED', 'PROMOTION'].map((h) => c(ANSI.bold, h))
  ]
  for (const s of view.stages) {
    const multi = s.origins.length > 1
    const freight = s.current.length
      ? s.current.map((f) => terminalSafe(multi ? `${f.warehouse}:${f.alias}` : f.alias)).join(', ')
      : c(ANSI.dim, '-')
    const health = s.controlFlow ? 'control flow' : terminalSafe(s.health ?? '-')
    const v = s.verification
    const verified = !v
      ? '-'
      : v.phase === 'Verified' || v.phase === 'Successful'
        ? c(ANSI.green, 'yes')
        : v.phase === 'Running' || v.phase === 'Pending'
          ? c(ANSI.yellow, 'running')
          : c(ANSI.red, terminalSafe(v.phase.toLowerCase()))
    const p = s.pending[0] ?? s.lastPromotion
    const promotion =
      (p
        ? `${terminalSafe(p.phase)} ${terminalSafe(state.freight[p.freight]?.alias ?? p.freight.slice(0, 7))}`
        : '-') + (s.frozen ? ` ${c(ANSI.yellow, terminalSafe(s.frozen))}` : '')
    rows.push([
      c(STATUS_COLOR[s.status], terminalSafe(s.name)),
      freight,
      health,
      verified,
      promotion
    ])
  }
  return formatTable(rows)
}
