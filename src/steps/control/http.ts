import fs from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import net from 'node:net'
import tls from 'node:tls'
import YAML from 'yaml'
import { z } from 'zod'
import type { StepDefinition, StepResult } from '../types.js'
import { ConfigFieldError, WaybillError } from '../../util/errors.js'
import { confinedPath } from '../../util/paths.js'
import { parseOrThrow } from '../../util/zod.js'
import { redact } from '../../util/logger.js'
import {
  builtinFunctions,
  evaluateExpression,
  HostValue,
  parseGoDuration
} from '../../expressions/index.js'

const GO_DURATION = /^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$/
const nameValue = z.strictObject({ name: z.string().min(1), value: z.string().min(1) })
const emptyish = z.union([z.literal(''), z.null()]).optional()

const schema = z
  .strictObject({
    url: z.string().min(1),
    method: z
      .string()
      .regex(/^(DELETE|GET|HEAD|PATCH|POST|PUT)$/, {
        error: 'must be one of DELETE, GET, HEAD, PATCH, POST, PUT'
      })
      .optional(),
    headers: z.array(nameValue).optional(),
    queryParams: z.array(nameValue).optional(),
    body: z.union([z.string(), z.null()]).optional(),
    bodyFromFile: z.union([z.string().min(1), emptyish]).optional(),
    insecureSkipTLSVerify: z.boolean().optional(),
    proxy: z
      .string()
      .regex(/^https?:\/\/.*$/, { error: 'must be an http:// or https:// URL' })
      .optional(),
    timeout: z.string().regex(GO_DURATION, { error: 'must be a duration like 10s' }).optional(),
    pollInterval: z
      .string()
      .regex(GO_DURATION, { error: 'must be a duration like 30s' })
      .optional(),
    responseContentType: z
      .string()
      .regex(/^(application\/json|application\/yaml|text\/plain)$/, {
        error: 'must be application/json, application/yaml or text/plain'
      })
      .optional(),
    outputs: z
      .array(z.strictObject({ name: z.string().min(1), fromExpression: z.string().min(1) }))
      .optional(),
    successExpression: z.string().optional(),
    failureExpression: z.string().optional(),
    errorExpression: z.string().optional()
  })
  .superRefine((c, ctx) => {
    if (c.body && c.bodyFromFile) {
      ctx.addIssue({
        code: 'custom',
        path: ['bodyFromFile'],
        message: 'body and bodyFromFile are mutually exclusive'
      })
    }
  })

export type HttpConfig = z.output<typeof schema>

export const DEFAULT_HTTP_TIMEOUT_MS = 10_000
export const DEFAULT_HTTP_POLL_MS = 30_000
const MAX_RESPONSE_BYTES = 10 * 1024 * 1024

interface RawResponse {
  status: number
  headers: http.IncomingHttpHeaders
  body: Buffer
}

/** Go's http.CanonicalHeaderKey: `content-type` → `Content-Type`. */
function canonical(name: string): string {
  return name
    .toLowerCase()
    .split('-')
    .map((p) => (p ? p[0].toUpperCase() + p.slice(1) : p))
    .join('-')
}

function connectThroughProxy(
  proxy: URL,
  host: string,
  port: number,
  insecure: boolean,
  timeoutMs: number
): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const mod = proxy.protocol === 'https:' ? https : http
    const req = mod.request({
      host: proxy.hostname,
      port: proxy.port || (proxy.protocol === 'https:' ? 443 : 80),
      method: 'CONNECT',
      path: `${host}:${port}`,
      timeout: timeoutMs,
      rejectUnauthorized: !insecure
    })
    req.on('connect', (res, socket) => {
      if (res.statusCode !== 200) {
        socket.destroy()
        reject(new Error(`proxy ${proxy.host} refused CONNECT (HTTP ${res.statusCode})`))
      } else resolve(socket)
    })
    req.on('timeout', () => req.destroy(new Error(`proxy ${proxy.host} timed out`)))
    req.on('error', reject)
    req.end()
  })
}

async function send(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: string | Buffer | undefined,
  opts: { insecure: boolean; proxy?: string; timeoutMs: number; signal?: AbortSignal }
): Promise<RawResponse> {
  const isHttps = url.protocol === 'https:'
  const port = Number(url.port || (isHttps ? 443 : 80))
  const outHeaders: Record<string, string> = { ...headers }
  const reqOpts: https.RequestOptions = {
    method,
    headers: outHeaders,
    signal: opts.signal,
    rejectUnauthorized: !opts.insecure,
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port,
    path: url.pathname + url.search
  }
  if (body !== undefined) outHeaders['Content-Length'] = String(Buffer.byteLength(body))
  if (opts.proxy) {
    const proxy = new URL(opts.proxy)
    if (isHttps) {
      const socket = await connectThroughProxy(
        proxy,
        url.hostname,
        port,
        opts.insecure,
        opts.timeoutMs
      )
      reqOpts.createConnection = () =>
        tls.connect({ socket, servername: url.hostname, rejectUnauthorized: !opts.insecure })
    } else {
      reqOpts.host = proxy.hostname
      reqOpts.port = Number(proxy.port || 80)
      reqOpts.path = url.toString()
      outHeaders.Host = url.host
    }
  }
  const mod = isHttps ? https : http
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => req.destroy(new Error(`no response within ${opts.timeoutMs}ms`)),
      opts.timeoutMs
    )
    const req = mod.request(reqOpts, (res) => {
      const chunks: Buffer[] = []
      let size = 0
      res.on('data', (c: Buffer) => {
        size += c.length
        if (size > MAX_RESPONSE_BYTES) {
          req.destroy(new Error(`response is larger than ${MAX_RESPONSE_BYTES} bytes`))
          return
        }
        chunks.push(c)
      })
      res.on('end', () => {
        clearTimeout(timer)
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) })
      })
      res.on('error', (e) => {
        clearTimeout(timer)
        reject(e)
      })
    })
    req.on('error', (e) => {
      clearTimeout(timer)
      reject(e)
    })
    if (body !== undefined) req.end(body)
    else req.end()
  })
}

/** Parses the body by content type; JSON is tried when the type says nothing. */
export function parseBody(raw: Buffer, contentType: string | undefined): unknown {
  const text = raw.toString('utf8')
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase()
  if (type === 'text/plain') return text
  if (type === 'application/yaml' || type === 'application/x-yaml' || type === 'text/yaml') {
    try {
      return YAML.parse(text) as unknown
    } catch {
      return text
    }
  }
  if (text.trim() === '') return type.includes('json') ? null : text
  try {
    return JSON.parse(text) as unknown
  } catch {
    return text
  }
}

/** The `response` variable of http expressions: {status, headers, header(name), body}. */
export function responseValue(status: number, headers: http.IncomingHttpHeaders, body: unknown) {
  const h: Record<string, string[]> = {}
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue
    h[canonical(k)] = Array.isArray(v) ? v : [String(v)]
  }
  return new HostValue(
    'Response',
    { status, headers: h, body },
    {
      header: (name: unknown) => {
        const v = h[canonical(String(name))]
        return v && v.length ? v[0] : ''
      }
    },
    { status, headers: h, body }
  )
}

function bare(expr: string): string {
  const m = /^\s*\$\{[{%]([\s\S]*)[}%]\}\s*$/.exec(expr)
  return m ? m[1] : expr
}

function evalIn(expr: string, response: HostValue, field: string): unknown {
  try {
    return evaluateExpression(bare(expr), { vars: { response }, functions: builtinFunctions })
  } catch (err) {
    throw new ConfigFieldError(`http.${field}`, (err as Error).message)
  }
}

function evalBool(expr: string, response: HostValue, field: string): boolean {
  const v = evalIn(expr, response, field)
  if (typeof v !== 'boolean') {
    throw new ConfigFieldError(`http.${field}`, `must evaluate to a bool, got ${JSON.stringify(v)}`)
  }
  return v
}

/**
 * Kargo's `http` step: one request per attempt, the outcome decided by expressions over the
 * response. failureExpression true → Failed (terminal); successExpression true → Succeeded with
 * outputs; with neither expression a 2xx succeeds; otherwise Running (polled every pollInterval).
 * errorExpression: true (or a non-empty message) → Errored, which retry.errorThreshold retries.
 */
export const httpStep: StepDefinition<HttpConfig> = {
  name: 'http',
  parse: (config) => parseOrThrow(schema, config ?? {}, 'http'),
  async run(config, ctx): Promise<StepResult> {
    let url: URL
    try {
      url = new URL(config.url)
    } catch {
      throw new ConfigFieldError('http.url', `'${redact(config.url)}' is not a valid URL`)
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new ConfigFieldError('http.url', `only http and https URLs are supported`)
    }
    for (const q of config.queryParams ?? []) url.searchParams.append(q.name, q.value)
    const headers: Record<string, string> = {}
    for (const h of config.headers ?? []) headers[h.name] = h.value
    let body: string | Buffer | undefined = config.body || undefined
    if (config.bodyFromFile) {
      const file = confinedPath(ctx.workDir, config.bodyFromFile, 'http.bodyFromFile')
      try {
        body = fs.readFileSync(file)
      } catch (err) {
        throw new ConfigFieldError(
          'http.bodyFromFile',
          `cannot read '${config.bodyFromFile}': ${(err as Error).message}`
        )
      }
    }
    const timeoutMs = config.timeout ? parseGoDuration(config.timeout) : DEFAULT_HTTP_TIMEOUT_MS
    const pollIntervalMs = config.pollInterval
      ? parseGoDuration(config.pollInterval)
      : DEFAULT_HTTP_POLL_MS
    const method = config.method ?? 'GET'
    const shown = `${method} ${redact(url.origin + url.pathname)}`

    let raw: RawResponse
    try {
      raw = await send(url, method, headers, body, {
        insecure: config.insecureSkipTLSVerify ?? false,
        proxy: config.proxy,
        timeoutMs,
        signal: ctx.signal
      })
    } catch (err) {
      throw new WaybillError(`http: ${shown} failed: ${redact((err as Error).message)}`)
    }
    ctx.logger.info(`${shown} → ${raw.status}`)
    const contentType =
      config.responseContentType ??
      (Array.isArray(raw.headers['content-type'])
        ? raw.headers['content-type'][0]
        : raw.headers['content-type'])
    const parsed = method === 'HEAD' ? null : parseBody(raw.body, contentType)
    const response = responseValue(raw.status, raw.headers, parsed)

    if (config.errorExpression) {
      const v = evalIn(config.errorExpression, response, 'errorExpression')
      if (v === true || (typeof v === 'string' && v !== '')) {
        return {
          status: 'Errored',
          message: `${shown} → ${raw.status}: ${v === true ? 'errorExpression is true' : v}`
        }
      }
    }
    const failed = config.failureExpression
      ? evalBool(config.failureExpression, response, 'failureExpression')
      : false
    if (failed) {
      return { status: 'Failed', message: `${shown} → ${raw.status}: failureExpression is true` }
    }
    let succeeded: boolean
    if (config.successExpression) {
      succeeded = evalBool(config.successExpression, response, 'successExpression')
    } else if (config.failureExpression) {
      succeeded = true
    } else {
      succeeded = raw.status >= 200 && raw.status < 300
    }
    if (!succeeded) {
      return {
        status: 'Running',
        message: `${shown} → ${raw.status}: ${config.successExpression ? 'successExpression is not yet true' : 'not a 2xx response yet'}`,
        pollIntervalMs
      }
    }
    const outputs: Record<string, unknown> = {}
    ;(config.outputs ?? []).forEach((o, i) => {
      outputs[o.name] = evalIn(o.fromExpression, response, `outputs[${i}].fromExpression`)
    })
    return { status: 'Succeeded', outputs, message: `${shown} → ${raw.status}` }
  }
}
