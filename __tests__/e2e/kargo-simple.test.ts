import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { World, currentAlias, freightByImageTag, lastPromotion, type Repo } from './harness.js'
import { sh } from '../support/git.js'
import { hasDockerRegistry, skipReason } from '../support/registry.js'

/**
 * Kargo's own kargo-simple example (read from ../shared at test time, never copied here), run
 * unchanged: its `kargo/` resources are Waybill's config folder, and its `promote` PromotionTask
 * clones the repository, runs kustomize-set-image on env/<stage>, commits and pushes to main
 * (prod: through a pull request). Only URLs are pointed at the local servers: the task's
 * repoURL var at the local Git server, ghcr.io/akuity at the loopback registry.
 */
const FIXTURE = path.join(
  process.cwd(),
  '..',
  'shared',
  'fixtures',
  'kargo-examples',
  'kargo-simple'
)
const present = fs.existsSync(path.join(FIXTURE, 'kargo', 'promotiontask.yaml'))
const d = present && hasDockerRegistry ? describe : describe.skip
if (!present) console.warn(`skipping kargo-simple: ${FIXTURE} is absent`)
else if (!hasDockerRegistry) console.warn(skipReason)

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

d('Kargo kargo-simple example, unchanged', () => {
  let world: World
  let repo: Repo
  let original: Record<string, string>
  let image: string
  const kargo = { configDir: 'kargo' }
  const onMain = (file: string) => world.file(repo, 'main', file)
  /** The kustomization as Kargo's kustomize-set-image leaves it: only newTag changes. */
  const expected = (stage: string, tag: string) =>
    world
      .rewrite({ f: original[`env/${stage}/kustomization.yaml`] })
      .f.replace('newTag: v0.0.1', `newTag: ${tag}`)
      .trimEnd()

  beforeAll(async () => {
    world = await World.start({ registry: true, github: true })
    world.urlMap.set('ghcr.io/akuity', `${world.registry!.host}/akuity`)
    original = readTree(FIXTURE)
    repo = world.repo('kargo-simple', original, 'akuity')
    image = `${world.registry!.host}/akuity/guestbook`
  })
  afterAll(async () => {
    world?.github?.assertNoViolations()
    await world?.close()
  })

  it('validates as shipped', async () => {
    const res = await world.run(repo, 'validate', {}, kargo)
    expect(res.exitCode).toBe(0)
  })

  it('the warehouse discovers the image; dev is promoted by hand and main gets the edit', async () => {
    await world.pushImage('akuity/guestbook', 'v0.0.2')
    const disc = await world.run(repo, 'discover', {}, kargo)
    expect(disc.exitCode).toBe(0)
    const state = await world.state(repo)
    const f = freightByImageTag(state, 'v0.0.2')!
    expect(f).toBeDefined()
    const before = sh('git', ['--git-dir', repo.bare, 'rev-parse', 'main'])
    const res = await world.run(repo, 'promote', { stage: 'dev', freight: f.alias }, kargo)
    expect(res.logs).not.toMatch(/error:/)
    expect(res.exitCode).toBe(0)
    expect(currentAlias(await world.state(repo), 'dev')).toBe(f.alias)
    // Exactly one commit on main, changing exactly env/dev/kustomization.yaml's newTag.
    expect(sh('git', ['--git-dir', repo.bare, 'rev-parse', 'main~1'])).toBe(before)
    const changed = sh('git', ['--git-dir', repo.bare, 'diff', '--name-only', 'main~1', 'main'])
    expect(changed).toBe('env/dev/kustomization.yaml')
    expect(onMain('env/dev/kustomization.yaml')).toBe(expected('dev', 'v0.0.2'))
    const msg = sh('git', ['--git-dir', repo.bare, 'log', '-1', '--format=%B', 'main'])
    expect(msg).toBe(`Updated ./src/env/dev to use new image\n\n- ${image}:v0.0.2`)
    // The other stages are untouched.
    expect(onMain('env/staging/kustomization.yaml')).toBe(expected('staging', 'v0.0.1'))
  })

  it('staging takes it from dev, again straight to main', async () => {
    const res = await world.run(repo, 'promote', { stage: 'staging', freight: 'latest' }, kargo)
    expect(res.exitCode).toBe(0)
    expect(onMain('env/staging/kustomization.yaml')).toBe(expected('staging', 'v0.0.2'))
    expect(onMain('env/prod/kustomization.yaml')).toBe(expected('prod', 'v0.0.1'))
    expect(world.github!.pulls).toHaveLength(0)
  })

  it('prod (openpr "true") opens a PR into main and finishes when it is merged', async () => {
    const res = await world.run(repo, 'promote', { stage: 'prod', freight: 'latest' }, kargo)
    expect(res.exitCode).toBe(0)
    let state = await world.state(repo)
    expect(lastPromotion(state, 'prod')!.phase).toBe('Running')
    expect(world.github!.pulls).toHaveLength(1)
    const pr = world.github!.pulls[0]
    expect(pr.base).toBe('main')
    expect(onMain('env/prod/kustomization.yaml')).toBe(expected('prod', 'v0.0.1'))
    expect(world.file(repo, pr.head, 'env/prod/kustomization.yaml')).toBe(
      expected('prod', 'v0.0.2')
    )
    world.github!.mergePull(pr.number)
    const resumed = await world.run(repo, 'reconcile', {}, kargo)
    expect(resumed.exitCode).toBe(0)
    state = await world.state(repo)
    expect(lastPromotion(state, 'prod')!.phase).toBe('Succeeded')
    expect(currentAlias(state, 'prod')).toBe(freightByImageTag(state, 'v0.0.2')!.alias)
    expect(onMain('env/prod/kustomization.yaml')).toBe(expected('prod', 'v0.0.2'))
  })
})
