import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import YAML from 'yaml'
import { World, currentAlias, freightByCommit, type Repo } from './harness.js'
import { startArgoCDFake, type ArgoCDFake, type FakeAppInput } from '../support/argocd-fake.js'
import { MemoryLogger } from '../../src/util/logger.js'
import type { CommandArgs, CommandContext } from '../../src/runtime/context.js'
import type { StatusJson } from '../../src/commands/status.js'

const TOKEN = 'argocd-e2e-token-7c1d2e'

describe('examples/pseudo-gitops end to end (argocd-update moves targetRevision)', () => {
  let world: World
  let argocd: ArgoCDFake
  let shop: Repo
  let gitops: Repo
  let c1 = ''
  const apps: FakeAppInput[] = []

  beforeAll(async () => {
    world = await World.start()
    argocd = await startArgoCDFake({ token: TOKEN })
    shop = world.repo('shop', { 'deploy/app.yaml': 'replicas: 1\n', 'README.md': '# shop\n' })
    gitops = world.repo('gitops', world.exampleFiles('pseudo-gitops'))
    // The example's Applications, as an Argo CD admin would apply them.
    const manifests = world.rewrite({
      a: world.exampleFiles('pseudo-gitops')['argocd/applications.yaml']
    }).a
    for (const doc of YAML.parseAllDocuments(manifests)) {
      const app = doc.toJS() as {
        metadata: { name: string; namespace: string; annotations?: Record<string, string> }
        spec: { source: { repoURL: string; path: string; targetRevision: string } }
      }
      apps.push({
        name: app.metadata.name,
        namespace: app.metadata.namespace,
        annotations: app.metadata.annotations,
        source: app.spec.source,
        health: 'Healthy'
      })
    }
    argocd.addApplication(apps.find((a) => a.name === 'shop-test')!)
  })
  afterAll(async () => {
    await argocd?.close()
    await world?.close()
  })

  const run = (name: string, args: CommandArgs = {}, extra: Partial<CommandContext> = {}) => {
    const base = world.context(gitops, new MemoryLogger())
    return world.run(gitops, name, args, {
      project: 'shop',
      services: {
        ...base.services,
        argocd: { server: argocd.url, token: TOKEN, namespace: 'argocd' }
      },
      ...extra
    })
  }
  const syncs = (app: string) =>
    argocd.requests.filter(
      (r) => r.operationId === 'ApplicationService_Sync' && r.path.endsWith(`/${app}/sync`)
    )
  const stageStatus = async (stage: string) => {
    const res = await run('status', {}, { json: true, print: () => {} })
    const status = JSON.parse(res.outputs!.status) as StatusJson
    return status.stages.find((s) => s.name === stage)!
  }

  it('validates as shipped', async () => {
    const res = await run('validate')
    expect(res.exitCode).toBe(0)
  })

  it('a new commit becomes freight; test moves its Application to it and waits for the sync', async () => {
    c1 = world.commit(shop, { 'deploy/app.yaml': 'replicas: 2\n' }, 'two replicas')
    const res = await run('reconcile')
    expect(res.exitCode).toBe(0)
    const state = await world.state(gitops)
    const f = freightByCommit(state, c1)!
    expect(f).toBeDefined()
    const promo = Object.values(state.promotions).find((p) => p.stage === 'test')!
    expect(promo.phase).toBe('Running')
    expect(promo.message).toMatch(/shop-test/)
    // Pseudo-GitOps: the Application now points at the commit; nothing was written to Git.
    expect(argocd.application('shop-test').spec!.source!.targetRevision).toBe(c1)
    expect(world.branches(gitops).sort()).toEqual(['main', 'waybill/state'])
    expect(syncs('shop-test')).toHaveLength(1)
    expect(syncs('shop-test')[0].body).toMatchObject({
      infos: expect.arrayContaining([{ name: 'kargo.akuity.io/promotion', value: promo.name }])
    })
    // Freight is not current until the promotion finishes.
    expect(currentAlias(state, 'test')).toBeUndefined()
  })

  it('the next reconcile resumes the running sync without starting another', async () => {
    world.advance(1)
    const res = await run('reconcile')
    expect(res.exitCode).toBe(0)
    const state = await world.state(gitops)
    expect(Object.values(state.promotions).find((p) => p.stage === 'test')!.phase).toBe('Running')
    expect(syncs('shop-test')).toHaveLength(1)
  })

  it('when Argo CD finishes the sync the promotion succeeds; verification waits for Healthy', async () => {
    argocd.finishOperation('shop-test', 'Succeeded', { health: 'Progressing' })
    world.advance(1)
    const res = await run('reconcile')
    expect(res.exitCode).toBe(0)
    const state = await world.state(gitops)
    const f = freightByCommit(state, c1)!
    expect(Object.values(state.promotions).find((p) => p.stage === 'test')!.phase).toBe('Succeeded')
    expect(currentAlias(state, 'test')).toBe(f.alias)
    expect(f.status.verifiedIn.test).toBeUndefined()
    expect(state.stages.test.healthChecks).toEqual([
      {
        uses: 'argocd-update',
        input: { apps: [{ name: 'shop-test', namespace: 'argocd', desiredRevisions: [c1] }] }
      }
    ])
    const s = await stageStatus('test')
    expect(s.health).toBe('Progressing')
    expect(s.verified).toBe(false)
    // prod requests verified freight from test: nothing is available to it yet.
    await expect(
      run('promote', { stage: 'prod', freight: f.alias, 'no-run': true })
    ).rejects.toThrow(/not available to prod/)
  })

  it('once the Application is Healthy at the commit, the freight is verified in test', async () => {
    argocd.setHealth('shop-test', 'Healthy')
    expect((await stageStatus('test')).health).toBe('Healthy')
    world.advance(1)
    await run('reconcile')
    const state = await world.state(gitops)
    const f = freightByCommit(state, c1)!
    expect(f.status.verifiedIn.test).toBeDefined()
    const s = await stageStatus('test')
    expect(s.health).toBe('Healthy')
    expect(s.verified).toBe(true)
  })

  it('status reports the live health: a degraded Application makes the stage Unhealthy', async () => {
    argocd.setHealth('shop-test', 'Degraded', 'Deployment shop has 0/2 ready replicas')
    expect((await stageStatus('test')).health).toBe('Unhealthy')
    argocd.setHealth('shop-test', 'Healthy')
  })

  it('prod without the authorization annotation is not touched; with it, it is promoted', async () => {
    const prod = apps.find((a) => a.name === 'shop-prod')!
    argocd.addApplication({ ...prod, annotations: {} })
    const denied = await run('promote', { stage: 'prod', freight: 'latest' })
    expect(denied.exitCode).toBe(1)
    let state = await world.state(gitops)
    const failed = Object.values(state.promotions).find((p) => p.stage === 'prod')!
    expect(failed.message).toMatch(/kargo\.akuity\.io\/authorized-stage/)
    expect(argocd.application('shop-prod').spec!.source!.targetRevision).toBe('main')
    expect(syncs('shop-prod')).toHaveLength(0)

    argocd.addApplication(prod)
    const res = await run('promote', { stage: 'prod', freight: 'latest' })
    expect(res.exitCode).toBe(0)
    expect(res.outputs!.phase).toBe('Running')
    expect(argocd.application('shop-prod').spec!.source!.targetRevision).toBe(c1)
    argocd.finishOperation('shop-prod', 'Succeeded', { health: 'Healthy' })
    world.advance(1)
    await run('reconcile')
    state = await world.state(gitops)
    const f = freightByCommit(state, c1)!
    expect(currentAlias(state, 'prod')).toBe(f.alias)
    expect(f.status.verifiedIn.prod).toBeDefined()
    expect((await stageStatus('prod')).health).toBe('Healthy')
  })

  it('every Argo CD request and response matched the API description', () => {
    argocd.assertNoViolations()
    expect(argocd.requests.every((r) => r.authorized)).toBe(true)
  })
})
