import { beforeAll, describe, expect, it } from '@jest/globals'
import crypto from 'node:crypto'
import { layoutPipeline, renderStatusPage } from '../../src/report/status-page.js'
import { pipelineView } from '../../src/report/view.js'
import { emptyState } from '../../src/state/types.js'
import { fixture, HOSTILE_MESSAGE, type Fixture } from './fixture.js'

let fx: Fixture
let html: string
beforeAll(async () => {
  fx = await fixture()
  html = renderStatusPage({
    model: fx.model,
    state: fx.state,
    project: 'acme<shop>',
    generatedAt: new Date('2025-01-02T11:00:00Z'),
    repoUrl: 'javascript:alert(1)'
  })
})

describe('renderStatusPage (static checks; the browser test renders it)', () => {
  it('is self-contained: no external URL is loaded', () => {
    expect(html).not.toMatch(/<(link|script|img)[^>]+(src|href)="(https?:)?\/\//i)
    expect(html).not.toMatch(/@import|url\(http/i)
  })

  it('allows exactly its own inline script through the CSP hash', () => {
    const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1])
    expect(scripts).toHaveLength(1)
    const hash = crypto.createHash('sha256').update(scripts[0]).digest('base64')
    expect(html).toContain(`script-src 'sha256-${hash}'`)
    expect(html).toContain("default-src 'none'")
  })

  it('escapes hostile strings and drops non-http links', () => {
    expect(html).not.toContain('<script>window.__pwned')
    expect(html).toContain('&lt;script&gt;window.__pwned = 1&lt;/script&gt;')
    expect(html).toContain('<title>acme&lt;shop&gt; · Waybill pipeline</title>')
    expect(html).not.toContain('javascript:alert(1)"')
    expect(html).not.toContain('href="javascript:')
    expect(HOSTILE_MESSAGE).toContain('<script>')
  })

  it('renders an empty project', () => {
    const empty = renderStatusPage({
      model: { ...fx.model, stages: new Map(), warehouses: new Map() },
      state: emptyState(),
      project: 'p',
      generatedAt: new Date()
    })
    expect(empty).toContain('No stages configured.')
    expect(empty).toContain('No freight discovered yet.')
    expect(empty).toContain('No promotions yet.')
  })

  it('puts each column to the right of the previous one', () => {
    const view = pipelineView(fx.model, fx.state)
    const layout = layoutPipeline(view)
    const x = (s: string) => layout.stages.get(s)!.x
    expect(layout.warehouses.get('app')!.x).toBeLessThan(x('test'))
    expect(x('qa')).toBe(x('uat'))
    expect(x('prod')).toBeGreaterThan(x('uat'))
    expect(layout.width).toBeGreaterThan(x('prod-dr'))
  })
})
