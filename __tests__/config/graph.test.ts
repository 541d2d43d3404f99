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
})
