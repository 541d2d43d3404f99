// `waybill init`'s "next steps" work from where it was run: paths relative to the current
// directory, the files init really wrote, the branch to push, the environment and the ruleset.
import { afterEach, describe, expect, it } from '@jest/globals'
import path from 'node:path'
import { initCommand } from '../../src/commands/init.js'
import type { CommandContext } from '../../src/runtime/context.js'
import { defaultServices } from '../../src/runtime/services.js'
import { MemoryLogger } from '../../src/util/logger.js'
import { gitIn, makeRepo } from '../support/git.js'

const startDir = process.cwd()
afterEach(() => process.chdir(startDir))

async function init(repoDir: string, stateBranch = 'waybill/state') {
  const printed: string[] = []
  const ctx: CommandContext = {
    repoDir,
    configDir: '.waybill',
    stateBranch,
    remote: 'origin',
    json: false,
    logger: new MemoryLogger(),
    services: defaultServices({}),
    waitMs: 0,
    print: (t) => printed.push(t),
    now: () => new Date('2025-06-01T00:00:00Z')
  }
  await initCommand.run(ctx, {
    image: 'ghcr.io/acme/shop',
    stages: 'test,uat,prod',
    branch: 'trunk'
  })
  return printed.join('\n')
}

describe('waybill init: next steps', () => {
  it('from the parent folder: commands take the repository path; real file names; branch, environment, ruleset', async () => {
    const repo = makeRepo()
    gitIn(repo.work, 'remote', 'set-url', 'origin', 'https://github.com/acme/shop-config.git')
    process.chdir(path.dirname(repo.work))
    const out = await init(repo.work, 'ops/state')
    expect(out).toContain('1. Check the config: waybill validate --repo-dir work')
    expect(out).toContain(
      'git -C work add -- .waybill .github/workflows/waybill.yml .github/workflows/waybill-promote.yml'
    )
    expect(out).toContain('git -C work push origin HEAD:trunk')
    expect(out).toContain('2. Commit and push what init wrote to trunk:')
    expect(out).toContain('Create the environment prod with required reviewers')
    expect(out).toContain('Settings → Environments → New environment → prod')
    expect(out).toMatch(/target ops\/state;/)
    expect(out).not.toContain('waybill/state')
  })

  it('from inside the repository: plain commands; nothing to commit on a re-run', async () => {
    const repo = makeRepo()
    gitIn(repo.work, 'remote', 'set-url', 'origin', 'https://github.com/acme/shop-config.git')
    process.chdir(repo.work)
    const first = await init(repo.work)
    expect(first).toContain('1. Check the config: waybill validate\n')
    expect(first).toContain('git add -- .waybill .github/workflows/waybill.yml')
    const again = await init(repo.work)
    expect(again).toContain('2. Nothing new to commit')
  })
})
