import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { World, currentAlias, freightByCommit, type Repo } from './harness.js'
import { gitIn, sh } from '../support/git.js'

const example = 'storage-options'
const greeting = (files: Record<string, string>, text: string) =>
  files['src/base/kustomization.yaml'].replace('GREETING=Hello', `GREETING=${text}`)

/** One World for the file; each variant gets its own config repository. */
let world: World
beforeAll(async () => {
  world = await World.start()
})
afterAll(() => world?.close())

describe('examples/storage-options/stage-branches', () => {
  let repo: Repo
  const files = () => world.exampleFiles(`${example}/stage-branches`)

  beforeAll(() => {
    repo = world.repo('guestbook-config', files())
  })

  it('validates, and each stage gets its own branch holding only its rendered resources', async () => {
    expect((await world.run(repo, 'validate')).exitCode).toBe(0)
    const res = await world.run(repo, 'reconcile')
    expect(res.logs).not.toMatch(/error:/)
    const state = await world.state(repo)
    expect(Object.keys(state.freight)).toHaveLength(1)
    expect(world.branches(repo).sort()).toEqual([
      'main',
      'stage/test',
      'stage/uat',
      'waybill/state'
    ])
    for (const stage of ['test', 'uat']) {
      expect(world.files(repo, `stage/${stage}`).sort()).toEqual([
        `guestbook-${stage}-configmap-guestbook.yaml`,
        `guestbook-${stage}-deployment-guestbook.yaml`
      ])
      expect(
        world.file(repo, `stage/${stage}`, `guestbook-${stage}-configmap-guestbook.yaml`)
      ).toContain('GREETING: Hello')
    }
    // main is untouched by promotions.
    expect(gitIn(repo.work, 'rev-list', '--count', 'origin/main')).toBe('1')
  })

  it('a change under src/ flows to the stage branches; main still only has sources', async () => {
    world.commit(repo, { 'src/base/kustomization.yaml': greeting(files(), 'Howdy') })
    world.advance(6)
    await world.run(repo, 'reconcile')
    const state = await world.state(repo)
    expect(Object.keys(state.freight)).toHaveLength(2)
    expect(world.file(repo, 'stage/uat', 'guestbook-uat-configmap-guestbook.yaml')).toContain(
      'GREETING: Howdy'
    )
    expect(world.files(repo, 'main').some((f) => f.startsWith('builds/'))).toBe(false)
  })
})

describe('examples/storage-options/write-back', () => {
  let repo: Repo
  const files = () => world.exampleFiles(`${example}/write-back`)
  const build = (stage: string, kind: string) =>
    world.file(repo, 'main', `builds/${stage}/guestbook-${stage}-${kind}-guestbook.yaml`)

  beforeAll(() => {
    repo = world.repo('guestbook-config', files(), 'acme-wb')
    // The example names acme/guestbook-config; point it at this variant's repository.
    world.urlMap.set('https://github.com/acme/guestbook-config.git', repo.url)
    world.commit(repo, files(), 'point at this repository')
  })

  it('promotions commit rendered output to builds/<stage>/ on main', async () => {
    expect((await world.run(repo, 'validate')).exitCode).toBe(0)
    // The re-pointing commit only touched .waybill/ (excluded): the freight is the initial commit.
    const head = gitIn(repo.work, 'rev-list', '--max-parents=0', 'HEAD')
    const res = await world.run(repo, 'reconcile')
    expect(res.logs).not.toMatch(/error:/)
    const state = await world.state(repo)
    expect(Object.keys(state.freight)).toHaveLength(1)
    const f = freightByCommit(state, head)!
    expect(currentAlias(state, 'test')).toBe(f.alias)
    expect(currentAlias(state, 'uat')).toBe(f.alias)
    expect(world.branches(repo).sort()).toEqual(['main', 'waybill/state'])
    for (const stage of ['test', 'uat']) {
      expect(build(stage, 'deployment')).toContain(`namespace: guestbook-${stage}`)
      expect(build(stage, 'configmap')).toContain('GREETING: Hello')
    }
    expect(build('prod', 'deployment')).toBeUndefined()
    const subjects = sh('git', ['--git-dir', repo.bare, 'log', '--format=%s', '-3', 'main'])
    expect(subjects.split('\n')).toEqual([
      `Render ${head} into builds/uat`,
      `Render ${head} into builds/test`,
      'point at this repository'
    ])
  })

  it('no feedback loop: after the promotion commits, a reconcile makes no new freight', async () => {
    world.advance(6)
    const mainBefore = sh('git', ['--git-dir', repo.bare, 'rev-parse', 'main'])
    const res = await world.run(repo, 'reconcile')
    expect(res.exitCode).toBe(0)
    const state = await world.state(repo)
    expect(Object.keys(state.freight)).toHaveLength(1)
    // Discovery saw the promotion commits and skipped them: the only candidate is still the
    // initial configuration commit.
    const commits = state.warehouses.guestbook.discovered!.git[0].commits
    expect(commits.map((c) => c.subject)).toEqual(['initial'])
    expect(sh('git', ['--git-dir', repo.bare, 'rev-parse', 'main'])).toBe(mainBefore)
  })

  it('a source change is new freight; its promotions rewrite only their builds/ folder', async () => {
    const c = world.commit(repo, { 'src/base/kustomization.yaml': greeting(files(), 'Howdy') })
    world.advance(6)
    await world.run(repo, 'reconcile')
    let state = await world.state(repo)
    expect(Object.keys(state.freight)).toHaveLength(2)
    expect(currentAlias(state, 'uat')).toBe(freightByCommit(state, c)!.alias)
    expect(build('uat', 'configmap')).toContain('GREETING: Howdy')
    // Still no loop.
    world.advance(6)
    await world.run(repo, 'reconcile')
    state = await world.state(repo)
    expect(Object.keys(state.freight)).toHaveLength(2)
    // prod by hand, also written back to main.
    expect((await world.run(repo, 'promote', { stage: 'prod', freight: 'latest' })).exitCode).toBe(
      0
    )
    expect(build('prod', 'configmap')).toContain('GREETING: Howdy')
    expect(build('prod', 'deployment')).toContain('namespace: guestbook-prod')
    world.advance(6)
    await world.run(repo, 'reconcile')
    expect(Object.keys((await world.state(repo)).freight)).toHaveLength(2)
  })

  it('control: without excludePaths [builds], promotion commits turn into freight', async () => {
    const wh = files()['.waybill/warehouse.yaml'].replace(/\n {10}- builds\n/, '\n')
    expect(wh).not.toContain('- builds')
    world.commit(repo, { '.waybill/warehouse.yaml': wh }, 'drop the builds filter')
    world.advance(6)
    await world.run(repo, 'reconcile')
    const state = await world.state(repo)
    const looped = Object.values(state.freight).filter((f) =>
      f.commits.some((c) => c.message?.startsWith('Render '))
    )
    expect(looped.length).toBeGreaterThan(0)
  })
})

describe('examples/storage-options/separate-repo', () => {
  let repo: Repo
  let deploy: Repo
  const files = () => world.exampleFiles(`${example}/separate-repo`)

  beforeAll(() => {
    repo = world.repo('guestbook-config', files(), 'acme-sr')
    world.urlMap.set('https://github.com/acme/guestbook-config.git', repo.url)
    deploy = world.repo('guestbook-deploy', { 'README.md': '# guestbook deployments\n' })
    world.commit(repo, files(), 'point at these repositories')
  })

  it('promotions write <stage>/manifests.yaml to the other repository only', async () => {
    expect((await world.run(repo, 'validate')).exitCode).toBe(0)
    const res = await world.run(repo, 'reconcile')
    expect(res.logs).not.toMatch(/error:/)
    const state = await world.state(repo)
    expect(currentAlias(state, 'uat')).toBeDefined()
    expect(world.files(deploy, 'main').sort()).toEqual([
      'README.md',
      'test/manifests.yaml',
      'uat/manifests.yaml'
    ])
    expect(world.file(deploy, 'main', 'uat/manifests.yaml')).toContain('namespace: guestbook-uat')
    expect(world.branches(deploy)).toEqual(['main'])
    // The config repository gets nothing but Waybill's state.
    expect(world.branches(repo).sort()).toEqual(['main', 'waybill/state'])
  })

  it('prod by hand, and a source change moves test and uat in the other repository', async () => {
    expect((await world.run(repo, 'promote', { stage: 'prod', freight: 'latest' })).exitCode).toBe(
      0
    )
    world.commit(repo, { 'src/base/kustomization.yaml': greeting(files(), 'Howdy') })
    world.advance(6)
    await world.run(repo, 'reconcile')
    expect(world.file(deploy, 'main', 'test/manifests.yaml')).toContain('GREETING: Howdy')
    expect(world.file(deploy, 'main', 'uat/manifests.yaml')).toContain('GREETING: Howdy')
    expect(world.file(deploy, 'main', 'prod/manifests.yaml')).toContain('GREETING: Hello')
    expect(Object.keys((await world.state(repo)).freight)).toHaveLength(2)
  })
})
