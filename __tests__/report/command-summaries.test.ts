// The discover and validate job summaries with hostile text in every place a user controls:
// repository paths, file names, field names. A job summary is Markdown that GitHub renders with
// inline HTML, so none of it may open a tag, break a table row, run code spans or @mention.
import { afterAll, describe, expect, it } from '@jest/globals'
import fs from 'node:fs'
import path from 'node:path'
import { discoverCommand } from '../../src/commands/discover.js'
import { validateCommand } from '../../src/commands/validate.js'
import type { CommandContext } from '../../src/runtime/context.js'
import { defaultServices } from '../../src/runtime/services.js'
import { MemoryLogger } from '../../src/util/logger.js'
import { makeRepo, tempDir } from '../support/git.js'
import { BASE, writeProject } from '../config/support.js'

const HOSTILE = 'x|y`@admin<img src=x onerror=alert(1)>'

const dirs: string[] = []
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })))

function context(repoDir: string): CommandContext {
  return {
    repoDir,
    configDir: '.waybill',
    stateBranch: 'waybill/state',
    remote: 'origin',
    json: true,
    logger: new MemoryLogger(),
    services: defaultServices({}),
    waitMs: 0,
    print: () => undefined,
    now: () => new Date()
  }
}

/** Cells of a Markdown table row: split on pipes that are not backslash-escaped. */
function cells(row: string): string[] {
  return row
    .trim()
    .replace(/^\||\|$/g, '')
    .split(/(?<!\\)\|/)
}

function expectInert(summary: string): void {
  expect(summary).not.toMatch(/<img/i)
  expect(summary).not.toMatch(/(^|[^\\])`@admin/)
  expect(summary).not.toContain('@admin')
  // Every backtick left is escaped or part of a fixed-width ID the command wrote itself.
  for (const m of summary.matchAll(/(?<!\\)`([^`]*)`/g)) expect(m[1]).toMatch(/^[0-9a-f]*$/)
}

describe('job summaries escape untrusted text', () => {
  it('discover: repository URLs and error messages in the freight table and notes', async () => {
    const root = path.join(tempDir(), HOSTILE)
    const app = makeRepo({ 'a.txt': '1' }, root)
    dirs.push(path.dirname(root))
    const cfg = makeRepo(
      {
        '.waybill/warehouses.yaml': [
          'apiVersion: kargo.akuity.io/v1alpha1',
          'kind: Warehouse',
          'metadata: {name: app}',
          'spec:',
          '  subscriptions:',
          `    - git: {repoURL: ${JSON.stringify(app.url)}}`,
          '---',
          'apiVersion: kargo.akuity.io/v1alpha1',
          'kind: Warehouse',
          'metadata: {name: gone}',
          'spec:',
          '  subscriptions:',
          `    - git: {repoURL: ${JSON.stringify(`${app.url}-missing`)}}`,
          ''
        ].join('\n')
      },
      tempDir()
    )
    dirs.push(cfg.root)
    const res = await discoverCommand.run(context(cfg.work), {})
    const summary = res.summary!
    // The hostile URL made it into both the table and the error notes.
    expect(summary).toContain('onerror')
    const rows = summary.split('\n').filter((l) => l.startsWith('|'))
    expect(rows.length).toBe(3)
    for (const row of rows) expect(cells(row)).toHaveLength(4)
    expect(summary).toMatch(/^- :x: gone: .*onerror/m)
    expectInert(summary)
  }, 60_000)

  it('validate: file names, fields and messages in the problem table', async () => {
    const repo = writeProject({
      'base.yaml': BASE,
      [`${HOSTILE}.yaml`]: [
        'apiVersion: kargo.akuity.io/v1alpha1',
        'kind: Warehouse',
        'metadata: {name: w2}',
        'spec:',
        `  ${JSON.stringify(HOSTILE)}: 1`,
        '  subscriptions:',
        '  - git: {repoURL: https://github.com/acme/src.git}',
        ''
      ].join('\n')
    })
    dirs.push(repo)
    const res = await validateCommand.run(context(repo), {})
    expect(res.exitCode).toBe(1)
    const summary = res.summary!
    expect(summary).toContain('onerror')
    const rows = summary.split('\n').filter((l) => l.startsWith('|'))
    expect(rows.length).toBeGreaterThan(2)
    for (const row of rows) expect(cells(row)).toHaveLength(3)
    expectInert(summary)
  })
})
