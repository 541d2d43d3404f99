import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { World, currentAlias, freightByCommit, lastPromotion, type Repo } from './harness.js'
import { gitIn } from '../support/git.js'
import type { StatusJson } from '../../src/commands/status.js'

/**
 * A promotion waiting on a pull request, aborted: the pull request must not stay mergeable (a
 * merge would change the stage while the state names the old freight), the promotion branch
 * Waybill generated goes, and the GitHub deployment stops claiming to be in progress. Merged
 * promotions delete their generated branch too.
 */
describe('abort and finish of PR-based promotions (rendered-configs, fake GitHub)', () => {
  let world: World
  let repo: Repo
  const github = { deployments: true, repository: 'acme/guestbook-config' }
  const newConfig = (greeting: string) => {
    const files = world.exampleFiles('rendered-configs')
    return world.commit(repo, {
      'base/configmap.yaml': files['base/configmap.yaml'].replace(
        'GREETING: Hello',
        `GREETING: ${greeting}`
      )
    })
  }

  beforeAll(async () => {
    world = await World.start({ github: true })
    const files = world.exampleFiles('rendered-configs')
    // prod auto-promotes here, so that reconcile (not only the gated promote job) resumes it.
    files['.waybill/project-config.yaml'] += `    - stageSelector: { name: prod }
      autoPromotionEnabled: true
`
    repo = world.repo('guestbook-config', files)
    const tree = gitIn(repo.work, 'hash-object', '-t', 'tree', '/dev/null')
    const root = gitIn(repo.work, 'commit-tree', tree, '-m', 'stage/prod')
    gitIn(repo.work, 'push', '-q', 'origin', `${root}:refs/heads/stage/prod`)
  })
  afterAll(async () => {
    world?.github?.assertNoViolations()
    await world?.close()
  })

  it('abort closes the pull request with why, deletes its branch and marks the deployment inactive', async () => {
    const res = await world.run(repo, 'reconcile', {}, github)
    expect(res.exitCode).toBe(0)
    const promo = lastPromotion(await world.state(repo), 'prod')!
    expect(promo.phase).toBe('Running')
    const pr = world.github!.pulls[0]
    expect(pr.state).toBe('open')
    expect(world.branches(repo)).toContain(pr.head)
    const deployment = world.github!.deployments.find((d) => d.environment === 'prod')!
    expect(deployment.statuses.map((s) => s.state)).toEqual(['in_progress'])

    const aborted = await world.run(
      repo,
      'abort',
      { stage: 'prod' },
      { ...github, actor: 'octocat', runURL: 'https://github.com/acme/gitops/actions/runs/77' }
    )
    expect(aborted.exitCode).toBe(0)
    expect(lastPromotion(await world.state(repo), 'prod')!.phase).toBe('Aborted')
    expect(pr.state).toBe('closed')
    expect(pr.merged).toBe(false)
    expect(pr.comments).toHaveLength(1)
    expect(pr.comments[0]).toContain(promo.name)
    expect(pr.comments[0]).toContain('aborted by octocat')
    expect(pr.comments[0]).toContain('https://github.com/acme/gitops/actions/runs/77')
    expect(world.branches(repo)).not.toContain(pr.head)
    expect(deployment.statuses.map((s) => s.state)).toEqual(['in_progress', 'inactive'])
    expect(aborted.summary).toContain('Pull request closed')
    expect(aborted.summary).toContain('marked inactive')
    // prod never received anything: the branch still holds its empty root.
    expect(world.files(repo, 'stage/prod')).toEqual([])
  })

  it('a merged promotion deletes the branch Waybill generated for its pull request', async () => {
    const c = newConfig('Howdy')
    world.advance(6)
    await world.run(repo, 'reconcile', {}, github)
    const f = freightByCommit(await world.state(repo), c)!
    expect(lastPromotion(await world.state(repo), 'prod', f.name)!.phase).toBe('Running')
    const pr = world.github!.pulls[1]
    expect(pr.state).toBe('open')
    world.github!.mergePull(pr.number)
    expect(world.branches(repo)).toContain(pr.head)
    const res = await world.run(repo, 'reconcile', {}, github)
    expect(res.exitCode).toBe(0)
    const state = await world.state(repo)
    expect(lastPromotion(state, 'prod', f.name)!.phase).toBe('Succeeded')
    expect(currentAlias(state, 'prod')).toBe(f.alias)
    expect(world.branches(repo)).not.toContain(pr.head)
    expect(pr.comments).toHaveLength(0)
  })

  it('a change merged into stage/prod outside Waybill shows as drift, with who made it', async () => {
    const hand = world.repo('scratch').work
    gitIn(hand, 'fetch', '-q', repo.bare, 'stage/prod')
    gitIn(hand, 'checkout', '-q', '-B', 'hotfix', 'FETCH_HEAD')
    gitIn(hand, 'commit', '-q', '--allow-empty', '-m', 'hotfix straight to prod')
    gitIn(hand, 'push', '-q', repo.bare, 'HEAD:refs/heads/stage/prod')
    const res = await world.run(repo, 'status', {}, github)
    const prod = (JSON.parse(res.outputs!.status) as StatusJson).stages.find(
      (s) => s.name === 'prod'
    )!
    expect(prod.drift).toEqual([
      expect.objectContaining({
        kind: 'branch',
        changedBy: expect.stringContaining('hotfix straight to prod')
      })
    ])
  })
})
