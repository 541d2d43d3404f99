/**
 * The status page in a real headless Chromium (Debian's `chromium`, driven by playwright-core):
 * it loads with no console errors, shows the stages and their aliases, renders hostile freight
 * fields as text, and lays the DAG out left to right. A screenshot is kept in __tests__/artifacts.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import fs from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import type { AddressInfo } from 'node:net'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { renderStatusPage } from '../../src/report/status-page.js'
import { fixture, HOSTILE_MESSAGE, HOSTILE_TAG, type Fixture } from './fixture.js'

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => fs.existsSync(p))
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync'
]
const ARTIFACTS = path.join(process.cwd(), '__tests__', 'artifacts')

if (!CHROMIUM)
  console.warn(
    'status page browser test skipped: Debian chromium is not installed (apt-get install -y chromium, or run npm run tools as root)'
  )

const d = CHROMIUM ? describe : describe.skip

d('status page in headless Chromium', () => {
  let fx: Fixture
  let server: http.Server
  let url: string
  let context: BrowserContext
  let page: Page
  let userDataDir: string
  const problems: string[] = []
  const requests: string[] = []

  beforeAll(async () => {
    fx = await fixture()
    const html = renderStatusPage({
      model: fx.model,
      state: fx.state,
      project: 'acme-shop',
      generatedAt: new Date('2025-01-02T11:00:00Z'),
      repoUrl: 'https://github.com/acme/shop'
    })
    server = http.createServer((req, res) => {
      requests.push(req.url ?? '')
      if (req.url === '/' || req.url === '/index.html') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
        res.end(html)
      } else {
        res.writeHead(404)
        res.end()
      }
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
    userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'waybill-chromium-'))
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      viewport: { width: 1400, height: 900 }
    })
    page = context.pages()[0] ?? (await context.newPage())
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`)
    })
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`))
    await page.goto(url, { waitUntil: 'load' })
  }, 60_000)

  afterAll(async () => {
    await context?.close()
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()))
    if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true })
  })

  it('loads with no console errors and makes no other request', async () => {
    expect(await page.title()).toBe('acme-shop · Waybill pipeline')
    expect(problems).toEqual([])
    expect(requests).toEqual(['/'])
  })

  it('shows every stage with its current freight aliases', async () => {
    const stages = await page.$$eval('section.stage', (els) =>
      els.map((el) => ({
        name: el.querySelector('h3')!.textContent,
        aliases: Array.from(el.querySelectorAll('.alias')).map((a) => a.textContent),
        status: el.className.replace('stage ', '')
      }))
    )
    const by = Object.fromEntries(stages.map((s) => [s.name, s]))
    expect(Object.keys(by).sort()).toEqual(['prod', 'prod-dr', 'qa', 'test', 'uat'])
    expect(by.test.aliases).toEqual([fx.app[2].alias, fx.config[1].alias])
    expect(by.qa.aliases).toEqual([fx.app[2].alias])
    expect(by.prod.aliases).toEqual([fx.app[1].alias, fx.config[0].alias])
    expect(by['prod-dr'].aliases).toEqual([fx.app[1].alias, fx.config[0].alias])
    expect(by.uat.status).toBe('failed')
    expect(by.qa.status).toBe('healthy')
    expect(by.test.status).toBe('progressing')
    const testText = await page.textContent('section.stage[data-stage="test"]')
    expect(testText).toContain('promoting')
    expect(testText).toContain(fx.app[3].alias)
    const warehouses = await page.$$eval('section.warehouse h3', (els) =>
      els.map((e) => e.textContent)
    )
    expect(warehouses).toEqual(['app', 'config'])
  })

  it('lays the DAG out left to right with fan-out and fan-in, without overlaps', async () => {
    const boxes = await page.$$eval('section.stage, section.warehouse', (els) =>
      els.map((el) => {
        const r = el.getBoundingClientRect()
        return {
          name: el.getAttribute('data-stage') ?? `w:${el.querySelector('h3')!.textContent}`,
          x: r.x,
          y: r.y,
          w: r.width,
          h: r.height
        }
      })
    )
    const b = Object.fromEntries(boxes.map((x) => [x.name, x]))
    expect(b['w:app'].x).toBeLessThan(b.test.x)
    expect(b.test.x).toBeLessThan(b.qa.x)
    expect(b.qa.x).toBe(b.uat.x)
    expect(b.uat.x).toBeLessThan(b.prod.x)
    expect(b.prod.x).toBeLessThan(b['prod-dr'].x)
    for (const p of boxes)
      for (const q of boxes) {
        if (p === q) continue
        const overlap = p.x < q.x + q.w && q.x < p.x + p.w && p.y < q.y + q.h && q.y < p.y + p.h
        expect(overlap ? `${p.name} overlaps ${q.name}` : '').toBe('')
      }
    const edges = await page.$$eval('svg.edges > path', (els) => els.length)
    expect(edges).toBe(10)
  })

  it('renders hostile freight fields as text, never as markup', async () => {
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBe(
      undefined
    )
    expect(await page.$$eval('script', (els) => els.length)).toBe(1)
    expect(await page.$$eval('img, svg svg, iframe', (els) => els.length)).toBe(0)
    const subjects = await page.$$eval('.subject', (els) => els.map((e) => e.textContent))
    expect(subjects).toContain(HOSTILE_MESSAGE)
    const body = await page.textContent('body')
    expect(body).toContain(HOSTILE_TAG)
    const uatTitle = await page.getAttribute(
      'section.stage[data-stage="uat"] .status .pill.bad:last-child',
      'title'
    )
    expect(uatTitle).toBe(HOSTILE_MESSAGE)
  })

  it('lists the freight timeline newest first and the promotion history with links', async () => {
    const appTimeline = await page.$$eval('.timeline', (els) =>
      els.map((el) => Array.from(el.querySelectorAll('.freight .alias')).map((a) => a.textContent))
    )
    expect(appTimeline[0]).toEqual([...fx.app].reverse().map((f) => f.alias))
    const chips = await page.$$eval(`.freight[data-freight="${fx.app[1].name}"] .chip`, (els) =>
      els.map((e) => `${e.className}:${e.textContent}`)
    )
    expect(chips).toEqual(['chip current verified:prod', 'chip current verified:prod-dr'])
    const rows = await page.$$eval('table.history tbody tr', (els) =>
      els.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.textContent.trim()))
    )
    expect(rows).toHaveLength(9)
    expect(rows[0][1]).toBe('test')
    expect(rows[0][3]).toBe('Running')
    const links = await page.$$eval('table.history tbody tr:first-child a', (els) =>
      els.map((a) => [a.textContent, a.getAttribute('href')])
    )
    expect(links).toEqual([
      ['run', 'https://github.com/acme/app/actions/runs/1009'],
      ['PR #42', 'https://github.com/acme/deploy/pull/42']
    ])
    const times = await page.$$eval('table.history time', (els) => els.map((e) => e.textContent))
    expect(times[0]).toMatch(/ago$/)
  })

  it('saves a screenshot', async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true })
    const file = path.join(ARTIFACTS, 'status-page.png')
    await page.screenshot({ path: file, fullPage: true })
    expect(fs.statSync(file).size).toBeGreaterThan(10_000)
  })
})
