import { describe, expect, it } from '@jest/globals'
import fs from 'node:fs'
import path from 'node:path'
import { discoverCommand } from '../../src/commands/discover.js'
import type { CommandContext } from '../../src/runtime/context.js'
import { defaultServices } from '../../src/runtime/services.js'
import { MemoryLogger } from '../../src/util/logger.js'
import { commitAndPush, gitIn, makeRepo, tempDir } from '../support/git.js'

function context(repoDir: string, json: boolean, out: string[]): CommandContext {
  return {
    repoDir,
    configDir: '.waybill',
    stateBranch: 'waybill/state',
    remote: 'origin',
    json,
    logger: new MemoryLogger(),
    services: defaultServices({}),
    waitMs: 0,
    print: (t) => out.push(t),
    now: () => new Date()
  }
}

describe('waybill discover', () => {
  it('creates freight from a config repo, prints it, sets outputs and a summary; push events route', async () => {
    const app = makeRepo({ 'src/a.go': '1', 'builds/x.yaml': '0' })
    const cfg = makeRepo(
      {
        '.waybill/warehouses.yaml': [
          'apiVersion: kargo.akuity.io/v1alpha1',
          'kind: Warehouse',
          'metadata: {name: guestbook}',
          'spec:',
          '  subscriptions:',
          `    - git: {repoURL: '${app.url}', excludePaths: [builds]}`,
          '---',
          'apiVersion: kargo.akuity.io/v1alpha1',
          'kind: Warehouse',
          'metadata: {name: manual}',
          'spec:',
          '  freightCreationPolicy: Manual',
          '  subscriptions:',
          `    - git: {repoURL: '${app.url}'}`,
          ''
        ].join('\n')
      },
      tempDir()
    )
    const out: string[] = []
    const res = await discoverCommand.run(context(cfg.work, true, out), {})
    expect(res.exitCode).toBe(0)
    const printed = JSON.parse(out.join('\n'))
    expect(printed.freight).toEqual([
      {
        id: expect.stringMatching(/^[0-9a-f]{40}$/),
        alias: expect.any(String),
        warehouse: 'guestbook',
        images: [],
        commits: [
          {
            repoURL: app.url,
            id: gitIn(app.work, 'rev-parse', 'HEAD'),
            branch: 'main',
            message: 'initial'
          }
        ],
        charts: []
      }
    ])
    expect(JSON.parse(res.outputs!.freight)).toEqual(printed.freight)
    expect(res.summary).toContain(`| ${printed.freight[0].alias} |`)
    expect(res.summary).toMatch(/manual: freightCreationPolicy is Manual/)

    // A push touching only excluded output: routed to no Git subscription of guestbook with changes.
    commitAndPush(app.work, { 'builds/x.yaml': '1' }, 'render')
    const push = {
      ref: 'refs/heads/main',
      repository: { clone_url: app.url, default_branch: 'main' },
      commits: [{ added: [], modified: ['builds/x.yaml'], removed: [] }]
    }
    const eventFile = path.join(tempDir(), 'event.json')
    fs.writeFileSync(eventFile, JSON.stringify(push))
    const human: string[] = []
    const routed = await discoverCommand.run(context(cfg.work, false, human), {
      'event-name': 'push',
      event: eventFile
    })
    expect(routed.exitCode).toBe(0)
    expect(human).toEqual([
      'No new freight.',
      'manual: freightCreationPolicy is Manual: candidates recorded, no freight created'
    ])
    expect(routed.summary).toMatch(/Trigger: push to branch main: manual/)
    // A source change with --warehouse: new freight.
    commitAndPush(app.work, { 'src/a.go': '2' }, 'feature')
    const again: string[] = []
    const res2 = await discoverCommand.run(context(cfg.work, false, again), {
      warehouse: ['guestbook']
    })
    expect(again[0]).toMatch(
      /^[a-z]+-[a-z]+ {2}[0-9a-f]{7} {2}guestbook {2}file:\/\/.*@[0-9a-f]{7}$/
    )
    expect(JSON.parse(res2.outputs!.freight)).toHaveLength(1)
  })
})
