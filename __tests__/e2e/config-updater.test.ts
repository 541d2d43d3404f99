import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { World, currentAlias, freightByCommit, type Repo } from './harness.js'
import { gitIn, sh } from '../support/git.js'

describe('examples/config-updater end to end', () => {
  let world: World
  let config: Repo
  let c0: string
  const manifests = (stage: string) => world.file(config, `stage/${stage}`, 'manifests.yaml')
  const configMap = (greeting: string) =>
    `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: guestbook\ndata:\n  GREETING: ${greeting}\n  LOG_LEVEL: info\n`

  beforeAll(async () => {
    world = await World.start()
    config = world.repo('guestbook-config', world.exampleFiles('config-updater'))
    c0 = gitIn(config.work, 'rev-parse', 'HEAD')
  })
  afterAll(() => world?.close())

  it('validates as shipped', async () => {
    expect((await world.run(config, 'validate')).exitCode).toBe(0)
  })

  it('the head of main is freight; test and uat render base + overlay to their branches', async () => {
    const res = await world.run(config, 'reconcile')
    expect(res.logs).not.toMatch(/error:/)
    expect(res.exitCode).toBe(0)
    const state = await world.state(config)
    expect(Object.keys(state.freight)).toHaveLength(1)
    const f = freightByCommit(state, c0)!
    expect(f.images).toEqual([])
    expect(currentAlias(state, 'test')).toBe(f.alias)
    expect(currentAlias(state, 'uat')).toBe(f.alias)
    expect(currentAlias(state, 'prod')).toBeUndefined()
    expect(world.branches(config).sort()).toEqual([
      'main',
      'stage/test',
      'stage/uat',
      'waybill/state'
    ])
    for (const stage of ['test', 'uat']) {
      expect(world.files(config, `stage/${stage}`)).toEqual(['manifests.yaml'])
      const m = manifests(stage)!
      expect(m).toContain(`namespace: guestbook-${stage}`)
      expect(m).toMatch(/GREETING: Hello\n/)
      expect(m).toContain('replicas: 1')
      expect(m).toContain('image: ghcr.io/acme/guestbook:1.4.0')
    }
    const subject = sh('git', ['--git-dir', config.bare, 'log', '-1', '--format=%s', 'stage/uat'])
    expect(subject).toBe(`Render config ${c0} for uat`)
  })

  it('prod is promoted by hand and gets its own overlay', async () => {
    const res = await world.run(config, 'promote', { stage: 'prod', freight: 'latest' })
    expect(res.exitCode).toBe(0)
    const m = manifests('prod')!
    expect(m).toContain('namespace: guestbook-prod')
    expect(m).toContain('replicas: 3')
    expect(m).toMatch(/GREETING: Hello\n/)
  })

  it('one edit to base is promoted stage by stage: test and uat now, prod untouched', async () => {
    const c1 = world.commit(config, { 'base/configmap.yaml': configMap('Howdy') }, 'greet')
    world.advance(6)
    const res = await world.run(config, 'reconcile')
    expect(res.exitCode).toBe(0)
    const state = await world.state(config)
    const f = freightByCommit(state, c1)!
    expect(f).toBeDefined()
    expect(currentAlias(state, 'test')).toBe(f.alias)
    expect(currentAlias(state, 'uat')).toBe(f.alias)
    expect(currentAlias(state, 'prod')).toBe(freightByCommit(state, c0)!.alias)
    expect(manifests('test')).toMatch(/GREETING: Howdy\n/)
    expect(manifests('uat')).toMatch(/GREETING: Howdy\n/)
    expect(manifests('prod')).toMatch(/GREETING: Hello\n/)
    // main itself still holds only the sources: nothing rendered was written back.
    expect(world.files(config, 'main')).not.toContain('manifests.yaml')
  })

  it('an image bump in the config is a release like any other', async () => {
    const deploy = world.exampleFiles('config-updater')['base/deployment.yaml']
    const c2 = world.commit(
      config,
      { 'base/deployment.yaml': deploy.replace('guestbook:1.4.0', 'guestbook:1.5.0') },
      'guestbook 1.5.0'
    )
    world.advance(6)
    await world.run(config, 'reconcile')
    const state = await world.state(config)
    expect(currentAlias(state, 'uat')).toBe(freightByCommit(state, c2)!.alias)
    expect(manifests('uat')).toContain('image: ghcr.io/acme/guestbook:1.5.0')
    expect(manifests('uat')).toMatch(/GREETING: Howdy\n/)
    expect(manifests('prod')).toContain('image: ghcr.io/acme/guestbook:1.4.0')
  })

  it('edits to .waybill/, workflows and docs are not releases', async () => {
    const before = Object.keys((await world.state(config)).freight).length
    const files = world.exampleFiles('config-updater')
    world.commit(config, { 'README.md': '# guestbook config\n\nnotes\n' }, 'docs')
    world.commit(
      config,
      { '.waybill/project-config.yaml': files['.waybill/project-config.yaml'] + '\n' },
      'policy whitespace'
    )
    world.advance(6)
    expect((await world.run(config, 'reconcile')).exitCode).toBe(0)
    const state = await world.state(config)
    expect(Object.keys(state.freight)).toHaveLength(before)
  })

  it('prod catches up by hand with everything uat verified', async () => {
    expect(
      (await world.run(config, 'promote', { stage: 'prod', freight: 'latest' })).exitCode
    ).toBe(0)
    const state = await world.state(config)
    expect(currentAlias(state, 'prod')).toBe(currentAlias(state, 'uat'))
    const m = manifests('prod')!
    expect(m).toContain('image: ghcr.io/acme/guestbook:1.5.0')
    expect(m).toMatch(/GREETING: Howdy\n/)
    expect(m).toContain('replicas: 3')
  })
})
