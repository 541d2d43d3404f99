/**
 * The job summary: a Mermaid flowchart of the pipeline, what this run did (with links to the
 * run and to promotion PRs), and the freight table. Every user string is escaped for the format
 * it lands in (Mermaid label, Markdown text, link).
 */
import type { ProjectModel } from '../config/index.js'
import type { Freight } from '../freight/types.js'
import type { PipelineActivity } from '../pipeline/reconcile.js'
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
  return lines.join('<br/>')
}

/** The pipeline as a Mermaid `flowchart LR`: warehouses → stages along requestedFreight sources. */
export function renderMermaid(model: ProjectModel, state: State): string {
  const view = pipelineView(model, state)
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
  return `| ${escapeMarkdown(live.stage)} | ${escapeMarkdown(aliasOf(state, live.freight))} | ${phaseIcon(live.phase)} ${escapeMarkdown(live.phase)} | ${escapeMarkdown(who)} | ${escapeMarkdown(firstLine(live.message, 200))}${links.length ? ` ${links.join(' ')}` : ''} |`
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
      for (const v of activity.verified)
        out.push(
          `| ${escapeMarkdown(v.stage)} | ${v.freight.map((id) => escapeMarkdown(aliasOf(state, id))).join(', ')} | ${phaseIcon(v.phase)} ${escapeMarkdown(v.phase)}: ${escapeMarkdown(firstLine(v.message, 200))} |`
        )
      out.push('')
    }
    if (activity.errors.length) {
      out.push('**Errors**', '')
      for (const e of activity.errors) out.push(`- ❌ ${escapeMarkdown(firstLine(e, 400))}`)
      out.push('')
    }
  }
  if (!out.length) out.push('Nothing to do: no new freight, no promotion due.', '')
  return out
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
  const lines = ['## Waybill pipeline', '', '```mermaid', renderMermaid(input.model, input.state)]
  lines.push('```', '')
  lines.push('### This run', '', ...activitySection(input))
  lines.push('### Freight', '', ...freightTable(input))
  if (input.runURL) lines.push(markdownLink('Workflow run', input.runURL), '')
  return lines.join('\n')
}
