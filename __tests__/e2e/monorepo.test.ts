import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { World, currentAlias, freightByCommit, type Repo, type RunResult } from './harness.js'
import type { State } from '../../src/state/types.js'

describe('examples/monorepo end to end', () => {
  let world: World
  let mono: Repo
  const files = () => world.exampleFiles('monorepo')
  const manifests = (stage: string) => world.file(mono, `stage/${stage}`, 'manifests.yaml')
  const count = (state: State, warehouse: string) =>
    Object.values(state.freight).filter((f) => f.origin.name === warehouse).length
  const clones = (res: RunResult) => res.logs.split('new blobless clone of').length - 1
  const message = (app: string, text: string) =>
    files()[`${app}/base/kustomization.yaml`].replace(
      `MESSAGE=hello from ${app}`,
      `MESSAGE=${text}`
    )

  beforeAll(async () => {
    world = await World.start()
    mono = world.repo('platform-config', world.exampleFiles('monorepo'))
  })
  afterAll(() => world?.close())

  it('validates as shipped', async () => {
    expect((await world.run(mono, 'validate')).exitCode).toBe(0)
  })

  it('both warehouses make freight from one clone; both test stages render their app', async () => {
    const res = await world.run(mono, 'reconcile')
    expect(res.logs).not.toMatch(/error:/)
    expect(res.exitCode).toBe(0)
    expect(clones(res)).toBe(1)
    const state = await world.state(mono)
    expect(count(state, 'guestbook')).toBe(1)
    expect(count(state, 'portal')).toBe(1)
    expect(currentAlias(state, 'guestbook-test')).toBeDefined()
    expect(currentAlias(state, 'portal-test')).toBeDefined()
    expect(currentAlias(state, 'guestbook-prod')).toBeUndefined()
    expect(manifests('guestbook-test')).toContain('namespace: guestbook-test')
    expect(manifests('guestbook-test')).toContain('MESSAGE: hello from guestbook')
    expect(manifests('guestbook-test')).not.toContain('portal')
    expect(manifests('portal-test')).toContain('namespace: portal-test')
    expect(manifests('portal-test')).toContain('MESSAGE: hello from portal')
  })

  it('a commit to guestbook/ (plain prefix) makes guestbook freight only', async () => {
    const before = await world.state(mono)
    const c = world.commit(
      mono,
      { 'guestbook/base/kustomization.yaml': message('guestbook', 'hi guests') },
      'guestbook: new message'
    )
    world.advance(6)
    const res = await world.run(mono, 'reconcile')
    expect(clones(res)).toBe(1)
    const state = await world.state(mono)
    expect(count(state, 'guestbook')).toBe(2)
    expect(count(state, 'portal')).toBe(1)
    expect(freightByCommit(state, c)!.origin.name).toBe('guestbook')
    expect(currentAlias(state, 'guestbook-test')).toBe(freightByCommit(state, c)!.alias)
    expect(currentAlias(state, 'portal-test')).toBe(currentAlias(before, 'portal-test'))
    expect(manifests('guestbook-test')).toContain('MESSAGE: hi guests')
    expect(manifests('portal-test')).toContain('MESSAGE: hello from portal')
  })

  it('excluded paths (regex: README, glob: portal/docs) and files outside both apps make nothing', async () => {
    world.commit(mono, { 'guestbook/README.md': '# Guestbook\n\nnow with notes\n' }, 'gb readme')
    world.commit(mono, { 'portal/docs/runbook.md': '# Portal runbook\n\nCall Sam.\n' }, 'runbook')
    world.commit(
      mono,
      { '.waybill/project-config.yaml': files()['.waybill/project-config.yaml'] + '\n' },
      'policy'
    )
    world.advance(6)
    expect((await world.run(mono, 'reconcile')).exitCode).toBe(0)
    const state = await world.state(mono)
    expect(count(state, 'guestbook')).toBe(2)
    expect(count(state, 'portal')).toBe(1)
  })

  it('a commit to portal/ (glob) makes portal freight only', async () => {
    const c = world.commit(
      mono,
      { 'portal/base/kustomization.yaml': message('portal', 'welcome to the portal') },
      'portal: new message'
    )
    world.advance(6)
    await world.run(mono, 'reconcile')
    const state = await world.state(mono)
    expect(count(state, 'guestbook')).toBe(2)
    expect(count(state, 'portal')).toBe(2)
    expect(freightByCommit(state, c)!.origin.name).toBe('portal')
    expect(manifests('portal-test')).toContain('MESSAGE: welcome to the portal')
    expect(manifests('guestbook-test')).toContain('MESSAGE: hi guests')
  })

  it('a commit touching both apps makes one freight per warehouse, still from one clone', async () => {
    const c = world.commit(
      mono,
      {
        'guestbook/stages/test/kustomization.yaml':
          files()['guestbook/stages/test/kustomization.yaml'] + 'commonLabels: { tier: test }\n',
        'portal/stages/test/kustomization.yaml':
          files()['portal/stages/test/kustomization.yaml'] + 'commonLabels: { tier: test }\n'
      },
      'label both test overlays'
    )
    world.advance(6)
    const res = await world.run(mono, 'reconcile')
    expect(clones(res)).toBe(1)
    const state = await world.state(mono)
    expect(count(state, 'guestbook')).toBe(3)
    expect(count(state, 'portal')).toBe(3)
    const both = Object.values(state.freight).filter((f) => f.commits.some((x) => x.id === c))
    expect(both.map((f) => f.origin.name).sort()).toEqual(['guestbook', 'portal'])
    expect(manifests('guestbook-test')).toContain('tier: test')
    expect(manifests('portal-test')).toContain('tier: test')
  })

  it('a push event discovers only the warehouse whose filters match the pushed files', async () => {
    const c = world.commit(
      mono,
      {
        'portal/base/service.yaml': files()['portal/base/service.yaml'].replace(
          'port: 80',
          'port: 8081'
        )
      },
      'portal: service port'
    )
    // A minute later (freight is ordered by discovery time): the interval has not passed, so
    // only the event makes discovery run.
    world.advance(1)
    const payload = {
      ref: 'refs/heads/main',
      after: c,
      repository: { clone_url: mono.url, default_branch: 'main' },
      commits: [{ id: c, added: [], removed: [], modified: ['portal/base/service.yaml'] }]
    }
    const res = await world.run(mono, 'discover', {
      'event-name': 'push',
      event: JSON.stringify(payload)
    })
    expect(res.exitCode).toBe(0)
    expect(res.logs).toContain('push to branch main: portal')
    expect(res.logs).not.toContain('group: Warehouse guestbook')
    const state = await world.state(mono)
    expect(freightByCommit(state, c)!.origin.name).toBe('portal')
    expect(count(state, 'guestbook')).toBe(3)
    expect(count(state, 'portal')).toBe(4)
    // The next reconcile (not due for discovery) promotes it to portal-test.
    await world.run(mono, 'reconcile')
    const after = await world.state(mono)
    expect(currentAlias(after, 'portal-test')).toBe(freightByCommit(after, c)!.alias)
    expect(manifests('portal-test')).toContain('port: 8081')
  })

  it('prod stages are promoted by hand, per application', async () => {
    const res = await world.run(mono, 'promote', { stage: 'portal-prod', freight: 'latest' })
    expect(res.exitCode).toBe(0)
    const state = await world.state(mono)
    expect(currentAlias(state, 'portal-prod')).toBe(currentAlias(state, 'portal-test'))
    expect(currentAlias(state, 'guestbook-prod')).toBeUndefined()
    const m = manifests('portal-prod')!
    expect(m).toContain('namespace: portal-prod')
    expect(m).toContain('MESSAGE: welcome to the portal')
    expect(m).toContain('port: 8081')
    expect(m).not.toContain('tier: test')
    expect(world.branches(mono)).not.toContain('stage/guestbook-prod')
  })
})
