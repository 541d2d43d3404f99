import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  BodyTooLargeError,
  closeDispatchers,
  fetchWithRetry,
  httpFetch,
  HttpNetworkError,
  readBytes,
  readText
} from '../../src/http/index.js'

/** A local server with one behaviour per path, and a forward proxy that answers for any host. */
let server: http.Server
let base = ''
let proxy: http.Server
let proxyUrl = ''
const hits = new Map<string, number>()
const proxied: string[] = []

function listen(s: http.Server): Promise<string> {
  return new Promise((resolve) =>
    s.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(s.address() as AddressInfo).port}`))
  )
}

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const path = req.url ?? '/'
    const n = (hits.get(path) ?? 0) + 1
    hits.set(path, n)
    if (path === '/slow') {
      setTimeout(() => res.end('late'), 1000).unref()
    } else if (path === '/rate-limited') {
      if (n === 1) res.writeHead(429, { 'retry-after': '1' }).end('slow down')
      else res.end('ok')
    } else if (path === '/rate-limited-long') {
      res.writeHead(429, { 'retry-after': '3600' }).end('come back in an hour')
    } else if (path === '/unavailable') {
      res.writeHead(503).end('down')
    } else if (path === '/big-declared') {
      res.writeHead(200, { 'content-length': String(2 * 1024 * 1024) })
      res.end(Buffer.alloc(2 * 1024 * 1024, 'x'))
    } else if (path === '/big-chunked') {
      for (let i = 0; i < 32; i++) res.write(Buffer.alloc(64 * 1024, 'y'))
      res.end()
    } else {
      res.end(`direct ${path}`)
    }
  })
  base = await listen(server)
  proxy = http.createServer((req, res) => {
    proxied.push(req.url ?? '')
    res.end(`via proxy ${req.url}`)
  })
  proxyUrl = await listen(proxy)
})

afterAll(async () => {
  await closeDispatchers()
  await new Promise((r) => server.close(r))
  await new Promise((r) => proxy.close(r))
})

describe('timeouts', () => {
  it('a server that does not answer in time fails with a timeout naming the deadline', async () => {
    const err = await httpFetch(`${base}/slow`, {}, { timeoutMs: 150 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(HttpNetworkError)
    expect(err).toMatchObject({ timedOut: true, code: 'ETIMEDOUT' })
    expect((err as Error).message).toMatch(/no answer within 150ms \(127\.0\.0\.1:\d+\)/)
  })

  it("the caller's abort is rethrown as is, not reported as a network error", async () => {
    const ctl = new AbortController()
    setTimeout(() => ctl.abort(new Error('user cancelled')), 50)
    await expect(
      httpFetch(`${base}/slow`, {}, { timeoutMs: 5000, signal: ctl.signal })
    ).rejects.toThrow('user cancelled')
  })
})

describe('retries', () => {
  it('waits for Retry-After on 429, then succeeds', async () => {
    const started = Date.now()
    const res = await fetchWithRetry(`${base}/rate-limited`, {}, { retryBaseMs: 1 })
    expect(res.status).toBe(200)
    expect(await res.text()).toBe('ok')
    expect(hits.get('/rate-limited')).toBe(2)
    expect(Date.now() - started).toBeGreaterThanOrEqual(950)
  })

  it('does not wait for a Retry-After beyond the budget: the 429 is returned at once', async () => {
    const started = Date.now()
    const res = await fetchWithRetry(`${base}/rate-limited-long`, {}, { maxRetryAfterMs: 5000 })
    expect(res.status).toBe(429)
    expect(hits.get('/rate-limited-long')).toBe(1)
    expect(Date.now() - started).toBeLessThan(1000)
  })

  it('retries 5xx with backoff and returns the last response', async () => {
    const retries: number[] = []
    const res = await fetchWithRetry(
      `${base}/unavailable`,
      {},
      { retries: 2, retryBaseMs: 5, onRetry: (e) => retries.push(e.status ?? 0) }
    )
    expect(res.status).toBe(503)
    expect(hits.get('/unavailable')).toBe(3)
    expect(retries).toEqual([503, 503])
  })

  it('does not retry a refused connection', async () => {
    const closed = http.createServer()
    const url = await listen(closed)
    await new Promise((r) => closed.close(r))
    const retries: unknown[] = []
    const err = await fetchWithRetry(
      url,
      {},
      { retries: 3, retryBaseMs: 5, onRetry: (e) => retries.push(e) }
    ).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'ECONNREFUSED', timedOut: false })
    expect(retries).toEqual([])
  })
})

describe('proxy from the environment', () => {
  it('sends http:// requests through HTTP_PROXY as absolute URIs', async () => {
    const env = { HTTP_PROXY: proxyUrl }
    const res = await httpFetch('http://registry.example.invalid/v2/', {}, { env })
    expect(await res.text()).toBe('via proxy http://registry.example.invalid/v2/')
    expect(proxied).toContain('http://registry.example.invalid/v2/')
  })

  it('an explicit proxy replaces the environment', async () => {
    const res = await httpFetch('http://charts.example.invalid/index.yaml', {}, { proxy: proxyUrl })
    expect(await res.text()).toBe('via proxy http://charts.example.invalid/index.yaml')
  })

  it('skips the proxy for NO_PROXY hosts and for loopback', async () => {
    const count = proxied.length
    const err = await httpFetch(
      'http://registry.example.invalid/v2/',
      {},
      { env: { http_proxy: proxyUrl, NO_PROXY: '.example.invalid' }, timeoutMs: 5000 }
    ).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(HttpNetworkError)
    const res = await httpFetch(`${base}/here`, {}, { env: { HTTP_PROXY: proxyUrl } })
    expect(await res.text()).toBe('direct /here')
    expect(proxied.length).toBe(count)
  })
})

describe('bounded body reads', () => {
  it('refuses a body whose Content-Length is over the bound', async () => {
    const res = await httpFetch(`${base}/big-declared`)
    await expect(readBytes(res, 1024 * 1024)).rejects.toThrow(BodyTooLargeError)
  })

  it('stops reading a chunked body at the bound', async () => {
    const res = await httpFetch(`${base}/big-chunked`)
    const err = await readBytes(res, 100 * 1024).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(BodyTooLargeError)
    expect((err as Error).message).toMatch(
      /response from 127\.0\.0\.1:\d+ is larger than 102400 bytes/
    )
  })

  it('reads a body within the bound', async () => {
    const res = await httpFetch(`${base}/big-chunked`)
    expect((await readText(res, 4 * 1024 * 1024)).length).toBe(32 * 64 * 1024)
  })
})
