import type { ConfigProblem } from '../util/errors.js'
/**
 * A finding about the configuration, located at the offending field (file relative to the
 * repository with posix separators; field e.g. `spec.requestedFreight[0].sources`).
 */
export interface Problem extends ConfigProblem {
  severity: 'error' | 'warning' | 'notice'
}

/** `file:line:col: error: Stage/uat: spec.requestedFreight[0].sources: must set direct or stages (hint: …)` */
export function formatProblem(p: Problem): string {
  let where = p.file
  if (p.line !== undefined) where += `:${p.line}`
  if (p.line !== undefined && p.column !== undefined) where += `:${p.column}`
  return `${where}: ${p.severity}: ${problemText(p)}`
}

/** The problem without its location and severity (for annotations, which carry both). */
export function problemText(p: Problem): string {
  const resource = p.kind && p.name ? `${p.kind}/${p.name}: ` : p.kind ? `${p.kind}: ` : ''
  const field = p.field ? `${p.field}: ` : ''
  const hint = p.hint ? ` (hint: ${p.hint})` : ''
  return `${resource}${field}${p.message}${hint}`
}

const SEVERITY_ORDER = { error: 0, warning: 1, notice: 2 } as const

/** Stable order: by file, then position; problems without a line come first in their file. */
export function sortProblems(problems: Problem[]): Problem[] {
  return problems
    .map((p, i) => ({ p, i }))
    .sort(
      (a, b) =>
        (a.p.file < b.p.file ? -1 : a.p.file > b.p.file ? 1 : 0) ||
        (a.p.line ?? 0) - (b.p.line ?? 0) ||
        (a.p.column ?? 0) - (b.p.column ?? 0) ||
        SEVERITY_ORDER[a.p.severity] - SEVERITY_ORDER[b.p.severity] ||
        a.i - b.i
    )
    .map((x) => x.p)
}
