import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import path from 'node:path'
import { spawnSync } from 'node:child_process'
import { makeRepo, tempDir } from './support/git.js'
import { startGitHttpServer, type GitHttpServer } from './support/git-http.js'
import { git } from '../src/git/git.js'

let server: GitHttpServer
let repoRoot: string

beforeAll(async () => {
  const r = makeRepo({ 'a.txt': 'a\n' })
  repoRoot = path.dirname(r.bare)
  server = await startGitHttpServer(repoRoot, { token: 'tok-secret-1234' })
})
afterAll(() => server.close())

describe('git over smart HTTP with token auth', () => {
  it('clones with the token sent as an extraheader, never in the URL', async () => {
    const dest = path.join(tempDir(), 'clone')
    await git(['clone', '-q', `${server.url}/remote.git`, dest], {
      credentials: { token: 'tok-secret-1234' }
    })
    expect(spawnSync('git', ['-C', dest, 'log', '--oneline']).stdout.toString()).toContain(
      'initial'
    )
    expect(
      spawnSync('git', ['-C', dest, 'remote', 'get-url', 'origin']).stdout.toString()
    ).not.toContain('tok-secret')
    expect(server.requests.some((r) => r.authorized)).toBe(true)
  })
  it('fails without the token and does not leak it in the error', async () => {
    await expect(
      git(['ls-remote', `${server.url}/remote.git`], { credentials: { token: 'wrong-token-xyz' } })
    ).rejects.toThrow(/Authentication failed|401|could not read/)
  })
})

describe('credentials next to a checkout that persisted its own', () => {
  it('sends only Waybill’s Authorization header (the persisted one is reset)', async () => {
    const dest = path.join(tempDir(), 'work')
    await git(['clone', '-q', `${server.url}/remote.git`, dest], {
      credentials: { token: 'tok-secret-1234' }
    })
    // What actions/checkout leaves in .git/config: a header for the same URL, here a stale token.
    const stale = Buffer.from('x-access-token:stale-token-0000').toString('base64')
    spawnSync('git', [
      '-C',
      dest,
      'config',
      `http.${server.url}/.extraheader`,
      `AUTHORIZATION: basic ${stale}`
    ])
    const before = server.requests.length
    await git(['fetch', '-q', 'origin'], {
      cwd: dest,
      credentials: { token: 'tok-secret-1234', urlPrefix: `${server.url}/` }
    })
    expect(server.requests.slice(before).every((r) => r.authorized)).toBe(true)
  })
})
