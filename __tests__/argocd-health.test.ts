import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals'
import {
  argocdServices,
  argocdStepContext,
  argocdSwaggerAvailable,
  startArgoCDFake,
  type ArgoCDFake
} from './support/argocd-fake.js'
import {
  applicationHealth,
  evaluateHealthChecks,
  isHealthyForVerification,
  mergeHealth,
  summarizeHealth
} from '../src/promotion/health.js'
import { argocdUpdateStep } from '../src/steps/argocd/argocd-update.js'
import { defaultServices } from '../src/runtime/services.js'
import { MemoryLogger } from '../src/util/logger.js'

const d = argocdSwaggerAvailable ? describe : describe.skip
const TOKEN = 'health-token-31337'
const REPO = 'https://github.com/example/gitops.git'
const SHA = 'c'.repeat(40)

test('merge keeps the most severe state', () => {
  expect(mergeHealth('Healthy', 'Progressing')).toBe('Progressing')
  expect(mergeHealth('Progressing', 'Unknown')).toBe('Unknown')
  expect(mergeHealth('Unhealthy', 'Unknown')).toBe('Unhealthy')
  expect(mergeHealth('NotApplicable', 'Healthy')).toBe('Healthy')
})

test('application health, case by case', () => {
  const t0 = '2026-01-01T00:00:00Z'
  const t1 = '2026-01-01T00:01:00Z'
  const app = (status: Record<string, unknown>, operation?: unknown) =>
    ({ status, ...(operation ? { operation } : {}) }) as never
  expect(applicationHealth(app({ health: { status: 'Healthy' } })).status).toBe('Healthy')
  expect(applicationHealth(app({ health: { status: 'Progressing' } })).status).toBe('Progressing')
  expect(applicationHealth(app({})).status).toBe('Progressing')
  expect(applicationHealth(app({ health: { status: 'Suspended' } }))).toEqual({
    status: 'Progressing',
    message: 'the Application is suspended'
  })
  for (const h of ['Degraded', 'Missing', 'Unknown']) {
    expect(applicationHealth(app({ health: { status: h, message: 'why' } }))).toEqual({
      status: 'Unhealthy',
      message: `Argo CD reports health ${h}: why`
    })
  }
  // Not reconciled since the last operation finished.
  expect(
    applicationHealth(
      app({
        health: { status: 'Healthy' },
        reconciledAt: t0,
        operationState: { phase: 'Succeeded', finishedAt: t1 }
      })
    ).status
  ).toBe('Unknown')
  // Error conditions.
  expect(
    applicationHealth(
      app({
        health: { status: 'Healthy' },
        conditions: [{ type: 'ComparisonError', message: 'repo gone' }]
      })
    )
  ).toEqual({ status: 'Unhealthy', message: 'ComparisonError: repo gone' })
  // Desired revisions: syncing → Unknown, mismatch → Unhealthy, match → app health.
  const synced = { health: { status: 'Healthy' }, sync: { status: 'Synced', revision: SHA } }
  expect(applicationHealth(app(synced), [SHA]).status).toBe('Healthy')
  expect(applicationHealth(app(synced), ['d'.repeat(40)])).toEqual({
    status: 'Unhealthy',
    message: `sync revision ${SHA} does not match desired revision ${'d'.repeat(40)}`
  })
  expect(
    applicationHealth(app({ ...synced, operationState: { phase: 'Running' } }), [SHA]).status
  ).toBe('Unknown')
  expect(applicationHealth(app(synced, { sync: {} }), [SHA]).status).toBe('Unknown')
  // Without desired revisions a running sync does not matter.
  expect(applicationHealth(app({ ...synced, operationState: { phase: 'Running' } })).status).toBe(
    'Healthy'
  )
  // Multi-source: '' means any revision.
  expect(
    applicationHealth(
      app({ health: { status: 'Healthy' }, sync: { status: 'Synced', revisions: ['x', SHA] } }),
      ['', SHA]
    ).status
  ).toBe('Healthy')
})

test('no checks → Healthy; Argo CD not configured → Unknown; unknown kinds → Unknown', async () => {
  const logger = new MemoryLogger()
  const services = defaultServices({})
  expect((await evaluateHealthChecks([], { services, logger })).status).toBe('Healthy')
  const h = await evaluateHealthChecks(
    [{ uses: 'argocd-update', input: { apps: [{ name: 'a' }] } }],
    { services, logger }
  )
  expect(h.status).toBe('Unknown')
  expect(h.issues?.[0]).toMatch(/Argo CD is not configured/)
  const k = await evaluateHealthChecks([{ uses: 'http', input: {} }], { services, logger })
  expect(k).toMatchObject({ status: 'Unknown', issues: ["unknown health check 'http'"] })
})

d('stage health against the fake, after argocd-update', () => {
  let fake: ArgoCDFake
  beforeAll(async () => {
    fake = await startArgoCDFake({ token: TOKEN })
  })
  afterAll(async () => {
    await fake?.close()
  })
  afterEach(() => {
    fake.assertNoViolations()
    fake.reset()
  })

  test('Unknown while syncing, Progressing, then Healthy at the desired revision; Degraded → Unhealthy with the message', async () => {
    const services = argocdServices(fake.url, TOKEN)
    const logger = new MemoryLogger()
    fake.setTargetRevision(REPO, 'stage/test', SHA)
    for (const name of ['web', 'api']) {
      fake.addApplication({
        name,
        annotations: { 'kargo.akuity.io/authorized-stage': 'shop:test' },
        source: { repoURL: REPO, path: name, targetRevision: 'stage/test' },
        health: 'Healthy'
      })
    }
    const config = argocdUpdateStep.parse({
      apps: [
        { name: 'web', sources: [{ repoURL: REPO, desiredRevision: SHA }] },
        { name: 'api', sources: [{ repoURL: REPO, desiredRevision: SHA }] }
      ]
    })
    const ctx = () => argocdStepContext(services)
    expect((await argocdUpdateStep.run(config, ctx())).status).toBe('Running')
    fake.finishOperation('web', 'Succeeded')
    fake.finishOperation('api', 'Succeeded')
    const result = await argocdUpdateStep.run(config, ctx())
    expect(result.status).toBe('Succeeded')
    const checks = [result.healthCheck!]

    // A new sync (e.g. someone else's) is running: revisions cannot be judged.
    fake.startOperation('api')
    let h = await evaluateHealthChecks(checks, { services, logger })
    expect(h.status).toBe('Unknown')
    expect(h.issues).toEqual([
      'Application argocd/web: the Application is progressing',
      'Application argocd/api: the Application is being synced'
    ])
    fake.finishOperation('api', 'Succeeded', { health: 'Progressing' })

    h = await evaluateHealthChecks(checks, { services, logger })
    expect(h.status).toBe('Progressing')
    expect(summarizeHealth(h)).toBe(
      'Progressing (0/2 Applications healthy): Application argocd/web: the Application is progressing; Application argocd/api: the Application is progressing'
    )
    expect(isHealthyForVerification(h)).toBe(false)

    fake.setHealth('web', 'Healthy')
    fake.setHealth('api', 'Healthy')
    h = await evaluateHealthChecks(checks, { services, logger })
    expect(h.status).toBe('Healthy')
    expect(summarizeHealth(h)).toBe('Healthy (2/2 Applications healthy)')
    expect(isHealthyForVerification(h)).toBe(true)
    expect(h.output).toEqual({
      applicationStatuses: [
        {
          name: 'web',
          namespace: 'argocd',
          status: 'Healthy',
          health: 'Healthy',
          sync: 'Synced',
          revisions: [SHA]
        },
        {
          name: 'api',
          namespace: 'argocd',
          status: 'Healthy',
          health: 'Healthy',
          sync: 'Synced',
          revisions: [SHA]
        }
      ]
    })

    fake.setHealth('api', 'Degraded', 'Deployment "api" exceeded its progress deadline')
    h = await evaluateHealthChecks(checks, { services, logger })
    expect(h.status).toBe('Unhealthy')
    expect(h.issues).toEqual([
      'Application argocd/api: Argo CD reports health Degraded: Deployment "api" exceeded its progress deadline'
    ])

    // Someone moved the app to another revision: Unhealthy.
    fake.setHealth('api', 'Healthy')
    fake.setSyncStatus('web', 'Synced', ['e'.repeat(40)])
    h = await evaluateHealthChecks(checks, { services, logger })
    expect(h.status).toBe('Unhealthy')
    expect(h.issues?.[0]).toMatch(/does not match desired revision c{40}/)
  })

  test('an app that disappeared or a bad token → Unknown with the reason, token not shown', async () => {
    const logger = new MemoryLogger()
    const checks = [{ uses: 'argocd-update', input: { apps: [{ name: 'gone', namespace: 'x' }] } }]
    let h = await evaluateHealthChecks(checks, {
      services: argocdServices(fake.url, TOKEN),
      logger
    })
    expect(h.status).toBe('Unknown')
    expect(h.issues?.[0]).toMatch(/Application x\/gone not found/)
    const bad = 'bad-health-token-000'
    h = await evaluateHealthChecks(checks, { services: argocdServices(fake.url, bad), logger })
    expect(h.status).toBe('Unknown')
    expect(h.issues?.[0]).toMatch(/401[\s\S]*check argocd-token/)
    expect(JSON.stringify(h)).not.toContain(bad)
  })
})
