// A Kargo 0.x config (__tests__/fixtures/eras/0.x), migrated by `waybill migrate --write`, then
// run for real: discovery on the real registry, promotion edits the overlay on real git.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import fs from 'node:fs'
import path from 'node:path'
import { World, freightByImageTag, lastPromotion, type Repo } from './harness.js'
import { gitIn } from '../support/git.js'

const FIXTURE = path.join(process.cwd(), '__tests__', 'fixtures', 'eras', '0.x')

function readTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name)
      if (e.isDirectory()) walk(p)
      else if (e.name !== 'README.md') out[path.relative(dir, p)] = fs.readFileSync(p, 'utf8')
    }
  }
  walk(dir)
  return out
}

describe('a migrated Kargo 0.x config promotes', () => {
  let world: World
  let repo: Repo
  const run = (name: string, args: Record<string, string | boolean> = {}) =>
    world.run(repo, name, args, { configDir: 'kargo' })

  beforeAll(async () => {
    world = await World.start({ registry: true })
    repo = world.repo('guestbook-gitops', readTree(FIXTURE))
  })
  afterAll(async () => {
    await world?.close()
  })

  it('fails validation as written, and says to run waybill migrate', async () => {
    const res = await run('validate')
    expect(res.exitCode).toBe(1)
    expect(res.logs).toContain('this is a Kargo 0.x config (promotionMechanisms, removed in 1.0)')
  })

  it('validates once migrated', async () => {
    const res = await run('migrate', { write: true })
    expect(res.exitCode).toBe(0)
    expect(res.logs).toContain('kargo: migrated 3 files; the result validates')
    gitIn(repo.work, 'add', '-A')
    gitIn(repo.work, 'commit', '-q', '-m', 'waybill migrate')
    gitIn(repo.work, 'push', '-q', 'origin', 'HEAD:main')
    expect((await run('validate')).exitCode).toBe(0)
  })

  it('discovers an image and promotes it into the test overlay on main', async () => {
    await world.pushImage('acme/guestbook', '1.2.0')
    expect((await run('discover')).exitCode).toBe(0)
    const freight = freightByImageTag(await world.state(repo), '1.2.0')!
    expect(freight).toBeDefined()
    const res = await run('promote', { stage: 'test', freight: freight.alias })
    expect(res.exitCode).toBe(0)
    expect(lastPromotion(await world.state(repo), 'test')!.phase).toBe('Succeeded')
    const kustomization = world.file(repo, 'main', 'stages/test/kustomization.yaml')!
    expect(kustomization).toContain(`${world.registry!.host}/acme/guestbook`)
    expect(kustomization).toContain('newTag: 1.2.0')
    // prod is untouched until it is promoted
    expect(world.file(repo, 'main', 'stages/prod/kustomization.yaml')).toContain('newTag: 0.9.0')
  })
})
