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
