/**
 * A fan-out/fan-in pipeline with two warehouses and five stages, and a state in the middle of
 * its life: freight in every stage, a failed verification, a waiting promotion with a PR, and
 * hostile strings in freight fields.
 *
 *   app ──► test ──► qa ──┐
 *   config ─┘    └─► uat ─┴─► prod ──► prod-dr (control flow)
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { loadProject, type ProjectModel } from '../../src/config/index.js'
import { emptyState, type Promotion, type State } from '../../src/state/types.js'
import type { Freight } from '../../src/freight/types.js'
import { addFreight, makeFreight } from '../support/state-fixtures.js'

export const HOSTILE_MESSAGE =
  '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"> | `x` [y](javascript:alert(1))'
export const HOSTILE_TAG = 'v9"><svg onload=alert(1)>'

const task = (stage: string) => `
apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata:
  name: ${stage}
spec:
  requestedFreight: REQ
  promotionTemplate:
    spec:
      steps:
        - uses: git-clone
          config:
            repoURL: https://github.com/acme/deploy.git
            checkout: [{ branch: main, path: ./src }]
`

function stage(name: string, requested: object[], controlFlow = false): string {
  const text = controlFlow
    ? `
apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata:
  name: ${name}
spec:
  requestedFreight: REQ
`
    : task(name)
  return text.replace('REQ', JSON.stringify(requested))
}

const req = (origin: string, sources: object) => ({
  origin: { kind: 'Warehouse', name: origin },
  sources
})

export async function fixtureModel(): Promise<ProjectModel> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'waybill-report-'))
  const files: Record<string, string> = {
    'warehouses.yaml': `
apiVersion: kargo.akuity.io/v1alpha1
kind: Warehouse
metadata:
  name: app
spec:
  subscriptions:
    - image: { repoURL: ghcr.io/acme/app }
    - git: { repoURL: https://github.com/acme/app.git }
---
apiVersion: kargo.akuity.io/v1alpha1
kind: Warehouse
metadata:
  name: config
spec:
  subscriptions:
    - git: { repoURL: https://github.com/acme/config.git }
`,
    'stages.yaml': [
      stage('test', [req('app', { direct: true }), req('config', { direct: true })]),
      stage('qa', [req('app', { stages: ['test'] })]),
      stage('uat', [req('app', { stages: ['test'] }), req('config', { stages: ['test'] })]),
      stage('prod', [
        req('app', { stages: ['qa', 'uat'], availabilityStrategy: 'All' }),
        req('config', { stages: ['uat'] })
      ]),
      stage(
        'prod-dr',
        [req('app', { stages: ['prod'] }), req('config', { stages: ['prod'] })],
        true
      )
    ].join('\n---\n')
  }
  fs.mkdirSync(path.join(dir, '.waybill'))
  for (const [f, c] of Object.entries(files)) fs.writeFileSync(path.join(dir, '.waybill', f), c)
  const { model, problems } = await loadProject(dir, '.waybill')
  const errors = problems.filter((p) => p.severity === 'error')
  if (errors.length) throw new Error(JSON.stringify(errors, null, 2))
  fs.rmSync(dir, { recursive: true, force: true })
  return model
}

export interface Fixture {
  model: ProjectModel
  state: State
  app: Freight[]
  config: Freight[]
  runURL: string
}

const RUN = 'https://github.com/acme/app/actions/runs/'

export async function fixture(): Promise<Fixture> {
  const model = await fixtureModel()
  const state = emptyState()
  const app: Freight[] = []
  const config: Freight[] = []
  for (let n = 1; n <= 4; n++) {
    const f = makeFreight('app', n)
    if (n === 4) {
      f.commits[0].message = HOSTILE_MESSAGE
      f.images[0].tag = HOSTILE_TAG
    }
    addFreight(state, f)
    app.push(state.freight[f.name])
  }
  for (let n = 1; n <= 2; n++) {
    const f = makeFreight('config', n, undefined, 'git')
    addFreight(state, f)
    config.push(state.freight[f.name])
  }
  const t = (min: number) => new Date(Date.UTC(2025, 0, 2, 10, min)).toISOString()
  let seq = 0
  const promo = (
    stageName: string,
    f: Freight,
    phase: Promotion['phase'],
    extra: Partial<Promotion> = {}
  ): Promotion => {
    seq++
    const p: Promotion = {
      name: `${stageName}.01jx${String(seq).padStart(4, '0')}.${f.name.slice(0, 7)}`,
      stage: stageName,
      freight: f.name,
      phase,
      createdAt: t(seq),
      startedAt: t(seq),
      finishedAt: phase === 'Running' || phase === 'Pending' ? undefined : t(seq + 1),
      runURL: `${RUN}${1000 + seq}`,
      auto: true,
      steps: [],
      currentStep: 0,
      stepExecutionMetadata: [],
      state: {},
      ...extra
    }
    state.promotions[p.name] = p
    return p
  }
  const current = (
    stageName: string,
    items: Freight[],
    verification?: { phase: 'Successful' | 'Failed' | 'Running'; message?: string },
    health?: State['stages'][string]['health']
  ) => {
    const verified = verification?.phase === 'Successful' || verification === undefined
    for (const f of items) {
      f.status.currentlyIn[stageName] = { since: t(30) }
      if (verified) f.status.verifiedIn[stageName] = { verifiedAt: t(31) }
    }
    const itemsMap = Object.fromEntries(
      items.map((f) => [`Warehouse/${f.origin.name}`, { name: f.name, origin: f.origin }])
    )
    state.stages[stageName] = {
      freightHistory: [
        {
          id: `${stageName}-c`,
          items: itemsMap,
          verificationHistory: verification
            ? [
                {
                  id: `${stageName}.v1`,
                  startTime: t(31),
                  finishTime: verification.phase === 'Running' ? undefined : t(32),
                  phase: verification.phase,
                  message: verification.message
                }
              ]
            : []
        }
      ],
      metadata: {},
      autoPromotionHolds: {},
      health
    }
  }
  // Older history first.
  promo('test', app[1], 'Succeeded')
  promo('qa', app[1], 'Succeeded')
  promo('uat', app[1], 'Succeeded')
  promo('prod', app[1], 'Succeeded', {
    auto: false,
    actor: 'octocat',
    state: { 'open-pr': { pr: { id: 41, url: 'https://github.com/acme/deploy/pull/41' } } }
  })
  promo('test', app[2], 'Succeeded')
  promo('qa', app[2], 'Succeeded')
  promo('uat', app[2], 'Failed', { message: 'kustomize build failed: no such file' })
  promo('uat', app[2], 'Succeeded', { auto: false, actor: 'octocat' })
  const waiting = promo('test', app[3], 'Running', {
    message: 'waiting for pull request #42 to be merged',
    state: { 'open-pr': { pr: { id: 42, url: 'https://github.com/acme/deploy/pull/42' } } }
  })
  current(
    'test',
    [app[2], config[1]],
    { phase: 'Running', message: 'waiting for checks' },
    {
      status: 'Progressing'
    }
  )
  current(
    'qa',
    [app[2]],
    { phase: 'Successful', message: 'all checks passed' },
    {
      status: 'Healthy'
    }
  )
  current(
    'uat',
    [app[2], config[1]],
    { phase: 'Failed', message: HOSTILE_MESSAGE },
    {
      status: 'Unhealthy',
      issues: ['Deployment app is degraded']
    }
  )
  current('prod', [app[1], config[0]], { phase: 'Successful' }, { status: 'Healthy' })
  current('prod-dr', [app[1], config[0]])
  state.stages.test.currentPromotion = waiting.name
  // app[3] (the hostile one) is fresh: discovered, not yet anywhere.
  return { model, state, app, config, runURL: `${RUN}2000` }
}
