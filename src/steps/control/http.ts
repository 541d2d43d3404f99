import fs from 'node:fs'
import YAML from 'yaml'
import { z } from 'zod'
import { defineStep } from '../define.js'
import type { StepResult } from '../types.js'
import { ConfigFieldError, WaybillError } from '../../util/errors.js'
import { confinedPath } from '../../util/paths.js'
import { redact } from '../../util/logger.js'
import { builtinFunctions, evaluateExpression, HostValue } from '../../expressions/index.js'
import { httpFetch, HttpNetworkError, readBytes } from '../../http/index.js'
import { formatDurationShort, parseDuration } from '../../util/duration.js'

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
    // A body written as JSON text becomes an object once expressions are evaluated (Kargo turns
    // JSON-looking results into values): send it back as JSON text rather than refusing it.
    body: z
      .union([z.string(), z.null(), z.record(z.string(), z.unknown()), z.array(z.unknown())])
      .optional(),
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
  /** Lower-case names, every value (set-cookie one per cookie). */
  headers: Record<string, string[]>
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

/**
 * One request through Waybill's HTTP layer (proxy from `proxy` or the environment, TLS setting,
 * deadline). Redirects are not followed: the expressions see the 3xx response.
 */
async function send(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: string | Buffer | undefined,
  opts: { insecure: boolean; proxy?: string; timeoutMs: number; signal?: AbortSignal }
): Promise<RawResponse> {
  const res = await httpFetch(
    url,
    { method, headers, body, redirect: 'manual' },
    {
      insecureSkipTLSVerify: opts.insecure,
      proxy: opts.proxy,
      timeoutMs: opts.timeoutMs,
      signal: opts.signal
    }
  )
  const raw = await readBytes(res, MAX_RESPONSE_BYTES)
  const out: Record<string, string[]> = {}
  res.headers.forEach((value, name) => {
    out[name] = name === 'set-cookie' ? res.headers.getSetCookie() : [value]
  })
  return { status: res.status, headers: out, body: raw }
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
export function responseValue(
  status: number,
  headers: Record<string, string | string[] | undefined>,
  body: unknown
) {
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
export const httpStep = defineStep({
  name: 'http',
  schema,
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
    let body: string | Buffer | undefined =
      typeof config.body === 'object' && config.body !== null
        ? JSON.stringify(config.body)
        : config.body || undefined
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
    const timeoutMs = config.timeout ? parseDuration(config.timeout) : DEFAULT_HTTP_TIMEOUT_MS
    const pollIntervalMs = config.pollInterval
      ? parseDuration(config.pollInterval)
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
      const why =
        err instanceof HttpNetworkError && err.timedOut
          ? `no response within ${config.timeout ?? formatDurationShort(timeoutMs)}`
          : (err as Error).message
      throw new WaybillError(`http: ${shown} failed: ${redact(why)}`)
    }
    ctx.logger.info(`${shown} → ${raw.status}`)
    const contentType = config.responseContentType ?? raw.headers['content-type']?.[0]
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
})
