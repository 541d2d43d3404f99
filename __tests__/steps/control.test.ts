import fs from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { httpStep } from '../../src/steps/control/http.js'
import { composeOutputStep } from '../../src/steps/control/compose-output.js'
import { failStep } from '../../src/steps/control/fail.js'
import { setFreightAliasStep } from '../../src/steps/control/set-freight-alias.js'
import { setMetadataStep } from '../../src/steps/control/set-metadata.js'
import { runPromotion } from '../../src/promotion/engine.js'
import { stepRegistry } from '../../src/steps/registry.js'
import type { StepContext, StepDefinition } from '../../src/steps/types.js'
import { CAPABILITIES, grantCapabilities, type Capability } from '../../src/steps/capabilities.js'
import { emptyFreightStatus, type Freight } from '../../src/freight/types.js'
import { emptyState, type Promotion } from '../../src/state/types.js'
import { defaultServices } from '../../src/runtime/services.js'
import { MemoryLogger } from '../../src/util/logger.js'

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'waybill-control-'))
let server: http.Server
let base = ''
const seen: Array<{
  method?: string
  url?: string
  headers: http.IncomingHttpHeaders
  body: string
}> = []
let pollCount = 0

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString()
      seen.push({ method: req.method, url: req.url, headers: req.headers, body })
      const u = new URL(req.url ?? '/', 'http://x')
      if (u.pathname === '/json') {
        res.setHeader('Content-Type', 'application/json')
        res.setHeader('X-Request-Id', 'req-42')
        res.end(JSON.stringify({ status: 'ok', items: [{ v: 'a' }, { v: 'b' }], echo: body }))
      } else if (u.pathname === '/poll') {
        pollCount++
        res.setHeader('Content-Type', 'application/json')
        res.end(JSON.stringify({ ready: pollCount >= 3, count: pollCount }))
      } else if (u.pathname === '/status') {
        res.statusCode = Number(u.searchParams.get('code') ?? 200)
        res.end('plain text')
      } else if (u.pathname === '/yaml') {
        res.setHeader('Content-Type', 'text/plain')
        res.end('a: 1\nb: [x, y]\n')
      } else if (u.pathname === '/slow') {
        setTimeout(() => res.end('late'), 2000).unref()
      } else {
        res.statusCode = 404
        res.end('not found')
      }
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => {
  server.closeAllConnections()
  await new Promise((r) => server.close(r))
  fs.rmSync(tmp, { recursive: true, force: true })
})

const freight: Freight = {
  name: 'abc123',
  alias: 'old-alias',
  origin: { kind: 'Warehouse', name: 'w' },
  discoveredAt: '2025-01-01T00:00:00Z',
  commits: [],
  images: [],
  charts: [],
  status: emptyFreightStatus()
}

function ctx(): StepContext<Capability> {
  const state = emptyState()
  state.freight[freight.name] = freight
  state.freight.other = { ...freight, name: 'other', alias: 'taken-alias' }
  return {
    workDir: tmp,
    project: 'p',
    stage: 'dev',
    promotion: 'dev.x.abc',
    targetFreight: freight,
    freight: [freight],
    alias: 'h',
    outputs: {},
    state,
    logger: new MemoryLogger(),
    caps: grantCapabilities(CAPABILITIES, defaultServices({}), { logger: new MemoryLogger() }),
    now: () => new Date()
  }
}

async function run<C>(def: StepDefinition<C>, config: unknown) {
  return def.run(def.parse(config), ctx())
}

describe('http step', () => {
  it('GET with headers and query params; outputs from the JSON body and headers', async () => {
    seen.length = 0
    const r = await run(httpStep, {
      url: `${base}/json`,
      headers: [{ name: 'Authorization', value: 'Bearer t0k' }],
      queryParams: [{ name: 'q', value: 'a b' }],
      successExpression: "response.status == 200 && response.body.status == 'ok'",
      outputs: [
        { name: 'second', fromExpression: 'response.body.items[1].v' },
        { name: 'reqId', fromExpression: "response.header('x-request-id')" },
        { name: 'ct', fromExpression: "response.headers['Content-Type'][0]" },
        { name: 'count', fromExpression: 'len(response.body.items)' }
      ]
    })
    expect(r.status).toBe('Succeeded')
    expect(r.outputs).toEqual({ second: 'b', reqId: 'req-42', ct: 'application/json', count: 2 })
    expect(seen[0].url).toBe('/json?q=a+b')
    expect(seen[0].headers.authorization).toBe('Bearer t0k')
  })

  it('POST a body and bodyFromFile', async () => {
    seen.length = 0
    let r = await run(httpStep, {
      url: `${base}/json`,
      method: 'POST',
      body: '{"x":1}',
      outputs: [{ name: 'echo', fromExpression: 'response.body.echo' }]
    })
    expect(r.outputs).toEqual({ echo: '{"x":1}' })
    fs.writeFileSync(path.join(tmp, 'payload.txt'), 'from-file')
    r = await run(httpStep, {
      url: `${base}/json`,
      method: 'PUT',
      bodyFromFile: 'payload.txt',
      outputs: [{ name: 'echo', fromExpression: 'response.body.echo' }]
    })
    expect(r.outputs).toEqual({ echo: 'from-file' })
    expect(seen.map((s) => s.method)).toEqual(['POST', 'PUT'])
    await expect(run(httpStep, { url: `${base}/json`, bodyFromFile: '../escape' })).rejects.toThrow(
      /http\.bodyFromFile: '\.\.\/escape' leaves the promotion's working directory/
    )
  })

  it('without expressions: 2xx succeeds, other statuses keep it Running', async () => {
    expect((await run(httpStep, { url: `${base}/status?code=204` })).status).toBe('Succeeded')
    const r = await run(httpStep, { url: `${base}/status?code=503`, pollInterval: '15s' })
    expect(r.status).toBe('Running')
    expect(r.pollIntervalMs).toBe(15_000)
    expect(r.message).toMatch(/503/)
  })

  it('failureExpression → Failed; errorExpression → Errored; neither true → Running', async () => {
    let r = await run(httpStep, {
      url: `${base}/status?code=500`,
      successExpression: 'response.status == 200',
      failureExpression: 'response.status >= 500'
    })
    expect(r.status).toBe('Failed')
    r = await run(httpStep, {
      url: `${base}/status?code=429`,
      errorExpression: "response.status == 429 ? 'rate limited' : ''",
      successExpression: 'response.status == 200'
    })
    expect(r).toMatchObject({ status: 'Errored', message: expect.stringMatching(/rate limited/) })
    r = await run(httpStep, {
      url: `${base}/status?code=202`,
      successExpression: 'response.status == 200',
      failureExpression: 'response.status >= 500'
    })
    expect(r.status).toBe('Running')
    r = await run(httpStep, {
      url: `${base}/status?code=404`,
      failureExpression: 'response.status == 500'
    })
    expect(r.status).toBe('Succeeded')
  })

  it('responseContentType overrides the response header', async () => {
    const r = await run(httpStep, {
      url: `${base}/yaml`,
      responseContentType: 'application/yaml',
      outputs: [{ name: 'y', fromExpression: 'response.body.b[1]' }]
    })
    expect(r.outputs).toEqual({ y: 'y' })
    const t = await run(httpStep, {
      url: `${base}/status`,
      outputs: [{ name: 'raw', fromExpression: 'response.body' }]
    })
    expect(t.outputs).toEqual({ raw: 'plain text' })
  })

  it('timeouts and connection errors throw with the host named', async () => {
    await expect(run(httpStep, { url: `${base}/slow`, timeout: '200ms' })).rejects.toThrow(
      /http: GET http:\/\/127\.0\.0\.1:\d+\/slow failed: no response within 200ms/
    )
    await expect(run(httpStep, { url: 'http://127.0.0.1:1/' })).rejects.toThrow(
      /127\.0\.0\.1:1.*failed/
    )
  })

  it('bad expressions name the field', async () => {
    await expect(
      run(httpStep, { url: `${base}/json`, successExpression: 'response.status' })
    ).rejects.toThrow(/http\.successExpression: must evaluate to a bool/)
    await expect(
      run(httpStep, {
        url: `${base}/json`,
        outputs: [{ name: 'x', fromExpression: 'response.nope.x' }]
      })
    ).rejects.toThrow(/http\.outputs\[0\]\.fromExpression: .*no field 'nope'/)
  })

  it('schema: strict like Kargo', () => {
    expect(() => httpStep.parse({})).toThrow(/url/)
    expect(() => httpStep.parse({ url: 'x', bogus: 1 })).toThrow(/bogus/)
    expect(() => httpStep.parse({ url: 'x', method: 'TRACE' })).toThrow(/method/)
    expect(() => httpStep.parse({ url: 'x', timeout: 'soon' })).toThrow(/timeout/)
    expect(() => httpStep.parse({ url: 'x', body: 'a', bodyFromFile: 'b' })).toThrow(
      /mutually exclusive/
    )
    expect(() => httpStep.parse({ url: 'x', headers: [{ name: 'a' }] })).toThrow(/headers/)
    expect(httpStep.parse({ url: 'x', method: 'POST', timeout: '1m30s' })).toMatchObject({
      method: 'POST'
    })
  })

  it('polls in the engine until successExpression holds', async () => {
    pollCount = 0
    const state = emptyState()
    state.freight[freight.name] = freight
    const promotion: Promotion = {
      name: 'dev.x.abc',
      stage: 'dev',
      freight: freight.name,
      phase: 'Pending',
      createdAt: '2025-01-01T00:00:00Z',
      steps: [
        {
          uses: 'http',
          as: 'check',
          config: {
            url: `${base}/poll`,
            pollInterval: '1s',
            successExpression: 'response.body.ready',
            outputs: [{ name: 'count', fromExpression: 'response.body.count' }]
          }
        },
        { uses: 'compose-output', as: 'out', config: { seen: '${{ outputs.check.count }}' } }
      ],
      currentStep: 0,
      stepExecutionMetadata: [],
      state: {}
    }
    let clock = Date.now()
    const opts = {
      state,
      project: 'p',
      services: defaultServices({}),
      logger: new MemoryLogger(),
      workRoot: path.join(tmp, 'engine'),
      now: () => new Date(clock),
      waitMs: 0,
      steps: stepRegistry,
      sleep: async (ms: number) => {
        clock += ms
      }
    }
    const first = await runPromotion(promotion, opts)
    expect(first.promotion.phase).toBe('Running')
    expect(first.promotion.message).toMatch(
      /^waiting on check: GET .*\/poll → 200: successExpression is not yet true/
    )
    const second = await runPromotion(first.promotion, { ...opts, waitMs: 10_000 })
    expect(second.promotion.phase).toBe('Succeeded')
    expect(second.promotion.state.out).toEqual({ seen: 3 })
    expect(pollCount).toBe(3)
  })
})

describe('small control steps', () => {
  it('compose-output', async () => {
    expect(await run(composeOutputStep, { a: 1, b: { c: 'x' } })).toEqual({
      status: 'Succeeded',
      outputs: { a: 1, b: { c: 'x' } }
    })
    expect(() => composeOutputStep.parse({})).toThrow(/at least one/)
    expect(() => composeOutputStep.parse([1])).toThrow(/map/)
  })

  it('set-metadata', async () => {
    const r = await run(setMetadataStep, {
      updates: [
        { kind: 'Stage', name: 'dev', values: { owner: 'me' } },
        { kind: 'Freight', name: 'old-alias', values: { ok: true } }
      ]
    })
    expect(r.effects).toEqual([
      { kind: 'metadata', target: 'Stage', name: 'dev', values: { owner: 'me' } },
      { kind: 'metadata', target: 'Freight', name: 'old-alias', values: { ok: true } }
    ])
    await expect(
      run(setMetadataStep, { updates: [{ kind: 'Freight', name: 'nope', values: { a: 1 } }] })
    ).rejects.toThrow(/updates\[0\]\.name: freight 'nope' does not exist/)
    expect(() => setMetadataStep.parse({ updates: [] })).toThrow(/updates/)
    expect(() =>
      setMetadataStep.parse({ updates: [{ kind: 'Warehouse', name: 'x', values: { a: 1 } }] })
    ).toThrow(/kind/)
    expect(() =>
      setMetadataStep.parse({ updates: [{ kind: 'Stage', name: 'x', values: {} }] })
    ).toThrow(/at least one value/)
  })

  it('set-freight-alias', async () => {
    expect((await run(setFreightAliasStep, { name: 'abc123', alias: 'fresh' })).effects).toEqual([
      { kind: 'freight-alias', freight: 'abc123', alias: 'fresh' }
    ])
    expect(
      await run(setFreightAliasStep, { name: 'old-alias', alias: 'taken-alias' })
    ).toMatchObject({
      status: 'Failed',
      message: expect.stringMatching(/already used by freight other/)
    })
    expect(() => setFreightAliasStep.parse({ name: 'x' })).toThrow(/alias/)
  })

  it('fail', async () => {
    expect(await run(failStep, {})).toEqual({ status: 'Failed', message: 'failed by a fail step' })
    expect(await run(failStep, { message: 'stop' })).toEqual({ status: 'Failed', message: 'stop' })
    expect(() => failStep.parse({ message: '' })).toThrow(/message/)
  })
})
