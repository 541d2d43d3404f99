/**
 * Drift (a stage changed outside Waybill: src/pipeline/drift.ts) for each output: terminal text,
 * the job summary (Markdown) and the status page (HTML). Every field is escaped for its medium:
 * commit subjects and authors come from repositories anyone may push to.
 */
import type { DriftFinding } from '../pipeline/drift.js'
import { escapeHtml as h, escapeMarkdown } from './escape.js'
import { terminalSafe } from './table.js'

const short = (sha: string | null) => (sha === null ? '(deleted)' : sha.slice(0, 12))

/** `waybill status` in a terminal: one line per finding and its hint; '' without drift. */
export function driftText(findings: DriftFinding[]): string {
  if (!findings.length) return ''
  const lines = ['Drift (changed outside Waybill)']
  for (const f of findings)
    lines.push(
      `  ${terminalSafe(f.stage)}: ${terminalSafe(f.message)}`,
      `    → ${terminalSafe(f.hint)}`
    )
  return lines.join('\n')
}

/** The job summary's drift section; [] without drift. */
export function driftMarkdown(findings: DriftFinding[]): string[] {
  if (!findings.length) return []
  const out = [
    '### :warning: Drift',
    '',
    'Changed outside Waybill: the state names what Waybill deployed, the stage runs something else.',
    '',
    '| Stage | What | Expected | Actual | Changed by | What to do |',
    '| --- | --- | --- | --- | --- | --- |'
  ]
  for (const f of findings)
    out.push(
      `| ${escapeMarkdown(f.stage)} | ${escapeMarkdown(f.target)} | \`${escapeMarkdown(short(f.expected))}\` | \`${escapeMarkdown(short(f.actual))}\` | ${escapeMarkdown(f.changedBy ?? '-')} | ${escapeMarkdown(f.hint)} |`
    )
  return out
}

/** The status page's drift section; '' without drift. */
export function driftHtml(findings: DriftFinding[]): string {
  if (!findings.length) return ''
  const rows = findings.map(
    (f) => `<tr data-stage="${h(f.stage)}">
<td><b>${h(f.stage)}</b></td>
<td class="msg">${h(f.target)}</td>
<td><code title="${h(f.expected)}">${h(short(f.expected))}</code></td>
<td><code title="${h(f.actual ?? '')}">${h(short(f.actual))}</code></td>
<td class="msg">${h(f.changedBy ?? '-')}</td>
<td class="msg">${h(f.hint)}</td>
</tr>`
  )
  return `<h2 id="drift">Drift</h2>
<p class="muted-text">Changed outside Waybill: the state names what Waybill deployed, the stage runs something else.</p>
<div class="table-scroll"><table class="history drift">
<thead><tr><th>Stage</th><th>What</th><th>Expected</th><th>Actual</th><th>Changed by</th><th>What to do</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table></div>`
}
