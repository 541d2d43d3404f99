import { describe, expect, it } from '@jest/globals'
import {
  stageOrder,
  upstreamStages,
  downstreamStages,
  stagesRequestingOrigin
} from '../../src/config/index.js'
import { load, lines } from './support.js'

const H = 'apiVersion: kargo.akuity.io/v1alpha1\n'
const warehouse = (name: string) =>
  `${H}kind: Warehouse\nmetadata:\n  name: ${name}\nspec:\n  subscriptions:\n  - image:\n      repoURL: ghcr.io/acme/${name}\n`
/** A stage taking each origin from the given upstream stages (or directly when none). */
const stage = (name: string, origins: Record<string, string[]>) =>
  `${H}kind: Stage\nmetadata:\n  name: ${name}\nspec:\n  requestedFreight:\n` +
  Object.entries(origins)
    .map(
      ([w, ups]) =>
        `  - origin:\n      kind: Warehouse\n      name: ${w}\n    sources:\n` +
        (ups.length ? `      stages: [${ups.join(', ')}]\n` : '      direct: true\n')
    )
    .join('')

describe('stage graph', () => {
  it('orders stages topologically, ties by name, across two warehouses (fan-out and fan-in)', async () => {
    const { model, problems } = await load({
      'w.yaml': [warehouse('api'), warehouse('web')].join('---\n'),
      // declared in a scrambled order on purpose
      's.yaml': [
        stage('prod', { api: ['uat-b', 'uat-a'], web: ['uat-a'] }),
        stage('uat-b', { api: ['dev'] }),
        stage('dev', { api: [], web: [] }),
        stage('uat-a', { api: ['dev'], web: ['dev'] }),
        stage('canary', { api: [] }),
        stage('prod-eu', { api: ['prod'] })
      ].join('---\n')
    })
    expect(lines(problems)).toEqual([])
    expect(stageOrder(model)).toEqual(['canary', 'dev', 'uat-a', 'uat-b', 'prod', 'prod-eu'])
    expect(upstreamStages(model.stages.get('prod')!)).toEqual(['uat-b', 'uat-a'])
    expect(upstreamStages(model.stages.get('dev')!)).toEqual([])
    expect(downstreamStages(model, 'dev')).toEqual(['uat-a', 'uat-b'])
    expect(downstreamStages(model, 'prod')).toEqual(['prod-eu'])
    expect(downstreamStages(model, 'prod-eu')).toEqual([])
    expect(stagesRequestingOrigin(model, 'web')).toEqual(['dev', 'uat-a', 'prod'])
    expect(stagesRequestingOrigin(model, 'api')).toEqual([
      'canary',
      'dev',
      'uat-a',
      'uat-b',
      'prod',
      'prod-eu'
    ])
    expect(stagesRequestingOrigin(model, 'nope')).toEqual([])
  })

  it('reports a three-stage cycle once, in the direction freight flows, and still orders every stage', async () => {
    const { model, problems } = await load({
      'w.yaml': warehouse('api'),
      's.yaml': [
        stage('a', { api: ['c'] }),
        stage('b', { api: ['a'] }),
        stage('c', { api: ['b'] }),
        stage('root', { api: [] })
      ].join('---\n')
    })
    expect(lines(problems)).toEqual([
      '.waybill/s.yaml:23:16: error: Stage/b: spec.requestedFreight[0].sources.stages[0]: stages form a cycle: a → b → c → a'
    ])
    expect(stageOrder(model)).toEqual(['root', 'a', 'b', 'c'])
  })

  it('orders a large graph as "the smallest ready name first", with stages behind a cycle last', () => {
    const requested = (ups: string[]) => ({
      spec: {
        requestedFreight: [{ origin: { kind: 'Warehouse', name: 'w' }, sources: { stages: ups } }]
      }
    })
    const stages = new Map<string, unknown>()
    // Three chains per service (declared backwards), a stage behind a two-stage cycle.
    for (let i = 999; i >= 0; i--) {
      const svc = `svc-${String(i).padStart(4, '0')}`
      stages.set(`${svc}-prod`, requested([`${svc}-uat`]))
      stages.set(`${svc}-uat`, requested([`${svc}-test`]))
      stages.set(`${svc}-test`, requested([]))
    }
    stages.set('loop-a', requested(['loop-b']))
    stages.set('loop-b', requested(['loop-a']))
    stages.set('after-loop', requested(['loop-b', 'svc-0000-prod']))
    const order = stageOrder({ stages } as unknown as Parameters<typeof stageOrder>[0])
    expect(order).toHaveLength(3003)
    // A service's uat and prod are ready right after its test and sort before the next service.
    expect(order.slice(0, 6)).toEqual([
      'svc-0000-test',
      'svc-0000-uat',
      'svc-0000-prod',
      'svc-0001-test',
      'svc-0001-uat',
      'svc-0001-prod'
    ])
    expect(order.indexOf('svc-0999-prod')).toBe(2999)
    expect(order.slice(-3)).toEqual(['after-loop', 'loop-a', 'loop-b'])
  })
})
