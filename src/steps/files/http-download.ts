import { parseDuration } from '../../util/duration.js'
import fs from 'node:fs'
import path from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { z } from 'zod'
import { defineStep } from '../define.js'
import { ConfigFieldError, WaybillError } from '../../util/errors.js'
import { redact } from '../../util/logger.js'
import { tempNameNear } from '../../util/fs-confined.js'
import { discardBody, httpFetch, HttpNetworkError } from '../../http/index.js'
import { exists, nonEmpty, stepPath, succeeded } from './common.js'

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

/**
 * Streams a GET response body to a new file (created exclusively: never through a link),
 * following up to 10 redirects; credentials do not follow a redirect to another host.
 */
async function download(
  url: URL,
  headers: Record<string, string>,
  insecure: boolean,
  dest: string,
  timeoutMs: number,
  signal: AbortSignal
): Promise<void> {
  let target = url
  let sent = headers
  for (let redirects = 0; ; redirects++) {
    if (target.protocol !== 'https:' && target.protocol !== 'http:')
      throw new ConfigFieldError(`${STEP}.url`, `unsupported scheme '${target.protocol}'`)
    const res = await httpFetch(
      target,
      { headers: sent, redirect: 'manual' },
      { insecureSkipTLSVerify: insecure, timeoutMs, signal }
    )
    const location = res.headers.get('location')
    if (res.status >= 300 && res.status < 400 && location) {
      await discardBody(res)
      if (redirects >= 10)
        throw new WaybillError(`${STEP}: too many redirects from ${redact(url.origin)}`)
      const next = new URL(location, target)
      if (next.host !== target.host)
        sent = Object.fromEntries(
          Object.entries(sent).filter(([k]) => k.toLowerCase() !== 'authorization')
        )
      target = next
      continue
    }
    if (res.status < 200 || res.status >= 300) {
      await discardBody(res)
      throw new WaybillError(
        `${STEP}: GET ${redact(target.origin + target.pathname)} returned HTTP ${res.status}`,
        res.status === 401 || res.status === 403
          ? 'check the headers (credentials) of the step'
          : undefined
      )
    }
    const file = fs.createWriteStream(dest, { flags: 'wx', mode: 0o644 })
    await pipeline(res.body ? Readable.fromWeb(res.body as never) : Readable.from([]), file)
    return
  }
}

export const httpDownload = defineStep({
  name: STEP,
  schema,
  defaults: { timeoutMs: 5 * 60_000 },
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
    const tmp = tempNameNear(out)
    const timeout = AbortSignal.timeout(timeoutMs)
    const signal = ctx.signal ? AbortSignal.any([ctx.signal, timeout]) : timeout
    try {
      await download(url, headers, config.insecureSkipTLSVerify, tmp, timeoutMs, signal)
      fs.renameSync(tmp, out)
    } catch (e) {
      fs.rmSync(tmp, { force: true })
      if (timeout.aborted || (e instanceof HttpNetworkError && e.timedOut))
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
})
