import { describe, expect, it } from '@jest/globals'
import { makeRepo } from '../support/git.js'
import { addFreight, makeFreight } from '../support/state-fixtures.js'
import { statusCommand, type StatusJson } from '../../src/commands/status.js'
import type { CommandContext } from '../../src/runtime/context.js'
import { StateStore } from '../../src/state/store.js'
import { emptyStageState } from '../../src/state/types.js'
import { freightCollectionId } from '../../src/freight/id.js'
import { defaultServices } from '../../src/runtime/services.js'
import { MemoryLogger } from '../../src/util/logger.js'

const stage = (name: string, sources: string) => `apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata:
  name: ${name}
spec:
  requestedFreight:
    - origin: { kind: Warehouse, name: guestbook }
      sources: ${sources}
  promotionTemplate:
    spec:
      steps:
        - uses: git-clone
          config: { repoURL: https://github.com/acme/gitops, checkout: [{ branch: main, path: ./src }] }
`

const CONFIG = {
  '.waybill/warehouse.yaml': `apiVersion: kargo.akuity.io/v1alpha1
kind: Warehouse
metadata:
  name: guestbook
spec:
  subscriptions:
    - image:
        repoURL: ghcr.io/example/guestbook
`,
  // Deliberately not in promotion order: status sorts by the DAG.
  '.waybill/stages.yaml': [
    stage('prod', '{ stages: [uat] }'),
    stage('uat', '{ stages: [test] }'),
    stage('test', '{ direct: true }')
  ].join('---\n')
}

function context(repoDir: string, json: boolean) {
  const out: string[] = []
  const logger = new MemoryLogger()
  const ctx: CommandContext = {
    repoDir,
    configDir: '.waybill',
    stateBranch: 'waybill/state',
    remote: 'origin',
    json,
    logger,
    services: defaultServices({}),
    waitMs: 0,
    print: (t) => out.push(t),
    now: () => new Date('2025-02-01T00:00:00Z')
  }
  return { ctx, out, logger }
}

describe('waybill status', () => {
  it('prints stages in DAG order with current freight, warehouses with latest freight', async () => {
    const repo = makeRepo(CONFIG)
    const store = new StateStore({
      repoDir: repo.work,
      remote: 'origin',
      branch: 'waybill/state',
      logger: new MemoryLogger()
    })
    const old = makeFreight('guestbook', 1, '2025-01-01T00:00:00.000Z', 'image')
    const latest = makeFreight('guestbook', 2, '2025-01-02T00:00:00.000Z', 'image')
    await store.update((d) => {
      addFreight(d, { ...old, alias: 'brave-otter' })
      addFreight(d, { ...latest, alias: 'calm-heron' })
      d.freight[old.name].status.verifiedIn.test = { verifiedAt: '2025-01-01T01:00:00Z' }
      d.stages.test = {
        ...emptyStageState(),
        freightHistory: [
          {
            id: freightCollectionId([old.name]),
            items: { 'Warehouse/guestbook': { name: old.name, origin: old.origin } },
            verificationHistory: []
          }
        ],
        lastPromotion: {
          name: 'test.01jxyz.abc1234',
          freight: old.name,
          phase: 'Succeeded',
          finishedAt: '2025-01-01T00:30:00Z'
        },
        health: { status: 'Healthy' }
      }
      d.warehouses.guestbook = { lastDiscoveredAt: '2025-01-02T00:00:00Z' }
      return 'seed'
    })

    const json = context(repo.work, true)
    expect((await statusCommand.run(json.ctx, {})).exitCode).toBe(0)
    const s = JSON.parse(json.out.join('\n')) as StatusJson
    expect(s.stages.map((x) => x.name)).toEqual(['test', 'uat', 'prod'])
    expect(s.stages[0]).toEqual({
      name: 'test',
      freight: [{ origin: 'guestbook', id: old.name, alias: 'brave-otter' }],
      lastPromotion: {
        name: 'test.01jxyz.abc1234',
        phase: 'Succeeded',
        freight: old.name,
        finishedAt: '2025-01-01T00:30:00Z'
      },
      currentPromotion: null,
      health: 'Healthy',
      verified: true,
      drift: []
    })
    expect(s.stages[1]).toMatchObject({
      freight: [{ origin: 'guestbook', id: null, alias: null }],
      lastPromotion: null,
      health: null,
      verified: false
    })
    expect(s.warehouses).toEqual([
      {
        name: 'guestbook',
        latestFreight: {
          id: latest.name,
          alias: 'calm-heron',
          discoveredAt: '2025-01-02T00:00:00.000Z',
          artifacts: [`ghcr.io/example/guestbook:${latest.images[0].tag}`]
        },
        lastDiscoveredAt: '2025-01-02T00:00:00Z',
        lastError: null
      }
    ])

    const human = context(repo.work, false)
    await statusCommand.run(human.ctx, {})
    const text = human.out.join('\n')
    const lines = text.split('\n')
    const row = (name: string) => lines.findIndex((l) => l.trim().startsWith(name + ' '))
    expect(row('test')).toBeLessThan(row('uat'))
    expect(row('uat')).toBeLessThan(row('prod'))
    expect(lines[row('test')]).toMatch(
      new RegExp(
        `guestbook: brave-otter \\(${old.name.slice(0, 7)}\\)\\s+Succeeded\\s+Healthy\\s+yes`
      )
    )
    expect(lines[row('prod')]).toMatch(/guestbook: -\s+-\s+-\s+no/)
    expect(text).toMatch(
      new RegExp(
        `guestbook\\s+calm-heron \\(${latest.name.slice(0, 7)}\\)\\s+ghcr\\.io/example/guestbook:v1\\.0\\.2\\s+2025-01-02T00:00:00Z`
      )
    )
    expect(text).toContain('2 freight, 0 promotions')
  })

  it('works before any state exists', async () => {
    const repo = makeRepo(CONFIG)
    const { ctx, out } = context(repo.work, true)
    await statusCommand.run(ctx, {})
    const s = JSON.parse(out.join('\n')) as StatusJson
    expect(s.stages.every((x) => x.freight[0].id === null)).toBe(true)
    expect(s.warehouses[0]).toMatchObject({
      name: 'guestbook',
      latestFreight: null,
      lastDiscoveredAt: null
    })
  })
})
