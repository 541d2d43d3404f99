import { fetch, type RequestInit, type Response } from 'undici'
import { formatDurationShort } from '../util/duration.js'
import { sleep } from '../util/sleep.js'
import { dispatcherFor, type TransportOptions } from './dispatcher.js'
import { backoffMs, isRetryableStatus, parseRetryAfter } from './retry.js'

export type { Response } from 'undici'

/**
 * Waybill's one HTTP layer: undici's fetch with a pooled dispatcher per settings (timeouts, TLS
 * verification, proxy from the environment), a deadline per request, and retries with backoff
 * that honour Retry-After. Clients (OCI registries, chart repositories, Argo CD) add their own
 * authentication and turn statuses into messages that name their host.
 */

export interface HttpRequestOptions extends TransportOptions {
  /** Deadline for the whole request, body included (default 30 s). */
  timeoutMs?: number
  /** The caller's abort: rethrown as is, never turned into an HttpNetworkError. */
  signal?: AbortSignal
}

export interface HttpRequest {
  method?: string
  headers?: Record<string, string>
  body?: string | Buffer | Uint8Array
  /** `manual` to handle redirects yourself (e.g. to drop credentials on another host). */
  redirect?: 'follow' | 'manual'
}

/** The request never got a response: refused, reset, unknown host, TLS failure or a timeout. */
export class HttpNetworkError extends Error {
  constructor(
    readonly url: string,
    /** A system error code (ECONNREFUSED, ECONNRESET, …) or `ETIMEDOUT` for the deadline. */
    readonly code: string,
    /** What went wrong in a few words, for messages: the code, or the cause's message. */
    readonly detail: string,
    readonly timedOut: boolean,
    options?: { cause?: unknown }
  ) {
    super(`${detail} (${new URL(url).host})`, options)
    this.name = 'HttpNetworkError'
  }
}

const DEFAULT_TIMEOUT_MS = 30_000

/** One request: no retries. Throws HttpNetworkError when no response arrived. */
export async function httpFetch(
  url: string | URL,
  req: HttpRequest = {},
  opts: HttpRequestOptions = {}
): Promise<Response> {
  const target = new URL(url)
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const deadline = AbortSignal.timeout(timeoutMs)
  const signal = opts.signal ? AbortSignal.any([opts.signal, deadline]) : deadline
  const init: RequestInit = {
    method: req.method ?? 'GET',
    headers: req.headers,
    body: req.body,
    redirect: req.redirect ?? 'follow',
    signal,
    dispatcher: dispatcherFor(target, {
      ...opts,
      connectTimeoutMs: Math.min(opts.connectTimeoutMs ?? 10_000, timeoutMs),
      idleTimeoutMs: opts.idleTimeoutMs ?? timeoutMs
    })
  }
  try {
    return await fetch(target, init)
  } catch (err) {
    if (opts.signal?.aborted) throw opts.signal.reason ?? err
    throw networkError(target.href, err, deadline.aborted, timeoutMs)
  }
}

function networkError(url: string, err: unknown, timedOut: boolean, timeoutMs: number) {
  if (timedOut)
    return new HttpNetworkError(
      url,
      'ETIMEDOUT',
      `no answer within ${formatDurationShort(timeoutMs)}`,
      true,
      { cause: err }
    )
  const e = err as { message?: string; cause?: { code?: string; message?: string } }
  const code = e?.cause?.code ?? ''
  const detail = code || e?.cause?.message || e?.message || String(err)
  return new HttpNetworkError(url, code || 'EHTTP', detail, false, { cause: err })
}

/** Connection refused or unknown host: the server is down or wrong, retrying now will not help. */
export function isPermanentNetworkError(err: HttpNetworkError): boolean {
  return err.code === 'ECONNREFUSED' || err.code === 'ENOTFOUND'
}

export interface RetryOptions {
  /** Attempts after the first (default 3). */
  retries?: number
  /** First backoff (default 500 ms), doubled per attempt with jitter. */
  retryBaseMs?: number
  /**
   * Longest Retry-After waited for (default 60 s). A longer one is not waited for: the response
   * is returned for the caller to report (rate-limited, retry later).
   */
  maxRetryAfterMs?: number
  /** Statuses retried (default 429 and 5xx). */
  retryStatus?: (status: number) => boolean
  /** Network errors retried (default all but refused connections and unknown hosts). */
  retryNetworkError?: (err: HttpNetworkError) => boolean
  /** Ends the waits between attempts. */
  signal?: AbortSignal
  /** Told before each wait (for debug logs). */
  onRetry?: (e: {
    attempt: number
    waitMs: number
    status?: number
    error?: HttpNetworkError
  }) => void
}

/**
 * Runs `send` until it returns a response that is not retried, or the retries are spent. The
 * last response is returned whatever its status (the caller words the error); the last network
 * error is thrown. A retried response's body is discarded.
 */
export async function withRetry(
  send: (attempt: number) => Promise<Response>,
  o: RetryOptions = {}
): Promise<Response> {
  const retries = o.retries ?? 3
  const base = o.retryBaseMs ?? 500
  const maxRetryAfter = o.maxRetryAfterMs ?? 60_000
  const retryStatus = o.retryStatus ?? isRetryableStatus
  const retryError = o.retryNetworkError ?? ((e) => !isPermanentNetworkError(e))
  for (let attempt = 0; ; attempt++) {
    let res: Response
    try {
      res = await send(attempt)
    } catch (err) {
      if (!(err instanceof HttpNetworkError) || attempt >= retries || !retryError(err)) throw err
      const waitMs = backoffMs(base, attempt)
      o.onRetry?.({ attempt, waitMs, error: err })
      await pause(waitMs, o.signal)
      continue
    }
    if (attempt >= retries || !retryStatus(res.status)) return res
    const retryAfter = parseRetryAfter(res.headers.get('retry-after'))
    if (retryAfter !== undefined && retryAfter > maxRetryAfter) return res
    await discardBody(res)
    const waitMs = retryAfter ?? backoffMs(base, attempt)
    o.onRetry?.({ attempt, waitMs, status: res.status })
    await pause(waitMs, o.signal)
  }
}

async function pause(ms: number, signal?: AbortSignal): Promise<void> {
  await sleep(ms, signal)
  signal?.throwIfAborted()
}

/** httpFetch with retries. */
export function fetchWithRetry(
  url: string | URL,
  req: HttpRequest = {},
  opts: HttpRequestOptions & RetryOptions = {}
): Promise<Response> {
  return withRetry(() => httpFetch(url, req, opts), opts)
}

/** Drops a body that will not be read, so that its connection can be reused or closed. */
export async function discardBody(res: Response): Promise<void> {
  await res.body?.cancel().catch(() => undefined)
}
