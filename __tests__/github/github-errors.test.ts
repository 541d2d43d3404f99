/**
 * What a user sees when GitHub says no: real Octokit errors from a local server answering as
 * GitHub does (status, message, x-accepted-github-permissions), and from a closed port.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { githubClient, githubError } from '../../src/integrations/github.js'
import { defaultServices } from '../../src/runtime/services.js'
import { MemoryLogger } from '../../src/util/logger.js'

let server: http.Server
let url = ''
const answers: Record<string, { status: number; body: object; headers?: Record<string, string> }> =
  {
    '/repos/acme/gitops/pulls': {
      status: 403,
      body: { message: 'GitHub Actions is not permitted to create or approve pull requests.' }
    },
    '/repos/acme/gitops/deployments': {
      status: 403,
      body: { message: 'Resource not accessible by integration' },
      headers: { 'x-accepted-github-permissions': 'deployments=write' }
    }
  }

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const a = answers[(req.url ?? '').split('?')[0]] ?? {
      status: 404,
      body: { message: 'Not Found' }
    }
    res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers })
    res.end(JSON.stringify(a.body))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => new Promise<void>((r) => server.close(() => r())))

function client(apiUrl: string) {
  const services = defaultServices({})
  services.github.token = 'ghs_test'
  services.github.apiUrl = apiUrl
  return githubClient(services, new MemoryLogger())
}
const repo = { owner: 'acme', repo: 'gitops' }
const where = {
  ...repo,
  host: '127.0.0.1',
  apiUrl: 'http://127.0.0.1',
  serverUrl: 'http://127.0.0.1'
}

async function errorOf(p: Promise<unknown>): Promise<unknown> {
  try {
    await p
  } catch (e) {
    return e
  }
  throw new Error('expected a failure')
}

describe('GitHub errors name the cause and the fix', () => {
  test('PR creation refused for GITHUB_TOKEN names the repository setting', async () => {
    const err = await errorOf(
      client(url).rest.pulls.create({ ...repo, head: 'a', base: 'b', title: 't' })
    )
    const e = githubError(err, 'opening a pull request a → b', where)
    expect(e.hint).toContain('Allow GitHub Actions to create and approve pull requests')
  })

  test("a missing permission is named from GitHub's x-accepted-github-permissions header", async () => {
    const err = await errorOf(client(url).rest.repos.createDeployment({ ...repo, ref: 'main' }))
    const e = githubError(err, 'recording a deployment', where)
    expect(e.message).toContain('HTTP 403')
    expect(e.hint).toContain('deployments=write')
  })

  test('a refused connection is a connection error, not "HTTP 500"', async () => {
    const closed = http.createServer()
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r))
    const port = (closed.address() as AddressInfo).port
    await new Promise<void>((r) => closed.close(() => r()))
    const err = await errorOf(
      client(`http://127.0.0.1:${port}`).rest.repos.get({ ...repo, request: { retries: 0 } })
    )
    const e = githubError(err, 'reading the repository', where)
    expect(e.message).toContain('cannot connect to the GitHub API (ECONNREFUSED)')
    expect(e.message).not.toContain('HTTP 500')
    expect(e.hint).toContain('github-api-url')
  })
})
