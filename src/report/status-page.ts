/**
 * The pipeline page: one self-contained HTML file (inline CSS, SVG and a small script; no CDN,
 * works offline and from file://) with the stage DAG laid out left to right, the freight
 * timeline per warehouse and the promotion history. A Content-Security-Policy allows only the
 * page's own inline script (by hash), so even a missed escape could not run injected code.
 */
import crypto from 'node:crypto'
import type { ProjectModel } from '../config/index.js'
import type { Freight } from '../freight/types.js'
import type { Promotion, State } from '../state/types.js'
import { escapeHtml as h, firstLine, safeUrl } from './escape.js'
import { driftHtml } from './drift.js'
import type { DriftFinding } from '../pipeline/drift.js'
import {
  freightByWarehouse,
  pipelineView,
  promotionPrUrls,
  promotionsNewestFirst,
  type PipelineView,
  type StageView
} from './view.js'

export interface StatusPageInput {
  model: ProjectModel
  state: State
  project: string
  generatedAt: Date
  /** https://github.com/<owner>/<repo>, linked in the header. */
  repoUrl?: string
  /** Freight per warehouse in the timeline (current freight always shown). Default 30. */
  freightLimit?: number
  /** Promotions in the history. Default 100. */
  historyLimit?: number
  /** Stages changed outside Waybill (checked live by `waybill status`). */
  drift?: DriftFinding[]
}

// ─── layout ────────────────────────────────────────────────────────────────────────────────

const CARD_W = 204
const WAREHOUSE_H = 58
const GAP_X = 64
const GAP_Y = 22
const PAD = 16

export interface Box {
  x: number
  y: number
  w: number
  h: number
}

export interface Layout {
  width: number
  height: number
  warehouses: Map<string, Box>
  stages: Map<string, Box>
}

function stageHeight(s: StageView): number {
  // title 30 + one line per origin 22 + status line 24 + promotion line 22 + padding
  return 30 + Math.max(1, s.origins.length) * 22 + 24 + 22 + 16
}

/** Columns by longest path from a warehouse; rows ordered by where their sources sit. */
export function layoutPipeline(view: PipelineView): Layout {
  const columns: Array<Array<{ kind: 'Warehouse' | 'Stage'; name: string; h: number }>> = [
    view.warehouses.map((w) => ({ kind: 'Warehouse' as const, name: w, h: WAREHOUSE_H }))
  ]
  for (let c = 1; c <= view.columns; c++) columns.push([])
  for (const s of view.stages)
    columns[s.column].push({ kind: 'Stage', name: s.name, h: stageHeight(s) })

  const centerY = new Map<string, number>()
  const key = (kind: string, name: string) => `${kind}/${name}`
  const place = (col: (typeof columns)[number]) => {
    let y = 0
    const ys: number[] = []
    for (const n of col) {
      ys.push(y)
      y += n.h + GAP_Y
    }
    return { ys, height: Math.max(0, y - GAP_Y) }
  }
  // Order each column by the mean centre of its sources in earlier columns (barycentre).
  const sources = new Map<string, string[]>()
  for (const e of view.edges) {
    const k = key('Stage', e.to)
    const list = sources.get(k) ?? []
    list.push(key(e.from.kind, e.from.name))
    sources.set(k, list)
  }
  const placed = columns.map((col, i) => {
    if (i > 0) {
      const score = (n: { kind: string; name: string }) => {
        const ys = (sources.get(key(n.kind, n.name)) ?? [])
          .map((s) => centerY.get(s))
          .filter((y): y is number => y !== undefined)
        return ys.length ? ys.reduce((a, b) => a + b, 0) / ys.length : Number.MAX_SAFE_INTEGER
      }
      col.sort((a, b) => score(a) - score(b) || a.name.localeCompare(b.name))
    }
    const p = place(col)
    col.forEach((n, j) => centerY.set(key(n.kind, n.name), p.ys[j] + n.h / 2))
    return p
  })
  const height = Math.max(WAREHOUSE_H, ...placed.map((p) => p.height))
  const warehouses = new Map<string, Box>()
  const stages = new Map<string, Box>()
  columns.forEach((col, i) => {
    const offset = (height - placed[i].height) / 2
    col.forEach((n, j) => {
      const box = {
        x: PAD + i * (CARD_W + GAP_X),
        y: PAD + offset + placed[i].ys[j],
        w: CARD_W,
        h: n.h
      }
      ;(n.kind === 'Warehouse' ? warehouses : stages).set(n.name, box)
    })
  })
  return {
    width: PAD * 2 + columns.length * CARD_W + (columns.length - 1) * GAP_X,
    height: height + PAD * 2,
    warehouses,
    stages
  }
}

// ─── pieces ────────────────────────────────────────────────────────────────────────────────

const ORIGIN_COLORS = ['#0969da', '#8250df', '#bf3989', '#1a7f37', '#bc4c00', '#0a7f86']

function originColor(view: PipelineView, warehouse: string): string {
  const i = view.warehouses.indexOf(warehouse)
  return ORIGIN_COLORS[(i < 0 ? 0 : i) % ORIGIN_COLORS.length]
}

function time(iso: string | undefined): string {
  if (!iso || Number.isNaN(Date.parse(iso))) return ''
  const d = new Date(iso)
  const text = d.toISOString().replace('T', ' ').slice(0, 16) + ' UTC'
  return `<time datetime="${h(d.toISOString())}" title="${h(text)}">${h(text)}</time>`
}

function link(text: string, url: unknown, cls = ''): string {
  const safe = safeUrl(url)
  if (!safe) return h(text)
  return `<a href="${h(safe)}"${cls ? ` class="${cls}"` : ''} rel="noopener noreferrer">${h(text)}</a>`
}

function phaseClass(phase: string | undefined): string {
  switch (phase) {
    case 'Succeeded':
    case 'Successful':
    case 'Verified':
    case 'Healthy':
      return 'ok'
    case 'Failed':
    case 'Errored':
    case 'Error':
    case 'Unhealthy':
      return 'bad'
    case 'Running':
    case 'Pending':
    case 'Progressing':
      return 'busy'
    default:
      return 'muted'
  }
}

function pill(text: string, phase: string | undefined, title?: string): string {
  return `<span class="pill ${phaseClass(phase)}"${title ? ` title="${h(title)}"` : ''}>${h(text)}</span>`
}

function prLinks(p: Promotion): string {
  return promotionPrUrls(p)
    .map((u) => link(/\/pull\/(\d+)/.exec(u) ? `PR #${/\/pull\/(\d+)/.exec(u)![1]}` : 'PR', u))
    .join(' ')
}

function stageCard(view: PipelineView, s: StageView, box: Box, state: State): string {
  const rows = s.origins.map((o) => {
    const c = s.current.find((x) => x.warehouse === o)
    const dot = `<span class="dot" style="background:${originColor(view, o)}"></span>`
    return `<div class="freight-line" title="${h(o)}">${dot}${
      c
        ? `<span class="alias" data-freight="${h(c.id)}">${h(c.alias)}</span>${c.verified ? '<span class="check" title="verified here">✔</span>' : ''}`
        : '<span class="none">no freight</span>'
    }${s.origins.length > 1 ? `<span class="origin">${h(o)}</span>` : ''}</div>`
  })
  const status: string[] = []
  if (s.controlFlow) status.push(pill('control flow', undefined))
  else if (s.health && s.health !== 'NotApplicable')
    status.push(pill(s.health, s.health, s.healthIssues.join('\n')))
  if (s.verification) {
    const v = s.verification
    const text =
      v.phase === 'Verified' || v.phase === 'Successful' ? 'verified' : `verify: ${v.phase}`
    status.push(pill(text, v.phase, v.message ? firstLine(v.message, 300) : undefined))
  }
  let promo = ''
  const pending = s.pending[0]
  if (pending) {
    const alias = state.freight[pending.freight]?.alias ?? pending.freight.slice(0, 7)
    promo = `${pill(pending.phase === 'Running' ? 'promoting' : 'queued', 'Running', firstLine(pending.message, 300))} ${h(alias)} ${prLinks(pending)}`
  } else if (s.lastPromotion) {
    const p = s.lastPromotion
    promo = `<span class="muted-text">last</span> ${link(p.phase.toLowerCase(), p.runURL, `phase ${phaseClass(p.phase)}`)} ${time(p.finishedAt ?? p.createdAt)}`
  } else if (!s.controlFlow) promo = '<span class="muted-text">never promoted</span>'
  if (s.frozen) promo += ` <span class="frozen">❄ ${h(s.frozen)}</span>`
  return `<section class="stage ${s.status}" data-stage="${h(s.name)}" style="left:${box.x}px;top:${box.y}px;width:${box.w}px;height:${box.h}px">
<header><span class="status-dot"></span><h3>${h(s.name)}</h3></header>
${rows.join('\n')}
<div class="status">${status.join(' ')}</div>
<div class="promo">${promo}</div>
</section>`
}

function edgesSvg(view: PipelineView, layout: Layout): string {
  const paths: string[] = []
  const multi = view.warehouses.length > 1
  for (const e of view.edges) {
    const from =
      e.from.kind === 'Warehouse'
        ? layout.warehouses.get(e.from.name)
        : layout.stages.get(e.from.name)
    const to = layout.stages.get(e.to)
    if (!from || !to) continue
    // Spread several origins' edges between the same pair a little.
    const sameOrigins = view.edges.filter(
      (x) => x.from.kind === e.from.kind && x.from.name === e.from.name && x.to === e.to
    )
    const k = sameOrigins.indexOf(e) - (sameOrigins.length - 1) / 2
    const x1 = from.x + from.w
    const y1 = from.y + from.h / 2 + k * 6
    const x2 = to.x - 6
    const y2 = to.y + to.h / 2 + k * 6
    const dx = Math.max(30, (x2 - x1) / 2)
    const color = multi ? originColor(view, e.origin) : '#8c959f'
    paths.push(
      `<path d="M${x1},${y1} C${x1 + dx},${y1} ${x2 - dx},${y2} ${x2},${y2}" stroke="${color}" marker-end="url(#arrow-${view.warehouses.indexOf(e.origin)})"><title>${h(`${e.from.name} → ${e.to} (${e.origin})`)}</title></path>`
    )
  }
  const markers = view.warehouses
    .map(
      (w, i) =>
        `<marker id="arrow-${i}" viewBox="0 0 10 10" refX="4" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="${multi ? originColor(view, w) : '#8c959f'}"/></marker>`
    )
    .join('')
  return `<svg class="edges" width="${layout.width}" height="${layout.height}" viewBox="0 0 ${layout.width} ${layout.height}" aria-hidden="true"><defs>${markers}</defs>${paths.join('')}</svg>`
}

function pipelineSection(view: PipelineView, state: State): string {
  if (!view.stages.length && !view.warehouses.length)
    return '<p class="empty">No stages configured.</p>'
  const layout = layoutPipeline(view)
  const warehouses = view.warehouses.map((w) => {
    const box = layout.warehouses.get(w)!
    const latest = freightByWarehouse(state).get(w)?.[0]
    return `<section class="warehouse" style="left:${box.x}px;top:${box.y}px;width:${box.w}px;height:${box.h}px;border-color:${originColor(view, w)}">
<h3><span class="dot" style="background:${originColor(view, w)}"></span>${h(w)}</h3>
<div class="muted-text">${latest ? `newest <span class="alias" data-freight="${h(latest.name)}">${h(latest.alias)}</span>` : 'no freight yet'}</div>
</section>`
  })
  const stages = view.stages.map((s) => stageCard(view, s, layout.stages.get(s.name)!, state))
  return `<div class="dag-scroll"><div class="dag" style="width:${layout.width}px;height:${layout.height}px">
${edgesSvg(view, layout)}
${warehouses.join('\n')}
${stages.join('\n')}
</div></div>`
}

function artifactHtml(f: Freight): string {
  const items = [
    ...f.images.map(
      (i) =>
        `<li title="${h(i.digest)}"><span class="kind">image</span> ${h(i.repoURL)}:<b>${h(i.tag)}</b></li>`
    ),
    ...f.commits.map(
      (c) =>
        `<li title="${h(c.id)}"><span class="kind">git</span> ${h(c.repoURL.replace(/^https?:\/\//, ''))} <b>${h(c.tag ?? c.id.slice(0, 7))}</b>${c.message ? `<div class="subject">${h(firstLine(c.message, 160))}</div>` : ''}</li>`
    ),
    ...f.charts.map(
      (c) =>
        `<li><span class="kind">chart</span> ${h(c.name ? `${c.repoURL}/${c.name}` : c.repoURL)} <b>${h(c.version)}</b></li>`
    )
  ]
  return `<ul class="artifacts">${items.join('')}</ul>`
}

function freightSection(view: PipelineView, state: State, limit: number): string {
  const byWarehouse = freightByWarehouse(state)
  if (!byWarehouse.size) return '<p class="empty">No freight discovered yet.</p>'
  const stageNames = view.stages.map((s) => s.name)
  const out: string[] = []
  for (const w of [...byWarehouse.keys()].sort()) {
    const all = byWarehouse.get(w)!
    const shown = all.filter((f, i) => i < limit || Object.keys(f.status.currentlyIn).length)
    const cards = shown.map((f) => {
      const current = stageNames.filter((s) => f.status.currentlyIn[s])
      const verified = stageNames.filter((s) => f.status.verifiedIn[s] && !f.status.currentlyIn[s])
      const approved = Object.keys(f.status.approvedFor)
      const chips = [
        ...current.map(
          (s) =>
            `<span class="chip current${f.status.verifiedIn[s] ? ' verified' : ''}" title="current${f.status.verifiedIn[s] ? ' and verified' : ''} in ${h(s)}">${h(s)}</span>`
        ),
        ...verified.map(
          (s) => `<span class="chip verified" title="verified in ${h(s)}">${h(s)}</span>`
        ),
        ...approved.map(
          (s) => `<span class="chip approved" title="approved for ${h(s)}">${h(s)} ✓</span>`
        )
      ]
      return `<article class="freight" data-freight="${h(f.name)}">
<header><span class="alias">${h(f.alias)}</span><code title="${h(f.name)}">${h(f.name.slice(0, 7))}</code></header>
<div class="when">${time(f.discoveredAt)}</div>
${artifactHtml(f)}
<div class="chips">${chips.join('') || '<span class="muted-text">not promoted yet</span>'}</div>
</article>`
    })
    const more = all.length - shown.length
    out.push(`<div class="timeline">
<h3><span class="dot" style="background:${originColor(view, w)}"></span>${h(w)} <span class="muted-text">${all.length} freight, newest first</span></h3>
<div class="track">${cards.join('\n')}${more > 0 ? `<div class="more">${more} older</div>` : ''}</div>
</div>`)
  }
  return out.join('\n')
}

function historySection(state: State, limit: number): string {
  const all = promotionsNewestFirst(state)
  if (!all.length) return '<p class="empty">No promotions yet.</p>'
  const rows = all.slice(0, limit).map((p) => {
    const f = state.freight[p.freight]
    const links = [p.runURL ? link('run', p.runURL) : '', prLinks(p)].filter(Boolean).join(' ')
    return `<tr data-freight="${h(p.freight)}">
<td>${time(p.createdAt)}</td>
<td><b>${h(p.stage)}</b></td>
<td><span class="alias">${h(f?.alias ?? p.freight.slice(0, 7))}</span></td>
<td>${pill(p.phase, p.phase)}</td>
<td>${p.auto ? '<span class="muted-text">auto</span>' : h(p.actor ?? 'manual')}</td>
<td class="msg" title="${h(p.message ?? '')}">${h(firstLine(p.message, 140))}</td>
<td class="links">${links}</td>
</tr>`
  })
  return `<div class="table-scroll"><table class="history">
<thead><tr><th>Created</th><th>Stage</th><th>Freight</th><th>Phase</th><th>By</th><th>Message</th><th>Links</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table></div>${all.length > limit ? `<p class="muted-text">${all.length - limit} older promotions not shown.</p>` : ''}`
}

// ─── page ──────────────────────────────────────────────────────────────────────────────────

const CSS = `
:root{--bg:#f6f8fa;--card:#fff;--fg:#1f2328;--muted:#656d76;--line:#d0d7de;--ok:#1a7f37;--ok-bg:#dafbe1;--bad:#cf222e;--bad-bg:#ffebe9;--busy:#9a6700;--busy-bg:#fff8c5;--mono:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--card:#161b22;--fg:#e6edf3;--muted:#8d96a0;--line:#30363d;--ok:#3fb950;--ok-bg:#12261e;--bad:#f85149;--bad-bg:#2d1214;--busy:#d29922;--busy-bg:#272115}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.45 -apple-system,BlinkMacSystemFont,"Segoe UI",Helvetica,Arial,sans-serif}
.top{display:flex;align-items:baseline;gap:16px;flex-wrap:wrap;padding:18px 24px;border-bottom:1px solid var(--line);background:var(--card)}
.top h1{font-size:20px;margin:0}.top h1 .brand{color:var(--muted);font-weight:400}
main{padding:8px 24px 40px}
h2{font-size:16px;margin:26px 0 10px}
h3{font-size:14px;margin:0}
a{color:#0969da}@media (prefers-color-scheme:dark){a{color:#4493f8}}
.muted-text,.when{color:var(--muted);font-size:12px}
.empty{color:var(--muted)}
.legend{display:flex;gap:14px;flex-wrap:wrap;font-size:12px;color:var(--muted);margin-bottom:8px}
.legend span{display:inline-flex;align-items:center;gap:5px}
.dag-scroll{overflow-x:auto;background:var(--card);border:1px solid var(--line);border-radius:10px}
.dag{position:relative}
.edges{position:absolute;left:0;top:0}.edges path{fill:none;stroke-width:2;opacity:.75}
.warehouse,.stage{position:absolute;background:var(--card);border:1px solid var(--line);border-radius:10px;padding:8px 12px;overflow:hidden;box-shadow:0 1px 2px rgba(0,0,0,.06)}
.warehouse{border-width:2px;border-style:dashed}
.warehouse h3,.timeline h3{display:flex;align-items:center;gap:6px}
.stage{border-left-width:5px}
.stage.healthy{border-left-color:var(--ok)}.stage.failed{border-left-color:var(--bad)}.stage.progressing{border-left-color:var(--busy)}.stage.unknown{border-left-color:var(--line)}
.stage header{display:flex;align-items:center;gap:7px;height:22px;margin-bottom:4px}
.status-dot{width:9px;height:9px;border-radius:50%;background:var(--line);flex:none}
.healthy .status-dot{background:var(--ok)}.failed .status-dot{background:var(--bad)}.progressing .status-dot{background:var(--busy)}
.stage h3{white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.freight-line{display:flex;align-items:center;gap:6px;height:22px;white-space:nowrap;overflow:hidden}
.dot{width:8px;height:8px;border-radius:2px;flex:none;display:inline-block}
.alias{font-family:var(--mono);font-size:12.5px;font-weight:600}
.origin{color:var(--muted);font-size:11px;margin-left:auto}
.check{color:var(--ok);font-size:12px}
.none{color:var(--muted);font-style:italic;font-size:12px}
.status{height:24px;display:flex;gap:4px;align-items:center;white-space:nowrap;overflow:hidden}
.promo{height:22px;font-size:12px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.pill{display:inline-block;font-size:11px;line-height:18px;padding:0 7px;border-radius:9px;background:var(--bg);color:var(--muted);border:1px solid var(--line)}
.pill.ok{background:var(--ok-bg);color:var(--ok);border-color:transparent}.pill.bad{background:var(--bad-bg);color:var(--bad);border-color:transparent}.pill.busy{background:var(--busy-bg);color:var(--busy);border-color:transparent}
.phase.ok{color:var(--ok)}.phase.bad{color:var(--bad)}.phase.busy{color:var(--busy)}
.timeline{margin-bottom:16px}
.timeline h3{margin-bottom:6px}
.track{display:flex;gap:10px;overflow-x:auto;padding-bottom:6px}
.freight{flex:none;width:250px;background:var(--card);border:1px solid var(--line);border-radius:10px;padding:8px 10px}
.freight header{display:flex;justify-content:space-between;align-items:baseline}
.freight code{color:var(--muted);font-size:11px}
.artifacts{list-style:none;margin:6px 0;padding:0;font-size:12px}
.artifacts li{margin:2px 0;overflow-wrap:anywhere}
.kind{display:inline-block;font-size:10px;text-transform:uppercase;color:var(--muted);width:38px}
.subject{color:var(--muted);margin-left:42px;overflow-wrap:anywhere}
.chips{display:flex;flex-wrap:wrap;gap:4px}
.chip{font-size:11px;padding:0 7px;line-height:18px;border-radius:9px;border:1px solid var(--line);color:var(--muted)}
.chip.verified{border-color:var(--ok);color:var(--ok)}
.chip.current{background:var(--busy-bg);color:var(--busy);border-color:transparent}
.chip.current.verified{background:var(--ok-bg);color:var(--ok)}
.chip.approved{border-style:dashed}
.more{align-self:center;color:var(--muted);padding:0 12px;white-space:nowrap}
.table-scroll{overflow-x:auto;background:var(--card);border:1px solid var(--line);border-radius:10px}
table.history{border-collapse:collapse;width:100%;font-size:13px}
.history th,.history td{text-align:left;padding:6px 10px;border-bottom:1px solid var(--line);vertical-align:top;white-space:nowrap}
.history td.msg{white-space:normal;max-width:420px;overflow-wrap:anywhere}
.history tr:last-child td{border-bottom:0}
.history th{font-size:12px;color:var(--muted);font-weight:600}
.links a{margin-right:6px}
.hl{outline:3px solid #0969da;outline-offset:1px}
tr.hl{outline:none;background:var(--busy-bg)}
`

/** Relative times and freight highlighting; no network, no eval, no innerHTML. */
const SCRIPT = `(function(){
var now=Date.now();
function ago(t){var s=Math.round((now-t)/1000);if(s<60)return'just now';var m=Math.round(s/60);if(m<60)return m+' min ago';var h=Math.round(m/60);if(h<48)return h+' h ago';return Math.round(h/24)+' days ago';}
var times=document.querySelectorAll('time[datetime]');
for(var i=0;i<times.length;i++){var t=Date.parse(times[i].getAttribute('datetime'));if(!isNaN(t))times[i].textContent=ago(t);}
function mark(id,on){var els=document.querySelectorAll('[data-freight]');for(var j=0;j<els.length;j++){var el=els[j];if(el.getAttribute('data-freight')!==id)continue;var box=el.closest('.stage,.warehouse,.freight,tr')||el;box.classList.toggle('hl',on);}}
document.addEventListener('mouseover',function(e){var el=e.target&&e.target.closest&&e.target.closest('[data-freight]');if(el)mark(el.getAttribute('data-freight'),true);});
document.addEventListener('mouseout',function(e){var el=e.target&&e.target.closest&&e.target.closest('[data-freight]');if(el)mark(el.getAttribute('data-freight'),false);});
})();`

const SCRIPT_HASH = crypto.createHash('sha256').update(SCRIPT).digest('base64')

function legend(view: PipelineView): string {
  const items = [
    '<span><span class="status-dot" style="background:var(--ok)"></span>healthy</span>',
    '<span><span class="status-dot" style="background:var(--busy)"></span>progressing</span>',
    '<span><span class="status-dot" style="background:var(--bad)"></span>failed</span>',
    '<span><span class="check">✔</span>verified in the stage</span>'
  ]
  if (view.warehouses.length > 1)
    for (const w of view.warehouses)
      items.push(
        `<span><span class="dot" style="background:${originColor(view, w)}"></span>${h(w)}</span>`
      )
  return `<div class="legend">${items.join('')}</div>`
}

/** The whole page. */
export function renderStatusPage(input: StatusPageInput): string {
  const { model, state, project } = input
  const view = pipelineView(model, state, input.generatedAt)
  const repo = input.repoUrl
    ? link(input.repoUrl.replace(/^https?:\/\/(www\.)?/, ''), input.repoUrl)
    : ''
  const generated = input.generatedAt.toISOString()
  const csp = `default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-${SCRIPT_HASH}'; img-src data:; base-uri 'none'; form-action 'none'`
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="referrer" content="no-referrer">
<title>${h(project)} · Waybill pipeline</title>
<link rel="icon" href="data:,">
<style>${CSS}</style>
</head>
<body>
<div class="top">
<h1><span class="brand">Waybill ·</span> ${h(project)}</h1>
${repo ? `<span>${repo}</span>` : ''}
<span class="muted-text">generated ${time(generated)}</span>
<span class="muted-text">${view.stages.length} stages · ${Object.keys(state.freight).length} freight · ${Object.keys(state.promotions).length} promotions</span>
</div>
<main>
<h2>Pipeline</h2>
${legend(view)}
${pipelineSection(view, state)}
${driftHtml(input.drift ?? [])}
<h2>Freight</h2>
${freightSection(view, state, input.freightLimit ?? 30)}
<h2>Promotion history</h2>
${historySection(state, input.historyLimit ?? 100)}
</main>
<script>${SCRIPT}</script>
</body>
</html>
`
}
