/**
 * GHCR refusing GITHUB_TOKEN: the error names GitHub's package access settings. ghcr.io is
 * reached through a local HTTP proxy that answers as GHCR does for a package the token may not
 * read (401 with a Bearer challenge, then 403 from the token endpoint's registry).
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { RegistryClient } from '../../src/oci/client.js'
import { defaultServices } from '../../src/runtime/services.js'
import { MemoryLogger } from '../../src/util/logger.js'

let proxy: http.Server
const saved = { ...process.env }
beforeAll(async () => {
  proxy = http.createServer((req, res) => {
    // An absolute-form request line: this is an HTTP proxy for http://ghcr.io/…
    if (!String(req.url).startsWith('http://ghcr.io/')) {
      res.writeHead(502)
      res.end()
      return
    }
    res.writeHead(403, { 'content-type': 'application/json' })
    res.end(
      JSON.stringify({ errors: [{ code: 'DENIED', message: 'permission_denied: read_package' }] })
    )
  })
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r))
  process.env.HTTP_PROXY = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`
  delete process.env.NO_PROXY
  delete process.env.no_proxy
})
afterAll(async () => {
  process.env = saved
  await new Promise<void>((r) => proxy.close(() => r()))
})

describe('GHCR denies GITHUB_TOKEN', () => {
  test('names packages: read and Manage Actions access', async () => {
    const services = defaultServices({ GITHUB_TOKEN: 'ghs_workflowtoken' })
    services.insecureRegistries = ['ghcr.io']
    const client = new RegistryClient('ghcr.io', {
      services,
      logger: new MemoryLogger(),
      retries: 0
    })
    await expect(client.listTags('acme/private-app')).rejects.toMatchObject({
      message: expect.stringContaining('registry ghcr.io denied access (HTTP 403)'),
      hint: expect.stringContaining('Manage Actions access')
    })
  })

  test('other credentials keep the generic hint', async () => {
    const services = defaultServices({})
    services.insecureRegistries = ['ghcr.io']
    services.registryCredentials['ghcr.io'] = { username: 'someone', password: 'pat' }
    const client = new RegistryClient('ghcr.io', {
      services,
      logger: new MemoryLogger(),
      retries: 0
    })
    await expect(client.listTags('acme/private-app')).rejects.toMatchObject({
      hint: expect.stringContaining('check registry-credentials for ghcr.io')
    })
  })
})
