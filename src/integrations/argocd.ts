import {
  HttpNetworkError,
  readSnippet,
  readText,
  withRetry,
  httpFetch,
  type Response
} from '../http/index.js'
import type { Services } from '../runtime/services.js'
import { formatDurationShort } from '../util/duration.js'
import { WaybillError } from '../util/errors.js'
import { redact, registerSecret } from '../util/logger.js'

/**
 * A small client for Argo CD's REST API (the grpc-gateway in front of argocd-server), over the
 * HTTP layer (src/http). Only the Application endpoints Waybill needs: get (with hard refresh), list by
 * label selector, patch the spec, sync, terminate the running operation.
 */

// ---------- the parts of the Application resource Waybill reads or writes ----------

export interface ArgoCDInfo {
  name?: string
  value?: string
}

export interface ArgoCDKustomize {
  images?: string[]
  [k: string]: unknown
}

export interface ArgoCDHelmParameter {
  name?: string
  value?: string
  forceString?: boolean
}

export interface ArgoCDHelm {
  parameters?: ArgoCDHelmParameter[]
  [k: string]: unknown
}

export interface ArgoCDApplicationSource {
  repoURL?: string
  path?: string
  chart?: string
  targetRevision?: string
  ref?: string
  name?: string
  kustomize?: ArgoCDKustomize
  helm?: ArgoCDHelm
  [k: string]: unknown
}

export interface ArgoCDRetryStrategy {
  limit?: number
  backoff?: { duration?: string; factor?: number; maxDuration?: string }
  refresh?: boolean
}

export interface ArgoCDSyncPolicy {
  automated?: { prune?: boolean; selfHeal?: boolean; allowEmpty?: boolean; enabled?: boolean }
  syncOptions?: string[]
  retry?: ArgoCDRetryStrategy
  [k: string]: unknown
}

export interface ArgoCDOperation {
  info?: ArgoCDInfo[]
  initiatedBy?: { username?: string; automated?: boolean }
  retry?: ArgoCDRetryStrategy
  sync?: { revision?: string; revisions?: string[]; syncOptions?: string[]; [k: string]: unknown }
}

export type OperationPhase = 'Running' | 'Terminating' | 'Failed' | 'Error' | 'Succeeded'

export interface ArgoCDOperationState {
  /** An OperationPhase, or a phase newer than this code. */
  phase?: string
  message?: string
  startedAt?: string
  finishedAt?: string
  retryCount?: number
  operation?: ArgoCDOperation
  syncResult?: {
    revision?: string
    revisions?: string[]
    source?: ArgoCDApplicationSource
    sources?: ArgoCDApplicationSource[]
    [k: string]: unknown
  }
}

export interface ArgoCDApplication {
  metadata?: {
    name?: string
    namespace?: string
    labels?: Record<string, string>
    annotations?: Record<string, string>
    resourceVersion?: string
    [k: string]: unknown
  }
  spec?: {
    project?: string
    source?: ArgoCDApplicationSource
    sources?: ArgoCDApplicationSource[]
    syncPolicy?: ArgoCDSyncPolicy
    [k: string]: unknown
  }
  operation?: ArgoCDOperation
  status?: {
    health?: { status?: string; message?: string; lastTransitionTime?: string }
    sync?: { status?: string; revision?: string; revisions?: string[]; [k: string]: unknown }
    operationState?: ArgoCDOperationState
    reconciledAt?: string
    observedAt?: string
    conditions?: Array<{ type?: string; message?: string; lastTransitionTime?: string }>
    [k: string]: unknown
  }
}

export interface SyncRequest {
  /** Revisions per source (empty: the sources' targetRevisions). */
  revisions?: string[]
  syncOptions?: string[]
  retryStrategy?: ArgoCDRetryStrategy
  infos?: ArgoCDInfo[]
  prune?: boolean
}

/** A Kubernetes label selector as Kargo's step configs take it. */
export interface LabelSelector {
  matchLabels?: Record<string, string>
  matchExpressions?: Array<{
    key: string
    operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'
    values?: string[]
  }>
}

/** Kubernetes' string form of a label selector (`a=b,c in (d,e),!f`), as the `selector` query parameter takes it. */
export function labelSelectorString(sel: LabelSelector): string {
  const parts: string[] = []
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) parts.push(`${k}=${v}`)
  for (const e of sel.matchExpressions ?? []) {
    const values = [...(e.values ?? [])].sort().join(',')
    if (e.operator === 'In') parts.push(`${e.key} in (${values})`)
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${values})`)
    else if (e.operator === 'Exists') parts.push(e.key)
    else parts.push(`!${e.key}`)
  }
  return parts.join(',')
}

export function isOperationCompleted(phase: string | undefined): boolean {
  return phase === 'Failed' || phase === 'Error' || phase === 'Succeeded'
}

// ---------- the client ----------

export interface ArgoCDClientOptions {
  server: string
  token?: string
  insecure?: boolean
  /** Per-request timeout (default 30s). */
  timeoutMs?: number
  /** Attempts for retryable failures (429, 5xx, network), default 4. */
  attempts?: number
  /** First backoff delay (default 500ms, doubled per attempt; Retry-After honoured up to 60s). */
  backoffMs?: number
  signal?: AbortSignal
}

interface RequestOptions {
  query?: Record<string, string | undefined>
  body?: unknown
  /** The Application it is about, for messages. */
  app?: { name: string; namespace?: string }
}

/** Thrown for HTTP errors; `status` is the HTTP status (0 when the server could not be reached). */
export class ArgoCDError extends WaybillError {
  constructor(
    message: string,
    readonly status: number,
    hint?: string
  ) {
    super(message, hint)
    this.name = 'ArgoCDError'
  }
}

/** Application lists of a large instance run to megabytes; far beyond is not Argo CD. */
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024

export class ArgoCDClient {
  readonly server: string
  private readonly token?: string
  private readonly insecure: boolean
  private readonly timeoutMs: number
  private readonly attempts: number
  private readonly backoffMs: number
  private readonly signal?: AbortSignal

  constructor(opts: ArgoCDClientOptions) {
    let server = opts.server.trim().replace(/\/+$/, '')
    if (!/^https?:\/\//i.test(server)) server = `https://${server}`
    this.server = server
    this.token = opts.token || undefined
    registerSecret(this.token)
    this.insecure = !!opts.insecure
    this.timeoutMs = opts.timeoutMs ?? 30_000
    this.attempts = Math.max(1, opts.attempts ?? 4)
    this.backoffMs = opts.backoffMs ?? 500
    this.signal = opts.signal
  }

  /** Builds a client from the configured services, or explains how to configure one. */
  static fromServices(
    services: Services,
    extra: Partial<ArgoCDClientOptions> = {}
  ): { client: ArgoCDClient; namespace: string } {
    const cfg = services.argocd
    if (!cfg?.server) {
      throw new WaybillError(
        'Argo CD is not configured',
        'set the argocd-server input (CLI: --argocd-server or env ARGOCD_SERVER) and argocd-token'
      )
    }
    return {
      client: new ArgoCDClient({
        server: cfg.server,
        token: cfg.token,
        insecure: cfg.insecure,
        ...extra
      }),
      namespace: cfg.namespace || 'argocd'
    }
  }

  /** GET /api/v1/applications/{name}; `refresh: 'hard'` asks Argo CD to re-read the sources first. */
  getApplication(
    name: string,
    namespace?: string,
    opts: { refresh?: 'hard' | 'normal' } = {}
  ): Promise<ArgoCDApplication> {
    return this.request<ArgoCDApplication>('GET', `/api/v1/applications/${enc(name)}`, {
      query: { appNamespace: namespace, refresh: opts.refresh },
      app: { name, namespace }
    })
  }

  /** GET /api/v1/applications?selector=…&appNamespace=… */
  async listApplications(
    opts: { selector?: LabelSelector | string; namespace?: string } = {}
  ): Promise<ArgoCDApplication[]> {
    const selector =
      typeof opts.selector === 'string'
        ? opts.selector
        : opts.selector
          ? labelSelectorString(opts.selector)
          : undefined
    const list = await this.request<{ items?: ArgoCDApplication[] | null }>(
      'GET',
      '/api/v1/applications',
      { query: { selector: selector || undefined, appNamespace: opts.namespace } }
    )
    const items = list?.items ?? []
    // Argo CD lists every namespace it is allowed to see when appNamespace names the control
    // plane's own namespace; keep only the requested one.
    return opts.namespace
      ? items.filter((a) => !a.metadata?.namespace || a.metadata.namespace === opts.namespace)
      : items
  }

  /**
   * PATCH /api/v1/applications/{name} with a JSON merge patch (`patchType: merge`). Argo CD
   * applies it to the Application and saves the spec (the only part the API lets a client change).
   */
  patchApplication(
    name: string,
    namespace: string | undefined,
    patch: Record<string, unknown>
  ): Promise<ArgoCDApplication> {
    return this.request<ArgoCDApplication>('PATCH', `/api/v1/applications/${enc(name)}`, {
      body: {
        name,
        ...(namespace ? { appNamespace: namespace } : {}),
        patch: JSON.stringify(patch),
        patchType: 'merge'
      },
      app: { name, namespace }
    })
  }

  /** POST /api/v1/applications/{name}/sync */
  syncApplication(
    name: string,
    namespace: string | undefined,
    req: SyncRequest = {}
  ): Promise<ArgoCDApplication> {
    const body: Record<string, unknown> = { name }
    if (namespace) body.appNamespace = namespace
    if (req.revisions?.length) body.revisions = req.revisions
    if (req.syncOptions?.length) body.syncOptions = { items: req.syncOptions }
    if (req.retryStrategy) body.retryStrategy = req.retryStrategy
    if (req.infos?.length) body.infos = req.infos
    if (req.prune !== undefined) body.prune = req.prune
    return this.request<ArgoCDApplication>('POST', `/api/v1/applications/${enc(name)}/sync`, {
      body,
      app: { name, namespace }
    })
  }

  /** DELETE /api/v1/applications/{name}/operation */
  async terminateOperation(name: string, namespace?: string): Promise<void> {
    await this.request('DELETE', `/api/v1/applications/${enc(name)}/operation`, {
      query: { appNamespace: namespace },
      app: { name, namespace }
    })
  }

  private async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const url = new URL(this.server + path)
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v) url.searchParams.set(k, v)
    const headers: Record<string, string> = { accept: 'application/json' }
    if (this.token) headers.authorization = `Bearer ${this.token}`
    if (opts.body !== undefined) headers['content-type'] = 'application/json'
    // A POST is retried only when the server surely did not act on it.
    const retryable = (status: number): boolean =>
      status === 429 || (method === 'POST' ? status === 502 || status === 503 : status >= 500)
    let res: Response
    try {
      res = await withRetry(
        () =>
          httpFetch(
            url,
            {
              method,
              headers,
              body: opts.body === undefined ? undefined : JSON.stringify(opts.body)
            },
            { timeoutMs: this.timeoutMs, insecureSkipTLSVerify: this.insecure, signal: this.signal }
          ),
        {
          retries: this.attempts - 1,
          retryBaseMs: this.backoffMs,
          retryStatus: retryable,
          signal: this.signal
        }
      )
    } catch (err) {
      if (err instanceof HttpNetworkError) throw this.networkError(method, path, err)
      throw err
    }
    if (!res.ok)
      throw this.httpError(method, url.pathname, res.status, await readSnippet(res), opts.app)
    const text = await readText(res, MAX_RESPONSE_BYTES)
    if (!text) return {} as T
    try {
      return JSON.parse(text) as T
    } catch {
      throw new ArgoCDError(
        `Argo CD at ${this.server} returned invalid JSON for ${method} ${url.pathname}`,
        res.status
      )
    }
  }

  private networkError(method: string, path: string, err: HttpNetworkError): ArgoCDError {
    if (err.timedOut) {
      return new ArgoCDError(
        `Argo CD at ${this.server} did not answer ${method} ${path} within ${formatDurationShort(this.timeoutMs)}`,
        0,
        'check that argocd-server is reachable from the runner'
      )
    }
    const detail = err.detail
    const tls = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|TLS|SSL/i.test(detail)
    return new ArgoCDError(
      redact(`cannot reach Argo CD at ${this.server}: ${detail}`),
      0,
      tls
        ? 'the server certificate is not trusted; fix the certificate or set argocd-insecure: true'
        : 'check argocd-server; GitHub-hosted runners reach only a publicly exposed Argo CD, use a self-hosted runner inside the cluster network otherwise'
    )
  }

  private httpError(
    method: string,
    path: string,
    status: number,
    body: string,
    app?: { name: string; namespace?: string }
  ): ArgoCDError {
    let detail: string
    try {
      const parsed = JSON.parse(body) as { message?: string; error?: string }
      detail = parsed.message || parsed.error || ''
    } catch {
      detail = body.trim().slice(0, 300)
    }
    const suffix = detail ? `: ${redact(detail)}` : ''
    const what = app ? `Application ${app.namespace ? `${app.namespace}/` : ''}${app.name}` : path
    if (status === 401) {
      return new ArgoCDError(
        `Argo CD at ${this.server} rejected the credentials (401)${suffix}`,
        status,
        'check argocd-token: it must be a valid Argo CD API token (argocd account generate-token)'
      )
    }
    if (status === 403) {
      return new ArgoCDError(
        `Argo CD at ${this.server} denied ${method} on ${what} (403)${suffix}`,
        status,
        'check argocd-token: its account needs get, update and sync permission on the Application (Argo CD RBAC)'
      )
    }
    if (status === 404 && app) {
      return new ArgoCDError(
        `Application ${app.namespace ?? '(default namespace)'}/${app.name} not found in Argo CD at ${this.server}`,
        status,
        'check the application name and namespace (argocd-namespace input, or namespace in the step config)'
      )
    }
    return new ArgoCDError(
      `Argo CD at ${this.server}: ${method} ${path} failed with HTTP ${status}${suffix}`,
      status
    )
  }
}

function enc(s: string): string {
  return encodeURIComponent(s)
}

// ---------- conventions shared with Kargo ----------

/** Annotation on an Application delegating it to stages: `<project>:<stage>[,<project>:<stage>…]`. */
export const AUTHORIZED_STAGE_ANNOTATION = 'kargo.akuity.io/authorized-stage'
/** Operation info key naming the promotion that started a sync. */
export const PROMOTION_INFO_KEY = 'kargo.akuity.io/promotion'

/** Sources of an app, single or multi-source, as one list. */
export function appSources(app: ArgoCDApplication): ArgoCDApplicationSource[] {
  if (app.spec?.sources?.length) return app.spec.sources
  return app.spec?.source ? [app.spec.source] : []
}

export function appKey(app: ArgoCDApplication, defaultNamespace?: string): string {
  return `${app.metadata?.namespace ?? defaultNamespace ?? ''}/${app.metadata?.name ?? ''}`
}
