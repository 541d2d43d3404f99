import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals'
import {
  argocdServices,
  argocdStepContext,
  argocdSwaggerAvailable,
  startArgoCDFake,
  type ArgoCDFake
} from '../support/argocd-fake.js'
import { argocdWaitStep } from '../../src/steps/argocd/argocd-wait.js'
import { stepRegistry } from '../../src/steps/index.js'

const d = argocdSwaggerAvailable ? describe : describe.skip

d('argocd-wait against a fake Argo CD', () => {
  let fake: ArgoCDFake
  beforeAll(async () => {
    fake = await startArgoCDFake({ token: 'wait-token-abcdef' })
  })
  afterAll(async () => {
    await fake?.close()
  })
  afterEach(() => {
    fake.assertNoViolations()
    fake.reset()
  })
  const run = (config: unknown) =>
    argocdWaitStep.run(
      argocdWaitStep.parse(config),
      argocdStepContext(argocdServices(fake.url, 'wait-token-abcdef'))
    )

  test('is registered with a 5m default timeout', () => {
    expect(stepRegistry.get('argocd-wait')).toBe(argocdWaitStep)
    expect(argocdWaitStep.defaults.timeoutMs).toBe(300_000)
  })

  test('default waitFor (health, sync, operation): Running while an operation runs and health progresses', async () => {
    fake.addApplication({ name: 'web' })
    fake.startOperation('web')
    let res = await run({ apps: [{ name: 'web' }] })
    expect(res.status).toBe('Running')
    expect(res.message).toContain('an operation is Running')
    fake.finishOperation('web', 'Succeeded') // health Progressing
    res = await run({ apps: [{ name: 'web' }] })
    expect(res.status).toBe('Running')
    expect(res.message).toMatch(/health is Progressing, waiting for Healthy/)
    fake.setHealth('web', 'Healthy')
    res = await run({ apps: [{ name: 'web' }] })
    expect(res.status).toBe('Succeeded')
    expect(res.outputs).toEqual({
      apps: [{ name: 'web', namespace: 'argocd', health: 'Healthy', sync: 'Synced' }]
    })
  })

  test('waitFor sync', async () => {
    fake.addApplication({ name: 's' })
    fake.setSyncStatus('s', 'OutOfSync')
    const res = await run({ apps: [{ name: 's', waitFor: ['sync'] }] })
    expect(res.status).toBe('Running')
    expect(res.message).toContain('sync status is OutOfSync')
    fake.setSyncStatus('s', 'Synced')
    expect((await run({ apps: [{ name: 's', waitFor: ['sync'] }] })).status).toBe('Succeeded')
  })

  test('waitFor operation only ignores health', async () => {
    fake.addApplication({ name: 'o', health: 'Degraded' })
    fake.startOperation('o')
    expect((await run({ apps: [{ name: 'o', waitFor: ['operation'] }] })).status).toBe('Running')
    fake.finishOperation('o', 'Failed')
    expect((await run({ apps: [{ name: 'o', waitFor: ['operation'] }] })).status).toBe('Succeeded')
  })

  test('waitFor suspended and degraded (health conditions are ORed)', async () => {
    fake.addApplication({ name: 'r', health: 'Progressing' })
    const cfg = { apps: [{ name: 'r', waitFor: ['suspended', 'degraded'] }] }
    const res = await run(cfg)
    expect(res.status).toBe('Running')
    expect(res.message).toContain('waiting for Suspended or Degraded')
    fake.setHealth('r', 'Suspended')
    expect((await run(cfg)).status).toBe('Succeeded')
    fake.setHealth('r', 'Degraded', 'Back-off pulling image')
    expect((await run(cfg)).status).toBe('Succeeded')
    fake.setHealth('r', 'Healthy')
    expect((await run({ apps: [{ name: 'r', waitFor: ['degraded'] }] })).status).toBe('Running')
  })

  test('by selector: every matched app must be ready', async () => {
    fake.addApplication({ name: 'p1', labels: { env: 'prod' } })
    fake.addApplication({ name: 'p2', labels: { env: 'prod' }, health: 'Missing' })
    fake.addApplication({ name: 'q', labels: { env: 'qa' }, health: 'Missing' })
    const cfg = { apps: [{ selector: { matchLabels: { env: 'prod' } }, waitFor: ['health'] }] }
    const res = await run(cfg)
    expect(res.status).toBe('Running')
    expect(res.message).toContain('argocd/p2: health is Missing')
    expect(res.message).not.toContain('argocd/q')
    fake.setHealth('p2', 'Healthy')
    expect((await run(cfg)).status).toBe('Succeeded')
    await expect(run({ apps: [{ selector: { matchLabels: { env: 'none' } } }] })).rejects.toThrow(
      /no Argo CD Application in namespace argocd matches selector/
    )
  })

  test('config: waitFor values and uniqueness', () => {
    expect(() => argocdWaitStep.parse({ apps: [{ name: 'a', waitFor: ['ready'] }] })).toThrow()
    expect(() =>
      argocdWaitStep.parse({ apps: [{ name: 'a', waitFor: ['sync', 'sync'] }] })
    ).toThrow(/unique/)
    expect(() => argocdWaitStep.parse({ apps: [{ name: 'a', waitFor: [] }] })).toThrow()
  })
})
