import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import fs from 'node:fs'
import path from 'node:path'
import { World, currentAlias, type Repo } from './harness.js'
import { gitIn, sh } from '../support/git.js'
import type { StatusJson } from '../../src/commands/status.js'
import type { CommandArgs } from '../../src/runtime/context.js'

/**
 * Drift: a stage branch changed outside Waybill. `waybill status` compares each stage branch's
 * head with the commit the stage's last promotion left there (one ls-remote per repository) and
 * shows what changed and what to do, in the table, --json, the page and the job summary.
 */
describe('drift of stage branches (examples/config-updater, real git)', () => {
  let world: World
  let config: Repo
  const status = async (args: CommandArgs = {}) => {
    const res = await world.run(config, 'status', args)
    expect(res.exitCode).toBe(0)
    return { res, json: JSON.parse(res.outputs!.status) as StatusJson }
  }
  const stage = (s: StatusJson, name: string) => s.stages.find((x) => x.name === name)!

  beforeAll(async () => {
    world = await World.start()
    config = world.repo('guestbook-config', world.exampleFiles('config-updater'))
    expect((await world.run(config, 'reconcile')).exitCode).toBe(0)
  })
  afterAll(() => world?.close())

  it('no drift while the stage branches are what Waybill pushed', async () => {
    const { res, json } = await status()
    for (const s of json.stages) expect(s.drift).toEqual([])
    expect(res.logs).not.toMatch(/Drift/)
    expect(res.summary).not.toMatch(/Drift/)
  })

  it('a commit pushed to stage/uat by hand is drift: expected vs actual, and what to do', async () => {
    const recorded = sh('git', ['--git-dir', config.bare, 'rev-parse', 'stage/uat'])
    const hand = path.join(world.root, 'hand')
    sh('git', ['clone', '-q', '-b', 'stage/uat', config.bare, hand])
    fs.appendFileSync(path.join(hand, 'manifests.yaml'), '# hotfix\n')
    gitIn(hand, 'commit', '-q', '-am', 'hotfix by hand')
    gitIn(hand, 'push', '-q', 'origin', 'stage/uat')
    const actual = gitIn(hand, 'rev-parse', 'HEAD')

    const html = path.join(world.root, 'page.html')
    const { res, json } = await status({ html })
    expect(stage(json, 'test').drift).toEqual([])
    const [d] = stage(json, 'uat').drift
    expect(d).toMatchObject({ kind: 'branch', expected: recorded, actual })
    expect(d.target).toContain('stage/uat')
    expect(d.message).toContain(actual.slice(0, 12))
    expect(d.hint).toMatch(/promote/)
    expect(res.logs).toMatch(/Drift \(changed outside Waybill\)/)
    expect(res.summary).toMatch(/### :warning: Drift/)
    expect(res.summary).toContain(actual.slice(0, 12))
    const page = fs.readFileSync(html, 'utf8')
    expect(page).toContain('<h2 id="drift">Drift</h2>')
    expect(page).toContain(recorded.slice(0, 12))
  })

  it('promoting the stage again rewrites the branch and clears the drift', async () => {
    const state = await world.state(config)
    const alias = currentAlias(state, 'uat')!
    expect((await world.run(config, 'promote', { stage: 'uat', freight: alias })).exitCode).toBe(0)
    const { json } = await status()
    expect(stage(json, 'uat').drift).toEqual([])
  })

  it('a deleted stage branch is drift too', async () => {
    sh('git', ['--git-dir', config.bare, 'branch', '-D', 'stage/test'])
    const { json } = await status()
    expect(stage(json, 'test').drift).toEqual([
      expect.objectContaining({ kind: 'branch', actual: null })
    ])
  })
})
