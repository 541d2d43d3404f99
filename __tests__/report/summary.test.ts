import { beforeAll, describe, expect, it } from '@jest/globals'
import { renderMermaid, renderSummary } from '../../src/report/summary.js'
import { escapeMarkdown, escapeMermaid, markdownLink, safeUrl } from '../../src/report/escape.js'
import { pipelineView, stageColumns } from '../../src/report/view.js'
import { emptyActivity } from '../../src/pipeline/reconcile.js'
import { fixture, HOSTILE_MESSAGE, HOSTILE_TAG, type Fixture } from './fixture.js'

let fx: Fixture
beforeAll(async () => {
  fx = await fixture()
})

/** Node lines of a flowchart: id → label. */
function nodes(mermaid: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const m of mermaid.matchAll(/^ {2}(\w+)\[\(?"(.*?)"\)?\]:::(\w+)$/gm))
    out.set(m[1], `${m[2]} :::${m[3]}`)
  return out
}

describe('pipeline view', () => {
  it('places stages by longest path from the warehouses', () => {
    const cols = stageColumns(fx.model)
    expect(Object.fromEntries(cols)).toEqual({ test: 1, qa: 2, uat: 2, prod: 3, 'prod-dr': 4 })
  })

  it('classifies each stage', () => {
    const v = pipelineView(fx.model, fx.state)
    const status = Object.fromEntries(v.stages.map((s) => [s.name, s.status]))
    expect(status).toEqual({
      test: 'progressing',
      qa: 'healthy',
      uat: 'failed',
      prod: 'healthy',
      'prod-dr': 'healthy'
    })
    const prod = v.stages.find((s) => s.name === 'prod')!
    expect(prod.upstream).toEqual(['qa', 'uat'])
    expect(prod.current.map((c) => c.alias)).toEqual([fx.app[1].alias, fx.config[0].alias])
    expect(v.stages.find((s) => s.name === 'prod-dr')!.controlFlow).toBe(true)
  })
})

describe('renderMermaid', () => {
  it('draws warehouses, stages with aliases and health, and the edges', () => {
    const m = renderMermaid(fx.model, fx.state)
    expect(m.split('\n')[0]).toBe('flowchart LR')
    const n = nodes(m)
    const label = (name: string) => [...n.values()].find((l) => l.startsWith(`<b>${name}</b>`))!
    expect([...n.values()].filter((l) => l.endsWith(':::warehouse'))).toHaveLength(2)
    expect(label('test')).toContain(`app#58; ${fx.app[2].alias}`)
    expect(label('test')).toContain(`config#58; ${fx.config[1].alias}`)
    expect(label('test')).toMatch(/Progressing · … verifying · promoting :::progressing$/)
    expect(label('qa')).toContain(`${fx.app[2].alias}<br/>Healthy · ✔ verified`)
    expect(label('uat')).toContain('✘ verification failed')
    expect(label('uat')).toMatch(/:::failed$/)
    expect(label('prod-dr')).toContain('control flow')
    // Edges: app → test, config → test, test → qa, test → uat, qa → prod, uat → prod, prod → prod-dr
    const ids = Object.fromEntries(
      [...m.matchAll(/^ {2}(\w+)\[\(?"(?:<b>)?([\w-]+)/gm)].map((x) => [x[2], x[1]])
    )
    const edges = [...m.matchAll(/^ {2}(\w+) -->(?:\|"([^"]*)"\|)? (\w+)$/gm)].map(
      (x) => `${x[1]}>${x[3]}${x[2] ? `(${x[2]})` : ''}`
    )
    const e = (a: string, b: string, o?: string) => `${ids[a]}>${ids[b]}${o ? `(${o})` : ''}`
    expect(edges.sort()).toEqual(
      [
        e('app', 'test'),
        e('config', 'test'),
        e('test', 'qa'),
        e('test', 'uat', 'app'),
        e('test', 'uat', 'config'),
        e('qa', 'prod', 'app'),
        e('uat', 'prod', 'app'),
        e('uat', 'prod', 'config'),
        e('prod', 'prod-dr', 'app'),
        e('prod', 'prod-dr', 'config')
      ].sort()
    )
    for (const cls of ['healthy', 'failed', 'progressing', 'warehouse'])
      expect(m).toMatch(new RegExp(`^ {2}classDef ${cls} fill:#`, 'm'))
  })

  it('escapes labels so that no user string can break out', () => {
    expect(escapeMermaid('a"b]c<br/>`x`#y;')).toBe('a#34;b#93;c#60;br/#62;#96;x#96;#35;y#59;')
    const state = structuredClone(fx.state)
    state.freight[fx.app[2].name].alias = 'evil"] --> x[("pwn'
    const m = renderMermaid(fx.model, state)
    expect(m).not.toContain('evil"')
    expect(m).toContain('evil#34;#93; --#62; x#91;#40;#34;pwn')
    // Every node line still parses as a node.
    expect(nodes(m).size).toBe(7)
  })
})

describe('renderSummary', () => {
  it('reports the run: new freight, promotions with PR and run links, verification, errors', () => {
    const activity = emptyActivity()
    const waiting = Object.values(fx.state.promotions).find((p) => p.phase === 'Running')!
    const failed = Object.values(fx.state.promotions).find((p) => p.phase === 'Failed')!
    activity.waiting.push(waiting)
    activity.finished.push(failed)
    activity.verified.push({
      stage: 'uat',
      freight: [fx.app[2].name],
      phase: 'Failed',
      message: HOSTILE_MESSAGE
    })
    activity.errors.push('discovery of app: registry ghcr.io answered 503')
    const md = renderSummary({
      model: fx.model,
      state: fx.state,
      activity,
      newFreight: [fx.app[3]],
      runURL: fx.runURL
    })
    expect(md).toContain('```mermaid\nflowchart LR\n')
    expect(md).toContain('### This run')
    expect(md).toContain('**New freight (1)**')
    expect(md).toContain('from app: ghcr.io/example/app:v9"&gt;&lt;svg onload=alert(1)&gt;')
    expect(md).toContain('[PR #42](https://github.com/acme/deploy/pull/42)')
    expect(md).toContain(HOSTILE_TAG.replace('>', '&gt;').replace('<', '&lt;').replace('>', '&gt;'))
    expect(md).toContain(`| test | ${escapeMarkdown(fx.app[3].alias)} | ⏳ Running | auto |`)
    expect(md).toContain('❌ Failed')
    expect(md).toContain('kustomize build failed: no such file')
    // The failed promotion ran in another workflow run: linked.
    expect(md).toContain(`[run](${failed.runURL})`)
    expect(md).toContain('**Verification**')
    expect(md).toContain('- ❌ discovery of app: registry ghcr.io answered 503')
    expect(md).toContain(`[Workflow run](${fx.runURL})`)
    // Hostile strings are inert: no raw tags, no raw link syntax.
    expect(md).not.toMatch(/<script|<img|<svg/)
    expect(md).not.toMatch(/[^\\]\]\(javascript:/)
    expect(md).toContain('\\[y\\](javascript:alert(1))')
  })

  it('shows the freight table with where each freight is current and verified', () => {
    const md = renderSummary({ model: fx.model, state: fx.state })
    const rows = md.split('\n').filter((l) => l.startsWith('| app |') || l.startsWith('| config |'))
    expect(rows).toHaveLength(6)
    const row = rows.find((r) => r.includes(escapeMarkdown(fx.app[1].alias)))!
    const cells = row.split(' | ')
    expect(cells[2]).toBe(`\`${fx.app[1].name.slice(0, 7)}\``)
    expect(cells[4]).toBe('prod, prod-dr')
    expect(cells[5].replace(/ \|$/, '')).toBe('prod, prod-dr')
    expect(md).toContain('Nothing to do')
    expect(md).not.toMatch(/<script|<svg/)
  })

  it('limits old freight but never hides current freight', () => {
    const md = renderSummary({ model: fx.model, state: fx.state, freightLimit: 1 })
    const rows = md.split('\n').filter((l) => l.startsWith('| app |'))
    // newest (app[3]) plus the current app[2] and app[1]; app[0] hidden
    expect(rows).toHaveLength(3)
    expect(md).toContain('1 older freight not shown.')
  })
})

describe('escaping helpers', () => {
  it('escapes Markdown and refuses non-http links', () => {
    expect(escapeMarkdown('a|b\n<x>&@me *_`[')).toBe('a\\|b &lt;x&gt;&amp;&#64;me \\*\\_\\`\\[')
    expect(markdownLink('x', 'javascript:alert(1)')).toBe('x')
    expect(markdownLink('x', 'https://e.x/a (b)')).toBe('[x](https://e.x/a%20%28b%29)')
    expect(safeUrl('data:text/html,hi')).toBeUndefined()
    expect(safeUrl('https://github.com/a')).toBe('https://github.com/a')
  })
})

describe('command and failure summaries', () => {
  it('keep the hint of an error, escaped', async () => {
    const { failureSummary, withHint } = await import('../../src/report/summary.js')
    const { WaybillError } = await import('../../src/util/errors.js')
    expect(withHint("stage 'x' does not exist\nhint: stages: a, b")).toBe(
      "stage 'x' does not exist — hint: stages: a, b"
    )
    const md = failureSummary(
      'promote',
      new WaybillError('freight <b>x</b> is not available', 'approve it: `waybill approve`'),
      'https://github.com/acme/gitops/actions/runs/1'
    )
    expect(md).toContain('### ❌ waybill promote failed')
    expect(md).toContain('freight &lt;b&gt;x&lt;/b&gt; is not available')
    expect(md).toContain('**Hint:** approve it: \\`waybill approve\\`')
    expect(md).toContain('[Workflow run](https://github.com/acme/gitops/actions/runs/1)')
  })

  it('a dry run shows what would run and the diff in a fence the diff cannot close', async () => {
    const { dryRunSummary } = await import('../../src/report/summary.js')
    const diff = '+++ b/out/a.md\n+```\n+@admin <img src=x>\n'
    const md = dryRunSummary({
      stage: 'prod',
      phase: 'Succeeded',
      wouldRun: ['push (git-push)'],
      diff
    })
    expect(md).toContain('- push (git-push)')
    expect(md).toContain('````diff\n+++ b/out/a.md')
    expect(md.trimEnd().endsWith('````')).toBe(true)
  })
})
