/**
 * The job summary: a Mermaid flowchart of the pipeline, what this run did (with links to the
 * run and to promotion PRs), and the freight table. Every user string is escaped for the format
 * it lands in (Mermaid label, Markdown text, link).
 */
import { displayText } from '../util/text.js'
import type { ProjectModel } from '../config/index.js'
import { stageOrder } from '../config/graph.js'
import { frozenStages, frozenText } from '../pipeline/gates.js'
import type { Freight } from '../freight/types.js'
import type { PipelineActivity } from '../pipeline/reconcile.js'
import type { DriftFinding } from '../pipeline/drift.js'
import { driftMarkdown } from './drift.js'
import { errorMessage } from '../util/errors.js'
import type { Promotion, State } from '../state/types.js'
import { escapeMarkdown, escapeMermaid, firstLine, markdownLink } from './escape.js'
import {
  artifactLines,
  freightByWarehouse,
  pipelineView,
  promotionPrUrls,
  type StageView
} from './view.js'

export interface SummaryInput {
  model: ProjectModel
  state: State
  activity?: PipelineActivity
  newFreight?: Freight[]
  runURL?: string
  /** Freight rows per warehouse in the table (current and verified freight always shown). */
  freightLimit?: number
  /** Stages changed outside Waybill, when this run checked. */
  drift?: DriftFinding[]
  /** The run's clock (promotion windows: "frozen until …"); the wall clock when absent. */
  now?: Date
}

const CLASS_DEFS = [
  'classDef healthy fill:#dafbe1,stroke:#1a7f37,color:#0f3d1f',
  'classDef failed fill:#ffebe9,stroke:#cf222e,color:#5c0011',
  'classDef progressing fill:#fff8c5,stroke:#9a6700,color:#3d2a00',
  'classDef unknown fill:#f6f8fa,stroke:#8c959f,color:#24292f',
  'classDef warehouse fill:#ddf4ff,stroke:#0969da,color:#0a3069'
]

function verificationText(s: StageView): string | undefined {
  const v = s.verification
  if (!v) return undefined
  if (v.phase === 'Verified' || v.phase === 'Successful') return '✔ verified'
  if (v.phase === 'Running' || v.phase === 'Pending') return '… verifying'
  return `✘ verification ${v.phase.toLowerCase()}`
}

function stageLabel(s: StageView): string {
  const lines = [`<b>${escapeMermaid(s.name)}</b>`]
  const multi = s.origins.length > 1
  if (s.current.length)
    for (const c of s.current)
      lines.push(escapeMermaid(multi ? `${c.warehouse}: ${c.alias}` : c.alias))
  else lines.push(escapeMermaid('no freight yet'))
  const state = [
    s.controlFlow ? 'control flow' : s.health && s.health !== 'NotApplicable' ? s.health : '',
    verificationText(s) ?? ''
  ].filter(Boolean)
  if (s.pending.length) state.push(`${s.pending[0].phase === 'Running' ? 'promoting' : 'queued'}`)
  else if (s.lastPromotion && s.lastPromotion.phase !== 'Succeeded')
    state.push(`promotion ${s.lastPromotion.phase.toLowerCase()}`)
  if (state.length) lines.push(escapeMermaid(state.join(' · ')))
  if (s.frozen) lines.push(escapeMermaid(`❄ ${s.frozen}`))
  return lines.join('<br/>')
}

/** The pipeline as a Mermaid `flowchart LR`: warehouses → stages along requestedFreight sources. */
export function renderMermaid(model: ProjectModel, state: State, now?: Date): string {
  const view = pipelineView(model, state, now)
  const wid = new Map(view.warehouses.map((w, i) => [w, `w${i}`]))
  const sid = new Map(view.stages.map((s, i) => [s.name, `s${i}`]))
  const lines = ['flowchart LR']
  for (const w of view.warehouses)
    lines.push(`  ${wid.get(w)}[("${escapeMermaid(w)}")]:::warehouse`)
  for (const s of view.stages) lines.push(`  ${sid.get(s.name)}["${stageLabel(s)}"]:::${s.status}`)
  const multiOrigin = new Set(view.stages.filter((s) => s.origins.length > 1).map((s) => s.name))
  const seen = new Set<string>()
  for (const e of view.edges) {
    const from = e.from.kind === 'Warehouse' ? wid.get(e.from.name) : sid.get(e.from.name)
    const to = sid.get(e.to)
    if (!from || !to) continue
    const key = `${from}>${to}>${e.origin}`
    if (seen.has(key)) continue
    seen.add(key)
    // Label stage-to-stage edges with the origin when a stage carries several.
    const label =
      e.from.kind === 'Stage' && multiOrigin.has(e.to) ? `|"${escapeMermaid(e.origin)}"|` : ''
    lines.push(`  ${from} -->${label} ${to}`)
  }
  for (const c of CLASS_DEFS) lines.push(`  ${c}`)
  return lines.join('\n')
}

function aliasOf(state: State, id: string): string {
  return state.freight[id]?.alias ?? id.slice(0, 7)
}

function promotionRow(p: Promotion, state: State, runURL?: string): string {
  const live = state.promotions[p.name] ?? p
  const links = [
    ...promotionPrUrls(live).map((u) => markdownLink(prLabel(u), u)),
    ...(live.runURL && live.runURL !== runURL ? [markdownLink('run', live.runURL)] : [])
  ]
  const who = live.auto ? 'auto' : live.actor ? `by ${live.actor}` : 'manual'
  return `| ${escapeMarkdown(live.stage)} | ${escapeMarkdown(aliasOf(state, live.freight))} | ${phaseIcon(live.phase)} ${escapeMarkdown(live.phase)} | ${escapeMarkdown(who)} | ${escapeMarkdown(withHint(live.message, 200))}${links.length ? ` ${links.join(' ')}` : ''} |`
}

/**
 * The first line of a message, and its `hint:` line when it has one (errorMessage() puts the hint
 * of a WaybillError on a line of its own): what to do about an error is kept in summaries.
 */
export function withHint(text: unknown, max = 200): string {
  const lines = displayText(text).split(/\r?\n/)
  const hint = lines.slice(1).find((l) => l.trim().startsWith('hint:'))
  const first = firstLine(text, max)
  return hint ? `${first} — ${firstLine(hint, max)}` : first
}

function prLabel(url: string): string {
  const m = /\/pull\/(\d+)/.exec(url)
  return m ? `PR #${m[1]}` : 'PR'
}

function phaseIcon(phase: string): string {
  switch (phase) {
    case 'Succeeded':
    case 'Successful':
      return '✅'
    case 'Failed':
    case 'Errored':
    case 'Error':
      return '❌'
    case 'Aborted':
      return '⏹️'
    case 'Running':
    case 'Pending':
      return '⏳'
    default:
      return '•'
  }
}

function activitySection(input: SummaryInput): string[] {
  const { state, activity, newFreight = [], runURL } = input
  const out: string[] = []
  if (newFreight.length) {
    out.push(`**New freight (${newFreight.length})**`, '')
    for (const f of newFreight)
      out.push(
        `- \`${escapeMarkdown(f.alias).replace(/`/g, '')}\` from ${escapeMarkdown(f.origin.name)}: ${artifactLines(f).map(escapeMarkdown).join(', ')}`
      )
    out.push('')
  }
  if (activity) {
    const touched = new Map<string, Promotion>()
    for (const p of [...activity.finished, ...activity.waiting, ...activity.created])
      if (!touched.has(p.name)) touched.set(p.name, p)
    if (touched.size) {
      out.push(
        '**Promotions**',
        '',
        '| Stage | Freight | Phase | Who | Details |',
        '| --- | --- | --- | --- | --- |'
      )
      for (const p of touched.values()) out.push(promotionRow(p, state, runURL))
      out.push('')
    }
    if (activity.verified.length) {
      out.push('**Verification**', '', '| Stage | Freight | Result |', '| --- | --- | --- |')
      for (const v of activity.verified) out.push(verificationRow(v, state))
      out.push('')
    }
    if (activity.errors.length) {
      out.push('**Errors**', '')
      for (const e of activity.errors) out.push(`- ❌ ${escapeMarkdown(withHint(e, 400))}`)
      out.push('')
    }
  }
  if (!out.length) out.push('Nothing to do: no new freight, no promotion due.', '')
  return out
}

function verificationRow(v: VerificationOutcome, state: State): string {
  return `| ${escapeMarkdown(v.stage)} | ${v.freight.map((id) => escapeMarkdown(aliasOf(state, id))).join(', ')} | ${phaseIcon(v.phase)} ${escapeMarkdown(v.phase)}: ${escapeMarkdown(withHint(v.message, 200))} |`
}

function freightTable(input: SummaryInput): string[] {
  const { state } = input
  const limit = input.freightLimit ?? 5
  const byWarehouse = freightByWarehouse(state)
  if (!byWarehouse.size) return ['No freight yet.', '']
  const out = [
    '| Warehouse | Freight | ID | Artifacts | Current in | Verified in |',
    '| --- | --- | --- | --- | --- | --- |'
  ]
  let hidden = 0
  for (const w of [...byWarehouse.keys()].sort()) {
    byWarehouse.get(w)!.forEach((f, i) => {
      const current = Object.keys(f.status.currentlyIn)
      const verified = Object.keys(f.status.verifiedIn)
      if (i >= limit && !current.length) {
        hidden++
        return
      }
      out.push(
        `| ${escapeMarkdown(w)} | ${escapeMarkdown(f.alias)} | \`${f.name.slice(0, 7).replace(/[^0-9a-z]/gi, '')}\` | ${artifactLines(f).map(escapeMarkdown).join('<br>')} | ${current.map(escapeMarkdown).join(', ')} | ${verified.map(escapeMarkdown).join(', ')} |`
      )
    })
  }
  if (hidden) out.push('', `${hidden} older freight not shown.`)
  out.push('')
  return out
}

/** The whole job summary (Markdown). */
export function renderSummary(input: SummaryInput): string {
  const lines = [
    '## Waybill pipeline',
    '',
    '```mermaid',
    renderMermaid(input.model, input.state, input.now)
  ]
  lines.push('```', '')
  lines.push('### This run', '', ...activitySection(input))
  const drift = driftMarkdown(input.drift ?? [])
  if (drift.length) lines.push(...drift, '')
  lines.push(...frozenMarkdown(input))
  lines.push('### Freight', '', ...freightTable(input))
  if (input.runURL) lines.push(markdownLink('Workflow run', input.runURL), '')
  return lines.join('\n')
}

type VerificationOutcome = PipelineActivity['verified'][number]

/** Stages promotion windows freeze now, one line each ("frozen until …"). */
function frozenMarkdown(input: Pick<SummaryInput, 'model' | 'now'>): string[] {
  const schedules = frozenStages(input.model, input.now ?? new Date())
  if (!schedules.size) return []
  const frozen = stageOrder(input.model).filter((name) => schedules.has(name))
  return [
    '**Promotion windows**',
    '',
    ...frozen.map(
      (name) => `- ❄ ${escapeMarkdown(name)}: ${escapeMarkdown(frozenText(schedules.get(name)!))}`
    ),
    ''
  ]
}

/** `waybill status`: the pipeline chart and the freight table, without a "this run" section. */
export function renderStatusSummary(input: Omit<SummaryInput, 'activity' | 'newFreight'>): string {
  const lines = [
    '## Waybill pipeline',
    '',
    '```mermaid',
    renderMermaid(input.model, input.state, input.now)
  ]
  const drift = driftMarkdown(input.drift ?? [])
  lines.push(
    '```',
    '',
    ...(drift.length ? [...drift, ''] : []),
    ...frozenMarkdown(input),
    '### Freight',
    '',
    ...freightTable(input)
  )
  return lines.join('\n')
}

/** `waybill verify`: the stage's verification result (or why there was none). */
export function verifySummary(stage: string, state: State, result?: VerificationOutcome): string {
  const lines = [`### Verification of ${escapeMarkdown(stage)}`, '']
  if (!result) lines.push('Nothing to verify: no current freight, or a promotion in progress.')
  else
    lines.push(
      '| Stage | Freight | Result |',
      '| --- | --- | --- |',
      verificationRow(result, state)
    )
  return lines.join('\n') + '\n'
}

/** `waybill plan`: the promotions that are due. */
export function planSummary(
  include: Array<{ stage: string; alias: string; reason: string }>
): string {
  const lines = ['### Promotions due', '']
  if (!include.length) lines.push('Nothing due.')
  else {
    lines.push('| Stage | Freight | Reason |', '| --- | --- | --- |')
    for (const i of include)
      lines.push(
        `| ${escapeMarkdown(i.stage)} | ${escapeMarkdown(i.alias)} | ${escapeMarkdown(i.reason)} |`
      )
  }
  return lines.join('\n') + '\n'
}

/** A manual action on the state (approve, abort, assemble): what was done, by whom. */
export function actionSummary(title: string, facts: Array<[string, string]>): string {
  const lines = [`### ${escapeMarkdown(title)}`, '', '| | |', '| --- | --- |']
  for (const [k, v] of facts) lines.push(`| ${escapeMarkdown(k)} | ${escapeMarkdown(v)} |`)
  return lines.join('\n') + '\n'
}

/** A run that failed before its command could report: the error and what to do about it. */
export function failureSummary(command: string, err: unknown, runURL?: string): string {
  const [message, ...rest] = errorMessage(err).split('\n')
  const hint = rest.find((l) => l.startsWith('hint: '))
  const details = rest.filter((l) => l !== hint && l.trim())
  const lines = [`### ❌ waybill ${escapeMarkdown(command)} failed`, '', escapeMarkdown(message)]
  if (details.length)
    lines.push('', ...details.slice(0, 50).map((d) => `- ${escapeMarkdown(d.trim())}`))
  if (hint) lines.push('', `**Hint:** ${escapeMarkdown(hint.slice('hint: '.length))}`)
  if (runURL) lines.push('', markdownLink('Workflow run', runURL))
  return lines.join('\n') + '\n'
}

/** A dry run of a promotion: what would run remotely, and the diff of what the steps changed. */
export function dryRunSummary(run: {
  stage: string
  phase: string
  message?: string
  wouldRun: string[]
  diff: string
}): string {
  const lines = [
    `### Dry run: promotion to ${escapeMarkdown(run.stage)}`,
    '',
    `${phaseIcon(run.phase)} ${escapeMarkdown(run.phase)}${run.message ? `: ${escapeMarkdown(withHint(run.message, 300))}` : ''}`,
    '',
    'Nothing was pushed, opened, deployed or recorded.',
    ''
  ]
  if (run.wouldRun.length) {
    lines.push('**Would run**', '')
    for (const s of run.wouldRun) lines.push(`- ${escapeMarkdown(s)}`)
    lines.push('')
  }
  if (!run.diff) lines.push('No changes to any working tree.')
  else {
    // A fence longer than any backtick run in the diff: the diff cannot close it.
    const fence = '`'.repeat(
      Math.max(3, ...[...run.diff.matchAll(/`+/g)].map((m) => m[0].length + 1))
    )
    const shown = run.diff.length > 60_000 ? `${run.diff.slice(0, 60_000)}\n… (cut)` : run.diff
    lines.push(`${fence}diff`, shown.replace(/\n$/, ''), fence)
  }
  return lines.join('\n') + '\n'
}
