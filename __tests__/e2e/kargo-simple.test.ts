import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { World, currentAlias, freightByImageTag, lastPromotion, type Repo } from './harness.js'
import { gitIn, sh } from '../support/git.js'
import { startArgoCDFake, type ArgoCDFake } from '../support/argocd-fake.js'
import { MemoryLogger } from '../../src/util/logger.js'
import type { CommandArgs } from '../../src/runtime/context.js'

/**
 * A project laid out like Kargo's kargo-simple example (our own fixture,
 * __tests__/fixtures/kargo/simple), run unchanged: its `kargo/` resources are Waybill's config
 * folder, and its `promote` PromotionTask clones the repository, sets the image in
 * env/<stage>, renders the overlay into the rendered/<stage> branch (git-clear +
 * kustomize-build), commits and pushes it (prod: through a pull request) and syncs the stage's
 * Argo CD Application. Only URLs are pointed at the local servers.
 */
const FIXTURE = path.join(process.cwd(), '__tests__', 'fixtures', 'kargo', 'simple')
const TOKEN = 'argocd-kargo-simple-token'
const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904'
const RENDERED = [
  'namespace-storefront-STAGE.yaml',
  'storefront-STAGE-deployment-storefront.yaml',
  'storefront-STAGE-service-storefront.yaml'
]

function readTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name)
      if (e.isDirectory()) walk(p)
      else out[path.relative(dir, p)] = fs.readFileSync(p, 'utf8')
    }
  }
  walk(dir)
  return out
}

describe('a kargo-simple-like project, unchanged', () => {
  let world: World
  let argocd: ArgoCDFake
  let repo: Repo
  let original: Record<string, string>
  let image: string
  const rendered = (stage: string) => `rendered/${stage}`
  const deployment = (branch: string, stage: string) =>
    world.file(repo, branch, `storefront-${stage}-deployment-storefront.yaml`)
  const rev = (ref: string) => sh('git', ['--git-dir', repo.bare, 'rev-parse', ref])
  const syncs = (app: string) =>
    argocd.requests.filter(
      (r) => r.operationId === 'ApplicationService_Sync' && r.path.endsWith(`/${app}/sync`)
    )
  const run = (name: string, args: CommandArgs = {}) => {
    const base = world.context(repo, new MemoryLogger())
    return world.run(repo, name, args, {
      configDir: 'kargo',
      services: {
        ...base.services,
        argocd: { server: argocd.url, token: TOKEN, namespace: 'argocd' }
      }
    })
  }
  /** Argo CD finishes the sync the promotion started; the next reconcile completes it. */
  const syncFinishes = async (stage: string) => {
    argocd.finishOperation(`storefront-${stage}`, 'Succeeded', { health: 'Healthy' })
    world.advance(1)
    const res = await run('reconcile')
    expect(res.exitCode).toBe(0)
    const promotion = lastPromotion(await world.state(repo), stage)!
    expect(promotion).toMatchObject({ phase: 'Succeeded' })
  }

  beforeAll(async () => {
    world = await World.start({ registry: true, github: true })
    argocd = await startArgoCDFake({ token: TOKEN })
    original = readTree(FIXTURE)
    repo = world.repo('storefront-gitops', original)
    image = `${world.registry!.host}/acme/storefront`
    // prod's rendered branch exists before its first promotion, as it would after bootstrapping:
    // the pull request needs a branch to target. (test and uat create theirs with git-clone.)
    const empty = gitIn(repo.work, 'commit-tree', EMPTY_TREE, '-m', 'rendered/prod')
    gitIn(repo.work, 'push', '-q', 'origin', `${empty}:refs/heads/${rendered('prod')}`)
    // The stages' Applications, as an Argo CD admin would create them: each follows its
    // rendered branch and delegates to its stage.
    for (const stage of ['test', 'uat', 'prod']) {
      argocd.addApplication({
        name: `storefront-${stage}`,
        annotations: { 'kargo.akuity.io/authorized-stage': `e2e:${stage}` },
        source: { repoURL: repo.url, path: '.', targetRevision: rendered(stage) },
        health: 'Healthy'
      })
    }
  })
  afterAll(async () => {
    world?.github?.assertNoViolations()
    await argocd?.close()
    await world?.close()
  })

  it('validates as written', async () => {
    const res = await run('validate')
    expect(res.exitCode).toBe(0)
  })

  it('the warehouse discovers the image; test is promoted by hand into its rendered branch', async () => {
    await world.pushImage('acme/storefront', '1.1.0')
    const disc = await run('discover')
    expect(disc.exitCode).toBe(0)
    const f = freightByImageTag(await world.state(repo), '1.1.0')!
    expect(f).toBeDefined()
    const main = rev('main')
    const res = await run('promote', { stage: 'test', freight: f.alias })
    expect(res.logs).not.toMatch(/error:/)
    expect(res.exitCode).toBe(0)
    // Rendered, committed and pushed; now waiting for Argo CD's sync.
    expect(lastPromotion(await world.state(repo), 'test')!.phase).toBe('Running')
    expect(syncs('storefront-test')).toHaveLength(1)
    // main (the source) is untouched: the edit lives only in what was rendered.
    expect(rev('main')).toBe(main)
    expect(world.files(repo, rendered('test'))).toEqual(
      RENDERED.map((f) => f.replace('STAGE', 'test'))
    )
    const deploy = deployment(rendered('test'), 'test')!
    expect(deploy).toContain(`image: ${image}:1.1.0`)
    expect(deploy).toContain('namespace: storefront-test')
    // The build of the edited overlay, byte for byte.
    const built = sh('kustomize', ['build', path.join(repo.work, 'env/test')])
    expect(built.replace(/:1\.0\.0$/m, ':1.1.0')).toContain(deploy.trim())
    const msg = sh('git', ['--git-dir', repo.bare, 'log', '-1', '--format=%B', rendered('test')])
    expect(msg).toBe(`Updated ./src/env/test to use new image\n\n- ${image}:1.1.0`)

    await syncFinishes('test')
    expect(currentAlias(await world.state(repo), 'test')).toBe(f.alias)
    expect(world.branches(repo)).not.toContain(rendered('uat'))
  })

  it('uat takes it from test, again straight to its branch', async () => {
    const res = await run('promote', { stage: 'uat', freight: 'latest' })
    expect(res.logs).not.toMatch(/error:/)
    expect(res.exitCode).toBe(0)
    expect(deployment(rendered('uat'), 'uat')).toContain(`image: ${image}:1.1.0`)
    expect(world.github!.pulls).toHaveLength(0)
    await syncFinishes('uat')
  })

  it('prod (openpr "true") opens a PR into its branch, and syncs once the PR is merged', async () => {
    const res = await run('promote', { stage: 'prod', freight: 'latest' })
    expect(res.logs).not.toMatch(/error:/)
    expect(res.exitCode).toBe(0)
    expect(lastPromotion(await world.state(repo), 'prod')!.phase).toBe('Running')
    expect(world.github!.pulls).toHaveLength(1)
    const pr = world.github!.pulls[0]
    expect(pr.base).toBe(rendered('prod'))
    const proposed = deployment(pr.head, 'prod')!
    expect(proposed).toContain(`image: ${image}:1.1.0`)
    expect(proposed).toContain('replicas: 4')
    expect(syncs('storefront-prod')).toHaveLength(0)

    world.github!.mergePull(pr.number)
    world.advance(1)
    const resumed = await run('reconcile')
    expect(resumed.exitCode).toBe(0)
    expect(syncs('storefront-prod')).toHaveLength(1)
    expect(deployment(rendered('prod'), 'prod')).toBe(proposed)
    await syncFinishes('prod')
    const state = await world.state(repo)
    expect(currentAlias(state, 'prod')).toBe(freightByImageTag(state, '1.1.0')!.alias)
  })

  it('every Argo CD request and response matched the API description', () => {
    argocd.assertNoViolations()
  })
})
