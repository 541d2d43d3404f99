import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { World, currentAlias, freightWith, type Repo } from './harness.js'
import { gitIn } from '../support/git.js'
import type { State } from '../../src/state/types.js'
import { hasDockerRegistry, skipReason } from '../support/registry.js'

const d = hasDockerRegistry ? describe : describe.skip
if (!hasDockerRegistry) console.warn(skipReason)

const configMap = (payments: string) =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shop\ndata:\n  PAYMENTS_URL: https://payments.acme.dev/${payments}\n`

d('examples/gatekeeper end to end', () => {
  let world: World
  let gitops: Repo
  let server: http.Server
  /** Config commits that carry the v2 payments setting: shop 2.x only runs with one of them. */
  const v2Configs = new Set<string>()
  const checks: string[] = []
  let c0: string
  const manifests = (stage: string) => world.file(gitops, `stage/${stage}`, 'manifests.yaml')
  const freightOf = (state: State, tag: string, commit: string) =>
    freightWith(state, { images: { shop: tag }, commit })[0]

  beforeAll(async () => {
    // The gatekeeper deployment's health endpoint, as the smoke check sees it.
    server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost')
      const version = url.searchParams.get('version') ?? ''
      const config = url.searchParams.get('config') ?? ''
      checks.push(`${version}@${config.slice(0, 7)}`)
      const ok = url.pathname === '/healthz' && (!version.startsWith('2.') || v2Configs.has(config))
      res.writeHead(ok ? 200 : 500, { 'content-type': 'application/json' })
      res.end(JSON.stringify(ok ? { status: 'ok' } : { error: 'PAYMENTS_URL v1 is not supported' }))
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    world = await World.start({ registry: true })
    world.urlMap.set(
      'https://gatekeeper.shop.acme.dev',
      `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    )
    gitops = world.repo('gitops', world.exampleFiles('gatekeeper'))
    c0 = gitIn(gitops.work, 'rev-parse', 'HEAD')
  })
  afterAll(async () => {
    await world?.close()
    await new Promise((r) => server?.close(r))
  })

  it('validates as shipped', async () => {
    expect((await world.run(gitops, 'validate')).exitCode).toBe(0)
  })

  it('good freight passes the gatekeeper and flows on to test', async () => {
    await world.pushImage('acme/shop', '1.0.0')
    const res = await world.run(gitops, 'reconcile')
    expect(res.exitCode).toBe(0)
    const state = await world.state(gitops)
    const f = freightOf(state, '1.0.0', c0)
    expect(checks).toEqual([`1.0.0@${c0.slice(0, 7)}`])
    expect(f.status.verifiedIn.gatekeeper).toBeDefined()
    expect(state.stages.gatekeeper.freightHistory[0].verificationHistory[0]).toMatchObject({
      phase: 'Successful',
      message: 'passed: smoke'
    })
    expect(currentAlias(state, 'gatekeeper')).toBe(f.alias)
    expect(currentAlias(state, 'test')).toBe(f.alias)
    expect(manifests('test')).toContain('acme/shop:1.0.0')
    expect(manifests('gatekeeper')).toContain('namespace: shop-gatekeeper')
  })

  it('an incompatible pair is deployed to the gatekeeper, fails its check and stops there', async () => {
    await world.pushImage('acme/shop', '2.0.0') // needs the v2 payments config
    world.advance(6)
    const res = await world.run(gitops, 'reconcile')
    expect(res.exitCode).toBe(0) // the promotion worked; the freight is just not good
    const state = await world.state(gitops)
    const bad = freightOf(state, '2.0.0', c0)
    const good = freightOf(state, '1.0.0', c0)
    expect(currentAlias(state, 'gatekeeper')).toBe(bad.alias)
    expect(manifests('gatekeeper')).toContain('acme/shop:2.0.0')
    const v = state.stages.gatekeeper.freightHistory[0].verificationHistory[0]
    expect(v.phase).toBe('Failed')
    expect(v.message).toMatch(/verification smoke failed/)
    expect(bad.status.verifiedIn.gatekeeper).toBeUndefined()
    expect(currentAlias(state, 'test')).toBe(good.alias)
    expect(manifests('test')).toContain('acme/shop:1.0.0')
    await expect(
      world.run(gitops, 'promote', { stage: 'test', freight: bad.alias, 'no-run': true })
    ).rejects.toThrow(/not available to test: not verified in gatekeeper/)
  })

  it('the failed verification is not re-run or retried by later reconciles', async () => {
    const n = checks.length
    const before = world.tip(gitops, 'waybill/state')
    world.advance(1)
    expect((await world.run(gitops, 'reconcile', { 'no-discover': true })).exitCode).toBe(0)
    expect(checks.length).toBe(n)
    expect(world.tip(gitops, 'waybill/state')).toBe(before)
  })

  it('the matching config commit makes freight that passes and reaches test', async () => {
    const c1 = world.commit(gitops, { 'base/configmap.yaml': configMap('v2') }, 'payments v2')
    v2Configs.add(c1)
    world.advance(6)
    expect((await world.run(gitops, 'reconcile')).exitCode).toBe(0)
    const state = await world.state(gitops)
    const fixed = freightOf(state, '2.0.0', c1)
    expect(fixed.status.verifiedIn.gatekeeper).toBeDefined()
    expect(currentAlias(state, 'test')).toBe(fixed.alias)
    expect(manifests('test')).toContain('acme/shop:2.0.0')
    expect(manifests('test')).toContain('payments.acme.dev/v2')
  })

  it('a promotion that fails is not retried in a loop; the next good freight passes', async () => {
    const broken = world.commit(
      gitops,
      {
        'base/kustomization.yaml':
          'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - deployment.yaml\n  - configmap.yaml\n  - missing.yaml\n'
      },
      'reference a file that is not there'
    )
    v2Configs.add(broken)
    world.advance(6)
    const res = await world.run(gitops, 'reconcile')
    expect(res.exitCode).toBe(1)
    let state = await world.state(gitops)
    const bad = freightOf(state, '2.0.0', broken)
    const attempts = () =>
      Object.values(state.promotions).filter(
        (p) => p.stage === 'gatekeeper' && p.freight === bad.name
      )
    expect(attempts()).toHaveLength(1)
    expect(['Failed', 'Errored']).toContain(attempts()[0].phase)
    expect(attempts()[0].message).toMatch(/missing\.yaml/)
    // Still the previous freight everywhere.
    const fixed = state.stages.test.freightHistory[0]
    expect(state.stages.gatekeeper.freightHistory[0].id).toBe(fixed.id)

    world.advance(10)
    const again = await world.run(gitops, 'reconcile')
    expect(again.exitCode).toBe(0)
    expect(again.logs).toMatch(/skipped: its last promotion .* (failed|errored)/)
    state = await world.state(gitops)
    expect(attempts()).toHaveLength(1)

    const repaired = world.commit(
      gitops,
      {
        'base/kustomization.yaml':
          'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - deployment.yaml\n  - configmap.yaml\n'
      },
      'drop the missing file'
    )
    v2Configs.add(repaired)
    world.advance(6)
    expect((await world.run(gitops, 'reconcile')).exitCode).toBe(0)
    state = await world.state(gitops)
    const next = freightOf(state, '2.0.0', repaired)
    expect(currentAlias(state, 'gatekeeper')).toBe(next.alias)
    expect(currentAlias(state, 'test')).toBe(next.alias)
    expect(attempts()).toHaveLength(1)
  })
})
