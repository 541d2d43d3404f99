import { afterAll, describe, expect, it } from '@jest/globals'
import fs from 'node:fs'
import path from 'node:path'
import { execFileSync } from 'node:child_process'
import fc from 'fast-check'
import { discoverCharts } from '../../src/discovery/chart.js'
import { discoverCommits, GitCloneCache, parseGitUrl } from '../../src/discovery/git/index.js'
import { discoverImages } from '../../src/discovery/image/index.js'
import {
  GitSubscriptionSchema,
  ChartSubscriptionSchema,
  ImageSubscriptionSchema
} from '../../src/config/schema.js'
import { checkCommitId, checkRefName, refNameProblem } from '../../src/git/ref-names.js'
import { defaultServices } from '../../src/runtime/services.js'
import { MemoryLogger } from '../../src/util/logger.js'
import { makeRepo, tempDir } from '../support/git.js'

/**
 * Issue 12, item 6 and the low item on credentials in URLs: a value that starts with `-` reached
 * git as an option (`--upload-pack=…` runs a program); refs, commit IDs and URLs are checked by
 * their real grammar where they enter, and `--end-of-options` / `--` precede positionals.
 */

const services = defaultServices({})
const caches: GitCloneCache[] = []
afterAll(async () => {
  for (const c of caches) await c.dispose()
})

function evilProgram(): { script: string; marker: string } {
  const dir = tempDir('waybill-evil-')
  const marker = path.join(dir, 'ran')
  const script = path.join(dir, 'evil.sh')
  fs.writeFileSync(script, `#!/bin/sh\ntouch '${marker}'\nexit 1\n`, { mode: 0o755 })
  return { script, marker }
}

describe('git positionals cannot become options', () => {
  it('a fetch refspec of --upload-pack=… is a (bad) refspec, never a program to run', async () => {
    const repo = makeRepo()
    const { script, marker } = evilProgram()
    const cache = new GitCloneCache({ workspace: '', network: { retries: 0 } })
    caches.push(cache)
    await expect(
      cache.ensure({ url: repo.url }, [`--upload-pack=${script}`], new Map([['refs/x', 'y']]))
    ).rejects.toThrow()
    expect(fs.existsSync(marker)).toBe(false)
  })

  it('a subscription branch that is not a valid ref name is refused before git runs', async () => {
    const repo = makeRepo()
    const { script, marker } = evilProgram()
    const cache = new GitCloneCache({ workspace: '', network: { retries: 0 } })
    caches.push(cache)
    for (const branch of [`--upload-pack=${script}`, 'a..b', 'x.lock', 'a b', 'a@{1}']) {
      await expect(
        discoverCommits(
          { repoURL: repo.url, branch },
          { services, logger: new MemoryLogger(), cache, field: 'spec.subscriptions[0].git' }
        )
      ).rejects.toThrow(/spec\.subscriptions\[0\]\.git\.branch: invalid branch name/)
    }
    expect(cache.stats.lsRemote).toBe(0)
    expect(fs.existsSync(marker)).toBe(false)
  })
})

describe('ref names follow git check-ref-format', () => {
  const gitAccepts = (name: string) => {
    try {
      execFileSync('git', ['check-ref-format', '--branch', name], { stdio: 'ignore' })
      return true
    } catch {
      return false
    }
  }

  it('everything Waybill accepts, git accepts (and a leading - is refused on top)', () => {
    fc.assert(
      fc.property(
        fc
          .array(fc.constantFrom('a', 'Z', '0', '.', '/', '-', '@', '{', ':', '~', ' ', 'lock'), {
            minLength: 1,
            maxLength: 8
          })
          .map((p) => p.join('')),
        (name) => {
          if (!refNameProblem(name)) expect(gitAccepts(name)).toBe(true)
        }
      ),
      { numRuns: 150 }
    )
    for (const ok of ['main', 'release/1.x', 'feat/a-b_c', 'v1.2.3'])
      expect(refNameProblem(ok)).toBe(undefined)
    expect(() => checkRefName('-x', 'f')).toThrow(
      /f: invalid branch name '-x': must not start with '-'/
    )
  })

  it('commit IDs are 4 to 64 hexadecimal digits', () => {
    expect(checkCommitId('abc1', 'c')).toBe('abc1')
    expect(checkCommitId('a'.repeat(64), 'c')).toBe('a'.repeat(64))
    for (const bad of ['--upload-pack=x', 'abc', 'g123', 'a'.repeat(65), 'HEAD'])
      expect(() => checkCommitId(bad, 'checkout.commit')).toThrow(
        /checkout\.commit: invalid commit ID/
      )
  })
})

describe('credentials embedded in repository URLs are refused without being echoed', () => {
  const PASSWORD = 'S3cretPassw0rd'
  const check = (fn: () => unknown) => {
    let message = ''
    try {
      fn()
    } catch (e) {
      message = (e as Error).message
    }
    expect(message).toMatch(/embeds credentials/)
    expect(message).toMatch(/inputs/)
    expect(message).not.toContain(PASSWORD)
  }

  it('by Git, chart and image discovery', async () => {
    check(() => parseGitUrl(`https://bot:${PASSWORD}@github.com/acme/app.git`))
    check(() => parseGitUrl(`https://${PASSWORD}@github.com/acme/app.git`))
    check(() => parseGitUrl(`ssh://git:${PASSWORD}@github.com/acme/app.git`))
    expect(parseGitUrl('ssh://git@github.com/acme/app.git').kind).toBe('ssh')
    expect(parseGitUrl('git@github.com:acme/app.git').kind).toBe('scp')
    const opts = { services, logger: new MemoryLogger(), cache: {} }
    const rejected = async (p: Promise<unknown>) => {
      const e = await p.then(
        () => undefined,
        (err: Error) => err
      )
      check(() => {
        throw e ?? new Error('expected a rejection')
      })
    }
    await rejected(
      discoverCharts({ repoURL: `https://u:${PASSWORD}@charts.example/`, name: 'app' }, opts)
    )
    await rejected(discoverCharts({ repoURL: `oci://u:${PASSWORD}@ghcr.io/acme/app` }, opts))
    await rejected(discoverImages({ repoURL: `u:${PASSWORD}@ghcr.io/acme/app` }, opts))
  })

  it('when the config is validated', () => {
    for (const [schema, repoURL] of [
      [GitSubscriptionSchema, `https://bot:${PASSWORD}@github.com/acme/app.git`],
      [ChartSubscriptionSchema, `https://bot:${PASSWORD}@charts.example/`],
      [ImageSubscriptionSchema, `bot:${PASSWORD}@ghcr.io/acme/app`]
    ] as const) {
      const r = schema.safeParse({
        repoURL,
        name: schema === ChartSubscriptionSchema ? 'x' : undefined
      })
      expect(r.success).toBe(false)
      const text = JSON.stringify(r.error?.issues)
      expect(text).toMatch(/embeds credentials/)
      expect(text).not.toContain(PASSWORD)
    }
  })
})
