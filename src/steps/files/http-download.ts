import { parseDuration } from '../../util/duration.js'
import fs from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import path from 'node:path'
import { pipeline } from 'node:stream/promises'
import { z } from 'zod'
import type { StepDefinition } from '../types.js'
import { ConfigFieldError, WaybillError } from '../../util/errors.js'
import { redact } from '../../util/logger.js'
import { exists, nonEmpty, parser, stepPath, succeeded } from './common.js'

const STEP = 'http-download'

/** A Go duration (`90s`, `1m30s`, `500ms`) in milliseconds. */
export function parseGoDuration(text: string, field: string): number {
  try {
    return parseDuration(text)
  } catch {
    throw new ConfigFieldError(field, `'${text}' is not a duration (e.g. 30s, 5m, 1h30m)`)
  }
}

const pair = z.strictObject({ name: nonEmpty, value: nonEmpty })

const schema = z.strictObject({
  url: nonEmpty,
  outPath: nonEmpty,
  allowOverwrite: z.boolean().default(false),
  headers: z.array(pair).default([]),
  queryParams: z.array(pair).default([]),
  insecureSkipTLSVerify: z.boolean().default(false),
  timeout: z
    .string()
    .regex(/(?:\d+(ns|us|µs|ms|s|m|h))+/, 'must be a duration like 30s or 5m')
    .optional()
})

export type HttpDownloadConfig = z.output<typeof schema>

/** Streams a GET response body to a file, following up to 10 redirects. */
function download(
  url: URL,
  headers: Record<string, string>,
  insecure: boolean,
  dest: string,
  signal: AbortSignal,
  redirects = 0
): Promise<void> {
  return new Promise((resolve, reject) => {
    const mod = url.protocol === 'https:' ? https : url.protocol === 'http:' ? http : undefined
    if (!mod) {
      reject(new ConfigFieldError(`${STEP}.url`, `unsupported scheme '${url.protocol}'`))
      return
    }
    const req = mod.request(
      url,
      {
        method: 'GET',
        headers,
        signal,
        ...(url.protocol === 'https:' ? { rejectUnauthorized: !insecure } : {})
      },
      (res) => {
        const status = res.statusCode ?? 0
        if (status >= 300 && status < 400 && res.headers.location) {
          res.resume()
          if (redirects >= 10) {
            reject(new WaybillError(`${STEP}: too many redirects from ${redact(url.origin)}`))
            return
          }
          const next = new URL(res.headers.location, url)
          // Credentials do not follow a redirect to another host.
          const nextHeaders =
            next.host === url.host
              ? headers
              : Object.fromEntries(
                  Object.entries(headers).filter(([k]) => k.toLowerCase() !== 'authorization')
                )
          download(next, nextHeaders, insecure, dest, signal, redirects + 1).then(resolve, reject)
          return
        }
        if (status < 200 || status >= 300) {
          res.resume()
          reject(
            new WaybillError(
              `${STEP}: GET ${redact(url.origin + url.pathname)} returned HTTP ${status}`,
              status === 401 || status === 403
                ? 'check the headers (credentials) of the step'
                : undefined
            )
          )
          return
        }
        pipeline(res, fs.createWriteStream(dest, { mode: 0o644 })).then(resolve, reject)
      }
    )
    req.on('error', reject)
    req.end()
  })
}

export const httpDownload: StepDefinition<HttpDownloadConfig> = {
  name: STEP,
  parse: parser(STEP, schema),
  defaultTimeoutMs: 5 * 60_000,
  async run(config, ctx) {
    const out = stepPath(ctx, STEP, 'outPath', config.outPath)
    let url: URL
    try {
      url = new URL(config.url)
    } catch {
      throw new ConfigFieldError(`${STEP}.url`, `'${redact(config.url)}' is not a valid URL`)
    }
    for (const q of config.queryParams) url.searchParams.append(q.name, q.value)
    if (exists(out)) {
      if (!config.allowOverwrite)
        throw new ConfigFieldError(
          `${STEP}.outPath`,
          `'${config.outPath}' already exists (set allowOverwrite: true to replace it)`
        )
      if (fs.lstatSync(out).isDirectory())
        throw new ConfigFieldError(`${STEP}.outPath`, `'${config.outPath}' is a directory`)
    }
    const timeoutMs = config.timeout
      ? parseGoDuration(config.timeout, `${STEP}.timeout`)
      : 5 * 60_000
    const headers: Record<string, string> = {}
    for (const h of config.headers) headers[h.name] = h.value
    fs.mkdirSync(path.dirname(out), { recursive: true })
    const tmp = `${out}.waybill-download-${process.pid}`
    const timeout = AbortSignal.timeout(timeoutMs)
    const signal = ctx.signal ? AbortSignal.any([ctx.signal, timeout]) : timeout
    try {
      await download(url, headers, config.insecureSkipTLSVerify, tmp, signal)
      fs.renameSync(tmp, out)
    } catch (e) {
      fs.rmSync(tmp, { force: true })
      if (timeout.aborted)
        throw new WaybillError(
          `${STEP}: download from ${redact(url.origin)} did not finish within ${config.timeout ?? '5m'}`
        )
      if (e instanceof WaybillError) throw e
      throw new WaybillError(
        `${STEP}: download from ${redact(url.origin)} failed: ${redact((e as Error).message)}`
      )
    }
    ctx.logger.info(
      `downloaded ${redact(url.origin + url.pathname)} to ${config.outPath} (${fs.statSync(out).size} bytes)`
    )
    return succeeded()
  }
}
