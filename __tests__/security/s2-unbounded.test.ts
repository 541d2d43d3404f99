import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { discoverCharts } from '../../src/discovery/chart.js'
import { GitCloneCache } from '../../src/discovery/git/index.js'
import { RegistryClient } from '../../src/oci/client.js'
import { defaultServices } from '../../src/runtime/services.js'
import { MemoryLogger } from '../../src/util/logger.js'
import { gitIn, makeRepo } from '../support/git.js'

/**
 * Issue 12, item 9: a registry repeating its next-page link cost 255 s, 4.3 GB and 10 M tags, and
 * the result was silently cut at 10,000 pages. Every loop over remote data is bounded, and
 * hitting a bound is an error naming the server and the bound.
 */

const services = defaultServices({})
let server: http.Server
let host = ''
let served = 0

beforeAll(async () => {
  server = http.createServer((req, res) => {
    served++
    const url = new URL(req.url ?? '/', 'http://x')
    const json = (body: unknown, link?: string) => {
      res.writeHead(200, { 'content-type': 'application/json', ...(link ? { link } : {}) })
      res.end(JSON.stringify(body))
    }
    if (url.pathname === '/v2/') return json({})
    // Always the same page and the same next link: pagination in a loop.
    if (url.pathname === '/v2/loop/tags/list')
      return json({ name: 'loop', tags: ['a', 'b'] }, '</v2/loop/tags/list?last=b>; rel="next"')
    // A fresh link every time, the same tags every time.
    if (url.pathname === '/v2/same/tags/list')
      return json(
        { name: 'same', tags: ['a', 'b'] },
        `</v2/same/tags/list?last=b&x=${served}>; rel="next"`
      )
    // Endless new tags.
    if (url.pathname === '/v2/endless/tags/list') {
      const page = Number(url.searchParams.get('page') ?? 0)
      const tags = Array.from({ length: 10 }, (_, i) => `t${page}-${i}`)
      return json({ name: 'endless', tags }, `</v2/endless/tags/list?page=${page + 1}>; rel="next"`)
    }
    if (url.pathname === '/charts/index.yaml') {
      res.writeHead(200, { 'content-type': 'application/x-yaml' })
      res.write('apiVersion: v1\nentries:\n  app:\n')
      for (let i = 0; i < 5000; i++) res.write(`  - version: 1.0.${i}\n`)
      return res.end()
    }
    res.writeHead(404)
    res.end()
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => new Promise<void>((r) => server.close(() => r())))

const client = (extra: Partial<ConstructorParameters<typeof RegistryClient>[1]> = {}) =>
  new RegistryClient(host, { services, logger: new MemoryLogger(), retries: 0, ...extra })

describe('tag listing is bounded', () => {
  it('a repeated next-page link is an error naming the registry', async () => {
    const before = served
    await expect(client().listTags('loop')).rejects.toThrow(
      new RegExp(
        `registry ${host}: listing tags of loop stopped after 2 page\\(s\\).*repeated a next-page link`
      )
    )
    expect(served - before).toBeLessThanOrEqual(3)
  })

  it('a page that brings nothing new but points on is an error', async () => {
    await expect(client().listTags('same')).rejects.toThrow(/repeated tags already listed/)
  })

  it('page and tag caps are errors that name the cap, never a silent cut', async () => {
    await expect(client({ maxTagPages: 5 }).listTags('endless')).rejects.toThrow(
      /stopped after 5 page\(s\) and 50 tag\(s\): more than 5 pages \(Waybill's cap\)/
    )
    await expect(client({ maxTags: 25 }).listTags('endless')).rejects.toThrow(
      /more than 25 tags \(Waybill's cap\)/
    )
  })
})

describe('other remote reads are bounded', () => {
  it("a chart repository's index.yaml over the cap is an error naming the repository", async () => {
    await expect(
      discoverCharts(
        { repoURL: `http://${host}/charts`, name: 'app' },
        { services, logger: new MemoryLogger(), maxIndexBytes: 10_000, client: { retries: 0 } }
      )
    ).rejects.toThrow(
      new RegExp(
        `chart repository ${host}: .*index\\.yaml is larger than 10000 bytes, Waybill's cap`
      )
    )
  })

  it('git ls-remote output over the cap is an error naming the host and the cap', async () => {
    const repo = makeRepo()
    const head = gitIn(repo.bare, 'rev-parse', 'main')
    const refs = Array.from({ length: 300 }, (_, i) => `create refs/tags/release-${i} ${head}\n`)
    execFileSync('git', ['update-ref', '--stdin'], { cwd: repo.bare, input: refs.join('') })
    const cache = new GitCloneCache({
      workspace: '',
      network: { retries: 0, lsRemoteMaxBytes: 4096 }
    })
    try {
      await expect(cache.lsRemote({ url: repo.url }, ['refs/tags/*'])).rejects.toThrow(
        /git ls-remote file:\/\/.* printed more than 4096 bytes, Waybill's cap on it/
      )
      const roomy = new GitCloneCache({ workspace: '' })
      const { refs } = await roomy.lsRemote({ url: repo.url }, ['refs/tags/*'])
      expect(refs.size).toBe(300)
      await roomy.dispose()
    } finally {
      await cache.dispose()
    }
  })
})
