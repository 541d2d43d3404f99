import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { World, currentAlias, freightByCommit, lastPromotion, type Repo } from './harness.js'
import { gitIn, sh } from '../support/git.js'

describe('examples/rendered-configs end to end (fake GitHub, git over smart HTTP)', () => {
  let world: World
  let repo: Repo
  const rendered = (branch: string, stage: string, kind: string) =>
    world.file(repo, branch, `guestbook-${stage}-${kind}-guestbook.yaml`)
  const closedEvent = (n: number) => {
    const p = world.github!.pull(n)
    return JSON.stringify({
      action: 'closed',
      number: n,
      pull_request: {
        number: n,
        state: 'closed',
        merged: p.merged,
        head: { ref: p.head, sha: p.headSha },
        base: { ref: p.base }
      },
      repository: {
        full_name: 'acme/guestbook-config',
        name: 'guestbook-config',
        owner: { login: 'acme' }
      }
    })
  }

  beforeAll(async () => {
    world = await World.start({ github: true })
    repo = world.repo('guestbook-config', world.exampleFiles('rendered-configs'))
    // One-time setup (README): the PR target, an empty stage/prod branch.
    const tree = gitIn(repo.work, 'hash-object', '-t', 'tree', '/dev/null')
    const root = gitIn(repo.work, 'commit-tree', tree, '-m', 'stage/prod')
    gitIn(repo.work, 'push', '-q', 'origin', `${root}:refs/heads/stage/prod`)
  })
  afterAll(async () => {
    world?.github?.assertNoViolations()
    await world?.close()
  })

  it('validates as shipped', async () => {
    expect((await world.run(repo, 'validate')).exitCode).toBe(0)
  })

  it('test and uat get rendered plain YAML pushed straight to their branches', async () => {
    const res = await world.run(repo, 'reconcile')
    expect(res.logs).not.toMatch(/error:/)
    expect(res.exitCode).toBe(0)
    const state = await world.state(repo)
    expect(Object.keys(state.freight)).toHaveLength(1)
    for (const stage of ['test', 'uat']) {
      expect(world.files(repo, `stage/${stage}`).sort()).toEqual([
        `guestbook-${stage}-configmap-guestbook.yaml`,
        `guestbook-${stage}-deployment-guestbook.yaml`
      ])
      expect(rendered(`stage/${stage}`, stage, 'configmap')).toContain('GREETING: Hello')
      expect(rendered(`stage/${stage}`, stage, 'deployment')).toContain(
        `namespace: guestbook-${stage}`
      )
    }
    expect(world.github!.pulls).toHaveLength(0)
  })

  it('prod opens a PR of the rendered manifests and waits (Running) until it is merged', async () => {
    const res = await world.run(repo, 'promote', { stage: 'prod', freight: 'latest' })
    expect(res.exitCode).toBe(0)
    let state = await world.state(repo)
    const promo = lastPromotion(state, 'prod')!
    expect(promo.phase).toBe('Running')
    expect(currentAlias(state, 'prod')).toBeUndefined()
    expect(world.github!.pulls).toHaveLength(1)
    const pr = world.github!.pulls[0]
    expect(pr.state).toBe('open')
    expect(pr.base).toBe('stage/prod')
    expect(pr.head).toMatch(/^waybill\/promotion\//)
    // The PR's head holds the rendered prod manifests; stage/prod does not yet.
    expect(rendered(pr.head, 'prod', 'deployment')).toContain('replicas: 3')
    expect(world.files(repo, 'stage/prod')).toEqual([])

    // Nothing changes while the PR is open.
    await world.run(repo, 'reconcile')
    state = await world.state(repo)
    expect(lastPromotion(state, 'prod')!.phase).toBe('Running')

    world.github!.mergePull(pr.number)
    const resumed = await world.run(repo, 'reconcile')
    expect(resumed.exitCode).toBe(0)
    state = await world.state(repo)
    expect(lastPromotion(state, 'prod')!.phase).toBe('Succeeded')
    expect(currentAlias(state, 'prod')).toBe(currentAlias(state, 'uat'))
    expect(rendered('stage/prod', 'prod', 'deployment')).toContain('namespace: guestbook-prod')
    expect(rendered('stage/prod', 'prod', 'configmap')).toContain('GREETING: Hello')
  })

  it('a new config commit: test and uat directly; prod waits on a PR that the pull_request event resumes', async () => {
    const files = world.exampleFiles('rendered-configs')
    const c = world.commit(repo, {
      'base/configmap.yaml': files['base/configmap.yaml'].replace(
        'GREETING: Hello',
        'GREETING: Howdy'
      )
    })
    world.advance(6)
    await world.run(repo, 'reconcile')
    let state = await world.state(repo)
    const f = freightByCommit(state, c)!
    expect(currentAlias(state, 'uat')).toBe(f.alias)
    expect(rendered('stage/uat', 'uat', 'configmap')).toContain('GREETING: Howdy')

    await world.run(repo, 'promote', { stage: 'prod', freight: f.alias })
    const pr = world.github!.pulls[1]
    expect(pr.state).toBe('open')
    // The PR diff is the rendered change itself.
    const diff = sh('git', ['--git-dir', repo.bare, 'diff', `stage/prod...${pr.head}`])
    expect(diff).toContain('-  GREETING: Hello')
    expect(diff).toContain('+  GREETING: Howdy')
    world.github!.mergePull(pr.number)
    const res = await world.run(repo, 'reconcile', {
      'event-name': 'pull_request',
      event: closedEvent(pr.number)
    })
    expect(res.exitCode).toBe(0)
    state = await world.state(repo)
    expect(lastPromotion(state, 'prod', f.name)!.phase).toBe('Succeeded')
    expect(currentAlias(state, 'prod')).toBe(f.alias)
    expect(rendered('stage/prod', 'prod', 'configmap')).toContain('GREETING: Howdy')
  })

  it('a PR closed without merging fails the promotion; prod keeps what it had', async () => {
    const files = world.exampleFiles('rendered-configs')
    const c = world.commit(repo, {
      'base/configmap.yaml': files['base/configmap.yaml'].replace(
        'GREETING: Hello',
        'GREETING: Ahoy'
      )
    })
    world.advance(6)
    await world.run(repo, 'reconcile')
    let state = await world.state(repo)
    const f = freightByCommit(state, c)!
    const before = currentAlias(state, 'prod')
    await world.run(repo, 'promote', { stage: 'prod', freight: f.alias })
    const pr = world.github!.pulls[2]
    expect(pr.state).toBe('open')
    world.github!.closePull(pr.number)
    const res = await world.run(repo, 'reconcile', {
      'event-name': 'pull_request',
      event: closedEvent(pr.number)
    })
    state = await world.state(repo)
    const promo = lastPromotion(state, 'prod', f.name)!
    expect(promo.phase).toBe('Failed')
    expect(res.logs).toMatch(/closed/i)
    expect(currentAlias(state, 'prod')).toBe(before)
    expect(rendered('stage/prod', 'prod', 'configmap')).toContain('GREETING: Howdy')
  })
})
