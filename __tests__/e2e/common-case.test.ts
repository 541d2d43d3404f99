import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { World, currentAlias, freightWith, stageFreight, type Repo } from './harness.js'
import { gitIn, sh } from '../support/git.js'
import { hasDockerRegistry, skipReason } from '../support/registry.js'

const d = hasDockerRegistry ? describe : describe.skip
if (!hasDockerRegistry) console.warn(skipReason)

d('examples/common-case end to end', () => {
  let world: World
  let gitops: Repo
  let c0: string
  const manifests = (stage: string) => world.file(gitops, `stage/${stage}`, 'manifests.yaml')

  beforeAll(async () => {
    world = await World.start({ registry: true })
    gitops = world.repo('gitops', world.exampleFiles('common-case'))
    c0 = gitIn(gitops.work, 'rev-parse', 'HEAD')
  })
  afterAll(() => world?.close())

  it('validates as shipped', async () => {
    expect((await world.run(gitops, 'validate')).exitCode).toBe(0)
  })

  it('no matching image yet: the config alone makes no freight', async () => {
    await world.pushImage('acme/guestbook', '0.9.0') // outside the ^1.0.0 constraint
    const res = await world.run(gitops, 'reconcile')
    expect(res.logs).toContain('no image references discovered')
    expect(res.exitCode).toBe(0)
    const state = await world.state(gitops)
    expect(Object.keys(state.freight)).toHaveLength(0)
    expect(state.warehouses.guestbook.discovered!.git[0].commits[0].id).toBe(c0)
  })

  it('the first image makes freight carrying image and commit; test and uat render both', async () => {
    await world.pushImage('acme/guestbook', '1.0.0')
    world.advance(6)
    const res = await world.run(gitops, 'reconcile')
    expect(res.exitCode).toBe(0)
    const state = await world.state(gitops)
    const all = Object.values(state.freight)
    expect(all).toHaveLength(1)
    const f = all[0]
    expect(f.images.map((i) => i.tag)).toEqual(['1.0.0'])
    expect(f.commits.map((c) => c.id)).toEqual([c0])
    expect(currentAlias(state, 'test')).toBe(f.alias)
    expect(currentAlias(state, 'uat')).toBe(f.alias)
    expect(currentAlias(state, 'prod')).toBeUndefined()
    for (const stage of ['test', 'uat']) {
      const m = manifests(stage)!
      expect(m).toContain(`image: ${world.registry!.host}/acme/guestbook:1.0.0`)
      expect(m).toContain(`namespace: guestbook-${stage}`)
      expect(m).toMatch(/GREETING: Hello\n/)
    }
    expect(world.branches(gitops)).not.toContain('stage/prod')
    const log = sh('git', ['--git-dir', gitops.bare, 'log', '-1', '--format=%s', 'stage/test'])
    expect(log).toContain(`guestbook 1.0.0 with config ${c0} to test`)
  })

  it('promotions and non-config commits do not make freight (path filter, stage branches)', async () => {
    // The promotions above pushed stage branches; an edit outside base/ and env/ lands on main.
    world.commit(gitops, { 'README.md': '# gitops\n\nnotes\n' }, 'docs only')
    world.commit(
      gitops,
      {
        '.waybill/project-config.yaml':
          world.exampleFiles('common-case')['.waybill/project-config.yaml'] + '\n'
      },
      'policy whitespace'
    )
    world.advance(6)
    const res = await world.run(gitops, 'reconcile')
    expect(res.exitCode).toBe(0)
    const state = await world.state(gitops)
    expect(Object.keys(state.freight)).toHaveLength(1)
    expect(state.warehouses.guestbook.discovered!.git[0].commits[0].id).toBe(c0)
  })

  it('a config commit alone makes new freight with the same image and the new commit', async () => {
    const c1 = world.commit(
      gitops,
      {
        'base/configmap.yaml':
          'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: guestbook\ndata:\n  GREETING: Howdy\n'
      },
      'greet differently'
    )
    world.advance(6)
    await world.run(gitops, 'reconcile')
    const state = await world.state(gitops)
    const [f] = freightWith(state, { images: { guestbook: '1.0.0' }, commit: c1 })
    expect(f).toBeDefined()
    expect(Object.keys(state.freight)).toHaveLength(2)
    expect(stageFreight(state, 'uat').map((x) => x.name)).toEqual([f.name])
    for (const stage of ['test', 'uat']) {
      expect(manifests(stage)).toMatch(/GREETING: Howdy\n/)
      expect(manifests(stage)).toContain('acme/guestbook:1.0.0')
    }
  })

  it('a new image alone makes freight with the current config commit', async () => {
    const c1 = gitIn(gitops.work, 'log', '-1', '--format=%H', '--', 'base')
    await world.pushImage('acme/guestbook', '1.1.0')
    world.advance(6)
    await world.run(gitops, 'reconcile')
    const state = await world.state(gitops)
    const [f] = freightWith(state, { images: { guestbook: '1.1.0' }, commit: c1 })
    expect(f).toBeDefined()
    expect(currentAlias(state, 'uat')).toBe(f.alias)
    expect(manifests('uat')).toContain('acme/guestbook:1.1.0')
    expect(manifests('uat')).toMatch(/GREETING: Howdy\n/)
  })

  it('an image and a config commit together make one freight referencing both', async () => {
    const before = Object.keys((await world.state(gitops)).freight).length
    await world.pushImage('acme/guestbook', '1.2.0')
    const c2 = world.commit(
      gitops,
      {
        'env/uat/kustomization.yaml':
          'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: guestbook-uat\nresources:\n  - ../../base\ncommonLabels:\n  tier: staging\n'
      },
      'label uat'
    )
    world.advance(6)
    await world.run(gitops, 'reconcile')
    const state = await world.state(gitops)
    expect(Object.keys(state.freight)).toHaveLength(before + 1)
    const [f] = freightWith(state, { images: { guestbook: '1.2.0' }, commit: c2 })
    expect(f).toBeDefined()
    expect(currentAlias(state, 'test')).toBe(f.alias)
    expect(currentAlias(state, 'uat')).toBe(f.alias)
    expect(manifests('uat')).toContain('acme/guestbook:1.2.0')
    expect(manifests('uat')).toContain('tier: staging')
    expect(manifests('test')).not.toContain('tier: staging')
  })

  it('prod is promoted by hand and renders the pinned image and config', async () => {
    const res = await world.run(gitops, 'promote', { stage: 'prod', freight: 'latest' })
    expect(res.exitCode).toBe(0)
    const state = await world.state(gitops)
    expect(currentAlias(state, 'prod')).toBe(currentAlias(state, 'uat'))
    const m = manifests('prod')!
    expect(m).toContain('acme/guestbook:1.2.0')
    expect(m).toContain('namespace: guestbook-prod')
    expect(m).toMatch(/GREETING: Howdy\n/)
  })
})
