import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals'
import {
  argocdServices,
  argocdStepContext,
  argocdSwaggerAvailable,
  startArgoCDFake,
  type ArgoCDFake
} from '../support/argocd-fake.js'
import { argocdUpdateStep } from '../../src/steps/argocd/argocd-update.js'
import { stepRegistry } from '../../src/steps/index.js'
import { ConfigFieldError } from '../../src/util/errors.js'

const d = argocdSwaggerAvailable ? describe : describe.skip

const TOKEN = 'argocd-test-token-5f1e'
const REPO = 'https://github.com/example/gitops.git'
const AUTH = { 'kargo.akuity.io/authorized-stage': 'shop:test' }

d('argocd-update against a fake Argo CD', () => {
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
  const ctx = (over = {}) => argocdStepContext(argocdServices(fake.url, TOKEN), over)
  const run = async (config: unknown, c = ctx()) =>
    argocdUpdateStep.run(argocdUpdateStep.parse(config), c)
  const syncs = () => fake.requests.filter((r) => r.operationId === 'ApplicationService_Sync')

  test('is registered with a 5m default timeout', () => {
    expect(stepRegistry.get('argocd-update')).toBe(argocdUpdateStep)
    expect(argocdUpdateStep.defaults.timeoutMs).toBe(5 * 60_000)
  })

  test('by name: hard refresh, sync with the policy options and the promotion info, then Running → Succeeded with a health check', async () => {
    fake.addApplication({
      name: 'shop-test',
      annotations: AUTH,
      source: { repoURL: REPO, path: 'env/test', targetRevision: 'stage/test' },
      syncPolicy: {
        syncOptions: ['CreateNamespace=true'],
        retry: { limit: 3, backoff: { duration: '5s', factor: 2, maxDuration: '1m' } }
      }
    })
    const c = ctx()
    const first = await run({ apps: [{ name: 'shop-test' }] }, c)
    expect(first.status).toBe('Running')
    expect(first.message).toContain('sync started')
    const refresh = fake.requests.find((r) => r.query.refresh?.[0] === 'hard')
    expect(refresh?.operationId).toBe('ApplicationService_Get')
    expect(refresh?.query.appNamespace).toEqual(['argocd'])
    expect(syncs()).toHaveLength(1)
    expect(syncs()[0].body).toEqual({
      name: 'shop-test',
      appNamespace: 'argocd',
      syncOptions: { items: ['CreateNamespace=true'] },
      retryStrategy: { limit: 3, backoff: { duration: '5s', factor: 2, maxDuration: '1m' } },
      infos: [
        { name: 'Reason', value: 'Promotion triggered a sync of this Application resource.' },
        { name: 'kargo.akuity.io/promotion', value: 'test.01jabc.fffffff' }
      ]
    })
    expect(fake.requests.every((r) => r.authorized)).toBe(true)

    // Resumed while the operation runs: no second sync.
    const second = await run({ apps: [{ name: 'shop-test' }] })
    expect(second.status).toBe('Running')
    expect(second.message).toMatch(/sync Running/)
    expect(syncs()).toHaveLength(1)

    fake.finishOperation('shop-test', 'Succeeded')
    const third = await run({ apps: [{ name: 'shop-test' }] })
    expect(third.status).toBe('Succeeded')
    expect(syncs()).toHaveLength(1)
    expect(third.outputs).toEqual({ apps: [{ name: 'shop-test', namespace: 'argocd' }] })
    expect(third.healthCheck).toEqual({
      uses: 'argocd-update',
      input: { apps: [{ name: 'shop-test', namespace: 'argocd', desiredRevisions: [''] }] }
    })
  })

  test('by selector, in another namespace; unauthorized apps are skipped with a notice', async () => {
    const ns = 'team-a'
    fake.addApplication({ name: 'a1', namespace: ns, labels: { app: 'shop' }, annotations: AUTH })
    fake.addApplication({
      name: 'a2',
      namespace: ns,
      labels: { app: 'shop', tier: 'web' },
      annotations: { 'kargo.akuity.io/authorized-stage': ' other:test , shop:test ' }
    })
    fake.addApplication({ name: 'a3', namespace: ns, labels: { app: 'shop' } })
    fake.addApplication({
      name: 'a4',
      namespace: ns,
      labels: { app: 'shop' },
      annotations: { 'kargo.akuity.io/authorized-stage': 'shop:*' }
    })
    fake.addApplication({ name: 'b1', namespace: ns, labels: { app: 'other' }, annotations: AUTH })
    const c = ctx()
    const res = await run(
      {
        apps: [
          {
            namespace: ns,
            selector: {
              matchLabels: { app: 'shop' },
              matchExpressions: [{ key: 'legacy', operator: 'DoesNotExist' }]
            }
          }
        ]
      },
      c
    )
    expect(res.status).toBe('Running')
    const list = fake.requests.find((r) => r.operationId === 'ApplicationService_List')
    expect(list?.query).toEqual({ selector: ['app=shop,!legacy'], appNamespace: [ns] })
    expect(syncs().map((r) => r.path)).toEqual([
      '/api/v1/applications/a1/sync',
      '/api/v1/applications/a2/sync'
    ])
    expect(res.outputs).toEqual({
      apps: [
        { name: 'a1', namespace: ns },
        { name: 'a2', namespace: ns }
      ]
    })
    const text = c.logger.text()
    expect(text).toMatch(/notice: .*team-a\/a3: it has no kargo.akuity.io\/authorized-stage/)
    expect(text).toMatch(
      /notice: .*team-a\/a4: .*glob patterns such as "shop:\*" are not supported/
    )
  })

  test('no authorized app left is an error naming the annotation to add', async () => {
    fake.addApplication({
      name: 'locked',
      annotations: { 'kargo.akuity.io/authorized-stage': 'shop:prod' }
    })
    await expect(run({ apps: [{ name: 'locked' }] })).rejects.toThrow(
      /none of the Applications \(argocd\/locked\) is authorized for stage test/
    )
    await expect(run({ apps: [{ name: 'locked' }] })).rejects.toMatchObject({
      hint: expect.stringContaining('kargo.akuity.io/authorized-stage: "shop:test"')
    })
    expect(syncs()).toHaveLength(0)
  })

  test('Pseudo-GitOps: desiredRevision + updateTargetRevision moves targetRevision and the health check wants that commit', async () => {
    const sha = 'a'.repeat(40)
    fake.addApplication({
      name: 'pseudo',
      annotations: AUTH,
      source: { repoURL: REPO, path: 'app', targetRevision: 'main' }
    })
    const config = {
      apps: [
        {
          name: 'pseudo',
          sources: [{ repoURL: REPO, desiredRevision: sha, updateTargetRevision: true }]
        }
      ]
    }
    expect((await run(config)).status).toBe('Running')
    const patch = fake.requests.find((r) => r.operationId === 'ApplicationService_Patch')
    expect(patch?.body).toMatchObject({
      name: 'pseudo',
      appNamespace: 'argocd',
      patchType: 'merge'
    })
    expect(JSON.parse((patch?.body as { patch: string }).patch)).toEqual({
      spec: { source: { repoURL: REPO, path: 'app', targetRevision: sha } }
    })
    expect(fake.application('pseudo').spec?.source?.targetRevision).toBe(sha)
    // The patch happens before the refresh and the sync.
    const order = fake.requests.map((r) => r.operationId)
    expect(order.indexOf('ApplicationService_Patch')).toBeLessThan(
      order.indexOf('ApplicationService_Sync')
    )

    fake.finishOperation('pseudo', 'Succeeded')
    const done = await run(config)
    expect(done.status).toBe('Succeeded')
    expect(done.healthCheck?.input).toEqual({
      apps: [{ name: 'pseudo', namespace: 'argocd', desiredRevisions: [sha] }]
    })
    expect(fake.requests.filter((r) => r.operationId === 'ApplicationService_Patch')).toHaveLength(
      1
    )
  })

  test('kustomize.images and helm.images patch a multi-source Application, matched by repoURL and chart', async () => {
    fake.addApplication({
      name: 'multi',
      annotations: AUTH,
      sources: [
        {
          repoURL: REPO,
          path: 'kustomize',
          targetRevision: 'main',
          kustomize: { images: ['ghcr.io/example/app:1.0.0', 'ghcr.io/example/sidecar:2'] }
        },
        {
          repoURL: 'https://charts.example.com',
          chart: 'web',
          targetRevision: '1.4.0',
          helm: {
            parameters: [
              { name: 'image.tag', value: '1.0.0' },
              { name: 'replicas', value: '2' }
            ]
          }
        }
      ]
    })
    const res = await run({
      apps: [
        {
          name: 'multi',
          sources: [
            {
              repoURL: REPO,
              kustomize: {
                images: [
                  { repoURL: 'ghcr.io/example/app' },
                  {
                    repoURL: 'ghcr.io/example/new',
                    digest: 'sha256:' + 'b'.repeat(64),
                    newName: 'mirror.example.com/new'
                  }
                ]
              }
            },
            {
              repoURL: 'https://charts.example.com',
              chart: 'web',
              desiredRevision: '1.5.0',
              updateTargetRevision: true,
              helm: {
                images: [
                  { key: 'image.tag', value: '1.2.3' },
                  { key: 'image.repository', value: 'ghcr.io/example/app' }
                ]
              }
            }
          ]
        }
      ]
    })
    expect(res.status).toBe('Running')
    const spec = fake.application('multi').spec!
    expect(spec.sources?.[0].kustomize?.images).toEqual([
      'ghcr.io/example/app:1.2.3',
      'ghcr.io/example/sidecar:2',
      'ghcr.io/example/new=mirror.example.com/new@sha256:' + 'b'.repeat(64)
    ])
    expect(spec.sources?.[1].targetRevision).toBe('1.5.0')
    expect(spec.sources?.[1].helm?.parameters).toEqual([
      { name: 'image.tag', value: '1.2.3' },
      { name: 'replicas', value: '2' },
      { name: 'image.repository', value: 'ghcr.io/example/app' }
    ])
    fake.finishOperation('multi', 'Succeeded')
    const done = await run({
      apps: [
        {
          name: 'multi',
          sources: [
            { repoURL: 'https://charts.example.com', chart: 'web', desiredRevision: '1.5.0' }
          ]
        }
      ]
    })
    expect(done.status).toBe('Succeeded')
    expect(done.healthCheck?.input).toEqual({
      apps: [{ name: 'multi', namespace: 'argocd', desiredRevisions: ['', '1.5.0'] }]
    })
  })

  test('a source that matches no Application source is an error before anything changes', async () => {
    fake.addApplication({ name: 'one', annotations: AUTH, source: { repoURL: REPO, path: '.' } })
    await expect(
      run({
        apps: [
          {
            name: 'one',
            sources: [{ repoURL: 'https://github.com/example/other.git', desiredRevision: 'x' }]
          }
        ]
      })
    ).rejects.toThrow(
      /argocd\/one has no source with repoURL https:\/\/github.com\/example\/other.git/
    )
    expect(syncs()).toHaveLength(0)
  })

  test('an operation started by someone else is waited out, then this promotion syncs', async () => {
    fake.addApplication({ name: 'busy', annotations: AUTH })
    fake.startOperation('busy', { username: 'alice' })
    const c = ctx()
    const res = await run({ apps: [{ name: 'busy' }] }, c)
    expect(res.status).toBe('Running')
    expect(res.message).toMatch(/waiting for the operation started by user alice/)
    expect(syncs()).toHaveLength(0)

    fake.finishOperation('busy', 'Succeeded')
    expect((await run({ apps: [{ name: 'busy' }] })).status).toBe('Running')
    expect(syncs()).toHaveLength(1)
    fake.finishOperation('busy', 'Succeeded')
    expect((await run({ apps: [{ name: 'busy' }] })).status).toBe('Succeeded')
  })

  test("another promotion's running sync is waited out too", async () => {
    fake.addApplication({ name: 'other-promo', annotations: AUTH })
    fake.startOperation('other-promo', {
      infos: [{ name: 'kargo.akuity.io/promotion', value: 'test.01older.aaaaaaa' }]
    })
    const res = await run({ apps: [{ name: 'other-promo' }] })
    expect(res.status).toBe('Running')
    expect(res.message).toContain('promotion test.01older.aaaaaaa')
    expect(syncs()).toHaveLength(0)
  })

  test('a finished sync at the wrong revision is synced again (the push landed after the sync)', async () => {
    const oldSha = '1'.repeat(40)
    const newSha = '2'.repeat(40)
    fake.setTargetRevision(REPO, 'stage/test', oldSha)
    fake.addApplication({
      name: 'late',
      annotations: AUTH,
      source: { repoURL: REPO, path: '.', targetRevision: 'stage/test' }
    })
    const config = {
      apps: [{ name: 'late', sources: [{ repoURL: REPO, desiredRevision: newSha }] }]
    }
    expect((await run(config)).status).toBe('Running')
    fake.finishOperation('late', 'Succeeded') // synced oldSha
    fake.setTargetRevision(REPO, 'stage/test', newSha)
    const c = ctx()
    const again = await run(config, c)
    expect(again.status).toBe('Running')
    expect(c.logger.text()).toMatch(/synced to 1{40}, desired 2{40}\); syncing again/)
    expect(syncs()).toHaveLength(2)
    fake.finishOperation('late', 'Succeeded')
    const done = await run(config)
    expect(done.status).toBe('Succeeded')
    expect(fake.application('late').status?.operationState?.syncResult?.revision).toBe(newSha)
  })

  test("a failed sync for this promotion is Errored with Argo CD's message", async () => {
    fake.addApplication({ name: 'broken', annotations: AUTH })
    await run({ apps: [{ name: 'broken' }] })
    fake.finishOperation('broken', 'Failed', { message: 'Deployment.apps "web" is invalid' })
    const res = await run({ apps: [{ name: 'broken' }] })
    expect(res.status).toBe('Errored')
    expect(res.message).toBe('argocd/broken: sync Failed: Deployment.apps "web" is invalid')
    expect(res.healthCheck).toBeUndefined()
  })

  test('a terminating operation of this promotion is still Running', async () => {
    fake.addApplication({ name: 'term', annotations: AUTH })
    await run({ apps: [{ name: 'term' }] })
    const { ArgoCDClient } = await import('../../src/integrations/argocd.js')
    await new ArgoCDClient({ server: fake.url, token: TOKEN }).terminateOperation('term', 'argocd')
    const res = await run({ apps: [{ name: 'term' }] })
    expect(res.status).toBe('Running')
    expect(res.message).toMatch(/sync Terminating/)
    fake.finishOperation('term', 'Failed', { message: 'Operation terminated' })
    expect((await run({ apps: [{ name: 'term' }] })).status).toBe('Errored')
  })

  test('an unknown application is a 404 naming it; a bad token says to check argocd-token and is never shown', async () => {
    await expect(run({ apps: [{ name: 'ghost', namespace: 'apps' }] })).rejects.toThrow(
      /Application apps\/ghost not found/
    )
    fake.addApplication({ name: 'x', annotations: AUTH })
    const bad = 'wrong-token-0123456789'
    const c = argocdStepContext(argocdServices(fake.url, bad))
    const err = await run({ apps: [{ name: 'x' }] }, c).catch((e: Error & { hint?: string }) => e)
    expect(err).toBeInstanceOf(Error)
    expect((err as Error).message).toMatch(/rejected the credentials \(401\)/)
    expect((err as { hint?: string }).hint).toMatch(/check argocd-token/)
    expect(JSON.stringify(err) + (err as Error).message + (err as Error).stack).not.toContain(bad)
  })

  test("config is validated like Kargo's schema", () => {
    const parse = (c: unknown) => argocdUpdateStep.parse(c)
    expect(() => parse({ apps: [] })).toThrow(ConfigFieldError)
    expect(() => parse({ apps: [{ name: 'a', selector: { matchLabels: { a: 'b' } } }] })).toThrow(
      /mutually exclusive/
    )
    expect(() => parse({ apps: [{}] })).toThrow(/either name or selector/)
    expect(() => parse({ apps: [{ selector: {} }] })).toThrow(/matchLabels or matchExpressions/)
    expect(() =>
      parse({ apps: [{ name: 'a', sources: [{ repoURL: 'r', updateTargetRevision: true }] }] })
    ).toThrow(/updateTargetRevision requires desiredRevision/)
    expect(() =>
      parse({
        apps: [
          {
            name: 'a',
            sources: [
              { repoURL: 'r', kustomize: { images: [{ repoURL: 'i', tag: 't', digest: 'd' }] } }
            ]
          }
        ]
      })
    ).toThrow(/mutually exclusive/)
    expect(() => parse({ apps: [{ name: 'a', extra: 1 }] })).toThrow(ConfigFieldError)
    expect(() =>
      parse({ apps: [{ selector: { matchExpressions: [{ key: 'k', operator: 'In' }] } }] })
    ).toThrow(/needs at least one value/)
    expect(
      parse({ apps: [{ name: '', selector: { matchLabels: { a: 'b' } } }] }).apps
    ).toHaveLength(1)
  })
})
