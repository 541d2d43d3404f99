import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals'
import { argocdSwaggerAvailable, startArgoCDFake, type ArgoCDFake } from './support/argocd-fake.js'
import { ArgoCDClient, ArgoCDError, labelSelectorString } from '../src/integrations/argocd.js'
import { errorMessage } from '../src/util/errors.js'

const d = argocdSwaggerAvailable ? describe : describe.skip
const TOKEN = 'client-test-token-77aa'

test('label selectors in Kubernetes string form', () => {
  expect(
    labelSelectorString({
      matchLabels: { app: 'shop', tier: 'web' },
      matchExpressions: [
        { key: 'env', operator: 'In', values: ['test', 'prod'] },
        { key: 'x', operator: 'NotIn', values: ['1'] },
        { key: 'keep', operator: 'Exists' },
        { key: 'legacy', operator: 'DoesNotExist' }
      ]
    })
  ).toBe('app=shop,tier=web,env in (prod,test),x notin (1),keep,!legacy')
})

test('a server without scheme means https; fromServices explains a missing server', () => {
  expect(new ArgoCDClient({ server: 'argocd.example.com/' }).server).toBe(
    'https://argocd.example.com'
  )
  expect(() => ArgoCDClient.fromServices({ argocd: undefined } as never)).toThrow(
    /Argo CD is not configured/
  )
})

d('ArgoCDClient against the fake', () => {
  let fake: ArgoCDFake
  let client: ArgoCDClient
  beforeAll(async () => {
    fake = await startArgoCDFake({ token: TOKEN })
    client = new ArgoCDClient({ server: fake.url, token: TOKEN, backoffMs: 5 })
  })
  afterAll(async () => {
    await fake?.close()
  })
  afterEach(() => {
    fake.assertNoViolations()
    fake.reset()
  })

  test('get, list, patch, sync and terminate conform to swagger.json', async () => {
    fake.addApplication({ name: 'a', labels: { team: 'x' } })
    expect((await client.getApplication('a', 'argocd', { refresh: 'hard' })).metadata?.name).toBe(
      'a'
    )
    expect(
      (await client.listApplications({ selector: { matchLabels: { team: 'x' } } })).length
    ).toBe(1)
    await client.patchApplication('a', 'argocd', { spec: { source: { targetRevision: 'v2' } } })
    expect(fake.application('a').spec?.source?.targetRevision).toBe('v2')
    const synced = await client.syncApplication('a', 'argocd', {
      syncOptions: ['ServerSideApply=true'],
      infos: [{ name: 'k', value: 'v' }],
      prune: true
    })
    expect(synced.status?.operationState?.phase).toBe('Running')
    await client.terminateOperation('a', 'argocd')
    expect(fake.application('a').status?.operationState?.phase).toBe('Terminating')
  })

  test('the fake records contract violations (so tests fail on them)', async () => {
    const post = (p: string, body: unknown) =>
      fetch(fake.url + p, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify(body)
      })
    fake.addApplication({ name: 'v' })
    await post('/api/v1/applications/v/sync', { name: 'v', revisions: 'abc', bogus: true })
    await fetch(fake.url + '/api/v1/applications/v?refresh=soft&frobnicate=1', {
      headers: { authorization: `Bearer ${TOKEN}` }
    })
    await fetch(fake.url + '/api/v9/nothing', { headers: { authorization: `Bearer ${TOKEN}` } })
    const text = fake.violations.join('\n')
    expect(text).toMatch(/ApplicationService_Sync request body: .*\/revisions must be array/)
    expect(text).toMatch(/additional properties 'bogus'/)
    expect(text).toMatch(/undeclared query parameter 'frobnicate'/)
    expect(text).toMatch(/refresh must be 'hard' or 'normal'/)
    expect(text).toMatch(/GET \/api\/v9\/nothing is not in Argo CD's API/)
    expect(() => fake.assertNoViolations()).toThrow(/contract violations/)

    // A response the real API could not send is a violation too.
    fake.addApplication({ name: 'bad', source: { repoURL: 'r', notAField: 1 } })
    await client.getApplication('bad', 'argocd')
    expect(fake.violations.join('\n')).toMatch(/response to GET .*notAField/)
    fake.violations.length = 0
  })

  test('retries 5xx and 429 (honouring Retry-After), but not a failed POST after a 500', async () => {
    fake.addApplication({ name: 'r' })
    fake.failNext(503, 2)
    await client.getApplication('r', 'argocd')
    expect(fake.requests.length).toBe(3)
    fake.requests.length = 0
    fake.failNext(429, 1, '0')
    await client.listApplications()
    expect(fake.requests.length).toBe(2)
    fake.requests.length = 0
    fake.failNext(500, 1)
    await expect(client.syncApplication('r', 'argocd')).rejects.toThrow(/HTTP 500/)
    expect(fake.requests.length).toBe(1)
    fake.failNext(502, 10)
    await expect(client.getApplication('r', 'argocd')).rejects.toThrow(/failed with HTTP 502/)
  })

  test('401 and 403 say to check argocd-token; 404 names the Application', async () => {
    const bad = new ArgoCDClient({ server: fake.url, token: 'not-the-token-1234' })
    const e401 = await bad.getApplication('x', 'argocd').catch((e: unknown) => e)
    expect(e401).toBeInstanceOf(ArgoCDError)
    expect(errorMessage(e401)).toMatch(
      /rejected the credentials \(401\)[\s\S]*hint: check argocd-token/
    )
    fake.failNext(403)
    const e403 = await client.getApplication('x', 'team').catch((e: unknown) => e)
    expect(errorMessage(e403)).toMatch(
      /denied GET on Application team\/x \(403\)[\s\S]*check argocd-token/
    )
    await expect(client.getApplication('missing', 'team')).rejects.toThrow(
      `Application team/missing not found in Argo CD at ${fake.url}`
    )
  })

  test('a slow server times out with a message naming it', async () => {
    fake.addApplication({ name: 'slow' })
    fake.delayMs = 400
    const quick = new ArgoCDClient({ server: fake.url, token: TOKEN, timeoutMs: 100, attempts: 1 })
    await expect(quick.getApplication('slow', 'argocd')).rejects.toThrow(
      `Argo CD at ${fake.url} did not answer GET /api/v1/applications/slow within 100ms`
    )
    fake.delayMs = 0
  })
})

test('unreachable server: "cannot reach Argo CD at <server>"', async () => {
  const srv = http.createServer()
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  const port = (srv.address() as AddressInfo).port
  await new Promise<void>((r) => srv.close(() => r()))
  const c = new ArgoCDClient({ server: `http://127.0.0.1:${port}`, attempts: 2, backoffMs: 1 })
  const err = await c.getApplication('a').catch((e: unknown) => e)
  expect(errorMessage(err)).toMatch(
    new RegExp(
      `cannot reach Argo CD at http://127.0.0.1:${port}: ECONNREFUSED[\\s\\S]*self-hosted runner`
    )
  )
})

test('the token never appears in errors, even when the server echoes it', async () => {
  const token = 'echo-me-secret-9f8e7d'
  const srv = http.createServer((req, res) => {
    res.writeHead(500, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ code: 13, message: `bad header ${req.headers.authorization}` }))
  })
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  try {
    const c = new ArgoCDClient({
      server: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`,
      token,
      attempts: 1
    })
    const err = await c.getApplication('a').catch((e: unknown) => e)
    expect(errorMessage(err)).toContain('bad header Bearer ***')
    expect(errorMessage(err)).not.toContain(token)
  } finally {
    await new Promise<void>((r) => srv.close(() => r()))
  }
})

describe('TLS', () => {
  let dir: string
  let srv: https.Server
  let url: string
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'waybill-argocd-tls-'))
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-keyout',
        path.join(dir, 'key.pem'),
        '-out',
        path.join(dir, 'cert.pem')
      ],
      { stdio: 'ignore' }
    )
    srv = https.createServer(
      {
        key: readFileSync(path.join(dir, 'key.pem')),
        cert: readFileSync(path.join(dir, 'cert.pem'))
      },
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ metadata: { name: 'tls' } }))
      }
    )
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
    url = `https://127.0.0.1:${(srv.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    await new Promise<void>((r) => srv.close(() => r()))
    rmSync(dir, { recursive: true, force: true })
  })

  test('a self-signed certificate is refused unless argocd-insecure', async () => {
    const strict = new ArgoCDClient({ server: url, attempts: 1 })
    const err = await strict.getApplication('tls').catch((e: unknown) => e)
    expect(errorMessage(err)).toMatch(
      /cannot reach Argo CD at https:\/\/127.0.0.1:\d+: .*SELF_SIGNED[\s\S]*argocd-insecure/
    )
    const insecure = new ArgoCDClient({ server: url, insecure: true, attempts: 1 })
    expect((await insecure.getApplication('tls')).metadata?.name).toBe('tls')
  })
})
