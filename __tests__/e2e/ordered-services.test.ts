import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { parse } from 'yaml'
import { World, currentAlias, type Repo } from './harness.js'
import { hasDockerRegistry, skipReason } from '../support/registry.js'
import { sh } from '../support/git.js'
import type { State } from '../../src/state/types.js'

const d = hasDockerRegistry ? describe : describe.skip
if (!hasDockerRegistry) console.warn(skipReason)

interface Values {
  backend: { image: { tag: string }; replicas: number }
  frontend: { image: { tag: string }; replicas: number }
}

/** The freight carrying this backend and frontend tag. */
function freightOf(state: State, backend: string, frontend: string) {
  return Object.values(state.freight).find(
    (f) =>
      f.images.some((i) => i.repoURL.endsWith('/storefront-backend') && i.tag === backend) &&
      f.images.some((i) => i.repoURL.endsWith('/storefront-frontend') && i.tag === frontend)
  )
}

d('examples/ordered-services end to end', () => {
  let world: World
  let repo: Repo
  const values = (env: string) =>
    parse(world.file(repo, 'main', `env/${env}/values.yaml`)!) as Values
  const tags = (env: string) => {
    const v = values(env)
    return [v.backend.image.tag, v.frontend.image.tag]
  }
  /** Subjects of the commits Waybill made on main, oldest first. */
  const promotionCommits = () =>
    sh('git', ['--git-dir', repo.bare, 'log', '--reverse', '--format=%s', 'main'])
      .split('\n')
      .filter((s) => /^(test|prod)-/.test(s))

  beforeAll(async () => {
    world = await World.start({ registry: true })
    repo = world.repo('storefront-gitops', world.exampleFiles('ordered-services'))
  })
  afterAll(() => world?.close())

  it('validates as shipped', async () => {
    expect((await world.run(repo, 'validate')).exitCode).toBe(0)
  })

  it('in test, the back end is updated first, then the front end, in one run', async () => {
    await world.pushImage('acme/storefront-backend', '1.0.0')
    await world.pushImage('acme/storefront-frontend', '1.0.0')
    const res = await world.run(repo, 'reconcile')
    expect(res.exitCode).toBe(0)
    const state = await world.state(repo)
    const f = freightOf(state, '1.0.0', '1.0.0')!
    expect(f).toBeDefined()
    expect(currentAlias(state, 'test-backend')).toBe(f.alias)
    expect(currentAlias(state, 'test-frontend')).toBe(f.alias)
    expect(tags('test')).toEqual(['1.0.0', '1.0.0'])
    expect(values('test').backend.replicas).toBe(1)
    expect(tags('prod')).toEqual(['0.0.0', '0.0.0'])
    expect(promotionCommits()).toEqual([
      'test-backend: backend 1.0.0',
      'test-frontend: frontend 1.0.0'
    ])
  })

  it('each stage changes only its own subset of the freight', async () => {
    await world.pushImage('acme/storefront-backend', '1.1.0')
    await world.pushImage('acme/storefront-frontend', '1.1.0')
    world.advance(6)
    // Runs limited to the back-end stage (as a fan-out job would) leave the front end alone.
    const state0 = await world.state(repo)
    const f1 = freightOf(state0, '1.0.0', '1.0.0')!
    const res = await world.run(repo, 'reconcile', { stage: ['test-backend'] })
    expect(res.exitCode).toBe(0)
    // --stage skips discovery: nothing new yet.
    expect(currentAlias(await world.state(repo), 'test-backend')).toBe(f1.alias)
    expect((await world.run(repo, 'discover')).exitCode).toBe(0)
    expect((await world.run(repo, 'reconcile', { stage: ['test-backend'] })).exitCode).toBe(0)
    const state = await world.state(repo)
    const f2 = freightOf(state, '1.1.0', '1.1.0')!
    expect(currentAlias(state, 'test-backend')).toBe(f2.alias)
    expect(currentAlias(state, 'test-frontend')).toBe(f1.alias)
    // The back end moved; the front end of the same freight did not.
    expect(tags('test')).toEqual(['1.1.0', '1.0.0'])
    expect(promotionCommits().slice(-1)).toEqual(['test-backend: backend 1.1.0'])
    // The next full run lets the front end follow.
    expect((await world.run(repo, 'reconcile')).exitCode).toBe(0)
    expect(currentAlias(await world.state(repo), 'test-frontend')).toBe(f2.alias)
    expect(tags('test')).toEqual(['1.1.0', '1.1.0'])
  })

  it('in prod, the front end cannot go before the back end; then it follows automatically', async () => {
    let state = await world.state(repo)
    const f2 = freightOf(state, '1.1.0', '1.1.0')!
    await expect(
      world.run(repo, 'promote', { stage: 'prod-frontend', freight: f2.alias, 'no-run': true })
    ).rejects.toThrow(/not available to prod-frontend: not verified in prod-backend/)
    expect(tags('prod')).toEqual(['0.0.0', '0.0.0'])
    const res = await world.run(repo, 'promote', { stage: 'prod-backend', freight: f2.alias })
    expect(res.exitCode).toBe(0)
    state = await world.state(repo)
    expect(currentAlias(state, 'prod-backend')).toBe(f2.alias)
    // The gated promote job did only what was asked; the next pipeline run moves the front end.
    expect(currentAlias(state, 'prod-frontend')).not.toBe(f2.alias)
    expect((await world.run(repo, 'reconcile')).exitCode).toBe(0)
    state = await world.state(repo)
    expect(currentAlias(state, 'prod-frontend')).toBe(f2.alias)
    expect(tags('prod')).toEqual(['1.1.0', '1.1.0'])
    expect(values('prod').frontend.replicas).toBe(3)
    expect(promotionCommits().slice(-2)).toEqual([
      'prod-backend: backend 1.1.0',
      'prod-frontend: frontend 1.1.0'
    ])
    const promos = Object.values(state.promotions).filter((p) => p.stage.startsWith('prod-'))
    expect(promos.map((p) => [p.stage, p.auto, p.phase]).sort()).toEqual([
      ['prod-backend', false, 'Succeeded'],
      ['prod-frontend', true, 'Succeeded']
    ])
  })
})
