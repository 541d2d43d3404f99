import { createHash } from 'node:crypto'
import {
  discardBody,
  httpFetch,
  HttpNetworkError,
  readBytes,
  readSnippet,
  readText,
  withRetry,
  type HttpRequestOptions,
  type Response
} from '../http/index.js'
import type { RegistryCredential, Services } from '../runtime/services.js'
import { formatDurationShort } from '../util/duration.js'
import { WaybillError } from '../util/errors.js'
import { registerSecret, type Logger } from '../util/logger.js'
import { isLoopbackHost } from '../util/net.js'
import { credentialHosts } from './reference.js'

/**
 * A small OCI Distribution API client over the HTTP layer (src/http: timeouts, TLS, proxy,
 * retries of 429/5xx honouring Retry-After): anonymous, Basic and Bearer-token auth
 * (WWW-Authenticate challenge → token endpoint, tokens cached per scope), Link-paginated tag
 * lists, manifests by HEAD (digest) or GET, blobs, uploads. Requests to one registry are limited
 * in concurrency (shared by all clients in the process); bodies are read up to a size bound.
 */

/** Registries must accept manifests up to 4 MiB (OCI distribution spec); larger ones are refused. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024
/** One page of a tag list (a page of 1000 long tags is well under 1 MiB). */
const MAX_TAG_PAGE_BYTES = 16 * 1024 * 1024
const MAX_TOKEN_BYTES = 1024 * 1024
/** Tag list pages read for one repository: 10 million tags at ECR's 1,000 a page. */
export const MAX_TAG_PAGES = 10_000
/** Tags listed for one repository; far beyond any repository discovery can sensibly order. */
export const MAX_TAGS = 500_000
/** Default bound for getBlob: layers are read into memory. */
export const MAX_BLOB_BYTES = 2 * 1024 * 1024 * 1024

export const MANIFEST_MEDIA_TYPES = {
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json'
} as const

export const MANIFEST_ACCEPT = [
  MANIFEST_MEDIA_TYPES.dockerList,
  MANIFEST_MEDIA_TYPES.dockerManifest,
  MANIFEST_MEDIA_TYPES.ociManifest,
  MANIFEST_MEDIA_TYPES.ociIndex
].join(', ')

export type RequestKind =
  | 'ping'
  | 'token'
  | 'tags'
  | 'manifest-head'
  | 'manifest-get'
  | 'manifest-put'
  | 'blob-get'
  | 'blob-head'
  | 'blob-upload'
  | 'other'

/** Counts HTTP requests by kind (retries included); tests and benchmarks assert on it. */
export class RequestStats {
  readonly counts: Record<RequestKind, number> = {
    ping: 0,
    token: 0,
    tags: 0,
    'manifest-head': 0,
    'manifest-get': 0,
    'manifest-put': 0,
    'blob-get': 0,
    'blob-head': 0,
    'blob-upload': 0,
    other: 0
  }
  add(kind: RequestKind): void {
    this.counts[kind]++
  }
  get total(): number {
    return Object.values(this.counts).reduce((a, b) => a + b, 0)
  }
  /** Manifest and blob requests (what metadata costs). */
  get manifestRequests(): number {
    return this.counts['manifest-head'] + this.counts['manifest-get']
  }
  reset(): void {
    for (const k of Object.keys(this.counts) as RequestKind[]) this.counts[k] = 0
  }
}

export interface Descriptor {
  mediaType?: string
  digest: string
  size?: number
  annotations?: Record<string, string>
  platform?: { os?: string; architecture?: string; variant?: string }
  artifactType?: string
}

export interface ManifestDocument {
  schemaVersion?: number
  mediaType?: string
  artifactType?: string
  config?: Descriptor
  layers?: Descriptor[]
  manifests?: Descriptor[]
  annotations?: Record<string, string>
  subject?: Descriptor
}

export interface FetchedManifest {
  digest: string
  mediaType: string
  raw: Buffer
  manifest: ManifestDocument
}

export interface RegistryClientOptions {
  services: Services
  logger: Logger
  stats?: RequestStats
  /** Per-request timeout (default 30 s). */
  timeoutMs?: number
  /** Retries after the first attempt on 429/5xx/network errors (default 4). */
  retries?: number
  /** Base backoff in ms, doubled per attempt (default 500). */
  retryBaseMs?: number
  /** Longest Retry-After honoured, in ms (default 60 s); longer waits fail with a rate-limit error. */
  maxRetryAfterMs?: number
  /** Concurrent requests per registry host (default 8). */
  concurrency?: number
  /** Skip TLS certificate verification (insecureSkipTLSVerify). */
  insecureSkipTLSVerify?: boolean
  /** Tag list page size requested with `n=` (default 1000; ECR's maximum). */
  pageSize?: number
  /** Most tag list pages read for one repository (default MAX_TAG_PAGES). */
  maxTagPages?: number
  /** Most tags listed for one repository (default MAX_TAGS). */
  maxTags?: number
}

interface CachedToken {
  token: string
  expiresAt: number
}

interface Challenge {
  scheme: string
  params: Record<string, string>
}

/** Parses `Bearer realm="…",service="…",scope="…"` (quoted or token values). */
export function parseWwwAuthenticate(header: string): Challenge | undefined {
  const m = /^\s*(\w+)\s*(.*)$/s.exec(header)
  if (!m) return undefined
  const params: Record<string, string> = {}
  const re = /([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g
  let p: RegExpExecArray | null
  while ((p = re.exec(m[2]))) params[p[1].toLowerCase()] = p[2]?.replace(/\\(.)/g, '$1') ?? p[3]
  return { scheme: m[1].toLowerCase(), params }
}

/** The `rel="next"` target of an RFC 5988 Link header, resolved against the request URL. */
export function nextLink(header: string | null, requestUrl: string): string | undefined {
  if (!header) return undefined
  for (const part of header.split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>(.*)$/s.exec(part)
    if (!m) continue
    if (/;\s*rel\s*=\s*"?([^";]*\s)?next(\s[^";]*)?"?\s*(;|$)/i.test(m[2]))
      return new URL(m[1], requestUrl).toString()
  }
  return undefined
}

class Semaphore {
  private active = 0
  private readonly waiting: Array<() => void> = []
  constructor(private readonly max: number) {}
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.max) await new Promise<void>((r) => this.waiting.push(r))
    this.active++
    try {
      return await fn()
    } finally {
      this.active--
      this.waiting.shift()?.()
    }
  }
}

const semaphores = new Map<string, Semaphore>()
/** Tokens by host|user|scope, shared by every client of the process (one discovery run). */
const tokenCache = new Map<string, CachedToken>()

/** Forgets cached registry tokens (tests). */
export function clearTokenCache(): void {
  tokenCache.clear()
}

interface RequestOptions {
  method?: string
  kind: RequestKind
  /** Token scope actions for this repository (default pull). */
  actions?: string
  repository?: string
  headers?: Record<string, string>
  body?: Buffer | string
  /** Statuses returned to the caller instead of raising (e.g. 404 for "absent"). */
  accept?: number[]
  /** Describes the call in errors, e.g. "listing tags of x". */
  what: string
}

export class RegistryClient {
  readonly scheme: 'http' | 'https'
  private readonly credential?: RegistryCredential
  private readonly stats?: RequestStats
  private readonly timeoutMs: number
  private readonly retries: number
  private readonly retryBaseMs: number
  private readonly maxRetryAfterMs: number
  private readonly semaphore: Semaphore
  private readonly logger: Logger
  /** Set after a Basic challenge: send credentials directly. */
  private basic = false

  constructor(
    readonly registry: string,
    private readonly opts: RegistryClientOptions
  ) {
    const insecure = opts.services.insecureRegistries.some(
      (h) => h.toLowerCase().replace(/^https?:\/\//, '') === registry
    )
    this.scheme = isLoopbackHost(registry) || insecure ? 'http' : 'https'
    for (const h of credentialHosts(registry)) {
      const c = opts.services.registryCredentials[h]
      if (c) {
        this.credential = c
        break
      }
    }
    registerSecret(this.credential?.password)
    registerSecret(this.credential?.token)
    this.stats = opts.stats
    this.logger = opts.logger
    this.timeoutMs = opts.timeoutMs ?? 30_000
    this.retries = opts.retries ?? 4
    this.retryBaseMs = opts.retryBaseMs ?? 500
    this.maxRetryAfterMs = opts.maxRetryAfterMs ?? 60_000
    let sem = semaphores.get(registry)
    if (!sem) semaphores.set(registry, (sem = new Semaphore(opts.concurrency ?? 8)))
    this.semaphore = sem
  }

  get baseUrl(): string {
    return `${this.scheme}://${this.registry}`
  }

  // ---------- public API ----------

  /**
   * Every tag of a repository, following Link pagination. Bounded: a registry that repeats a
   * next-page link, serves a page with nothing new, or goes past maxTagPages pages or maxTags
   * tags fails with an error naming it and the bound, instead of being read without end or
   * silently cut short.
   */
  async listTags(repository: string): Promise<string[]> {
    const maxPages = this.opts.maxTagPages ?? MAX_TAG_PAGES
    const maxTags = this.opts.maxTags ?? MAX_TAGS
    const tags = new Set<string>()
    const seen = new Set<string>()
    const fail = (problem: string, hint: string): never => {
      throw new WaybillError(
        `registry ${this.registry}: listing tags of ${repository} stopped after ${seen.size} page(s) and ${tags.size} tag(s): ${problem}`,
        hint
      )
    }
    let url: string | undefined =
      `${this.baseUrl}/v2/${repository}/tags/list?n=${this.opts.pageSize ?? 1000}`
    while (url) {
      if (seen.size >= maxPages)
        fail(
          `more than ${maxPages} pages (Waybill's cap)`,
          'the registry ignores the page size or the repository holds an unusual number of tags; prune old tags'
        )
      seen.add(url)
      const res = await this.request(url, {
        kind: 'tags',
        repository,
        what: `listing tags of ${repository}`
      })
      const body = parseJson<{ tags?: string[] | null }>(
        await readText(res, MAX_TAG_PAGE_BYTES),
        `the tag list of ${repository}`,
        this.registry
      )
      const before = tags.size
      for (const t of body.tags ?? []) tags.add(t)
      if (tags.size > maxTags)
        fail(
          `more than ${maxTags} tags (Waybill's cap)`,
          'prune old tags in the repository, or subscribe to a repository with fewer tags'
        )
      const next = nextLink(res.headers.get('link'), url)
      if (next && seen.has(next))
        fail(
          `the registry repeated a next-page link (${next})`,
          'the registry paginates in a loop; report it to its operator'
        )
      if (next && tags.size === before && (body.tags?.length ?? 0) > 0)
        fail(
          'a page repeated tags already listed and pointed at another page',
          'the registry paginates in a loop; report it to its operator'
        )
      url = next
    }
    return [...tags]
  }

  /** The digest of a manifest by HEAD (falls back to GET + sha256); undefined when absent. */
  async headManifest(
    repository: string,
    reference: string
  ): Promise<{ digest: string; mediaType?: string } | undefined> {
    const url = `${this.baseUrl}/v2/${repository}/manifests/${reference}`
    const res = await this.request(url, {
      method: 'HEAD',
      kind: 'manifest-head',
      repository,
      headers: { accept: MANIFEST_ACCEPT },
      accept: [404],
      what: `reading manifest ${repository}:${reference}`
    })
    if (res.status === 404) return undefined
    const digest = res.headers.get('docker-content-digest')
    if (digest) return { digest, mediaType: res.headers.get('content-type') ?? undefined }
    const full = await this.getManifest(repository, reference)
    return full && { digest: full.digest, mediaType: full.mediaType }
  }

  /** A manifest by tag or digest; undefined when absent. */
  async getManifest(repository: string, reference: string): Promise<FetchedManifest | undefined> {
    const url = `${this.baseUrl}/v2/${repository}/manifests/${reference}`
    const res = await this.request(url, {
      kind: 'manifest-get',
      repository,
      headers: { accept: MANIFEST_ACCEPT },
      accept: [404],
      what: `reading manifest ${repository}:${reference}`
    })
    if (res.status === 404) return undefined
    const raw = await readBytes(res, MAX_MANIFEST_BYTES)
    const computed = 'sha256:' + createHash('sha256').update(raw).digest('hex')
    if (reference.startsWith('sha256:') && reference !== computed)
      throw new WaybillError(
        `registry ${this.registry} returned a manifest for ${repository}@${reference} whose digest is ${computed}`,
        'the registry or a proxy altered the content; retry, or report it to the registry operator'
      )
    let manifest: ManifestDocument
    try {
      manifest = JSON.parse(raw.toString('utf8')) as ManifestDocument
    } catch {
      throw new WaybillError(
        `registry ${this.registry} returned a manifest for ${repository}:${reference} that is not JSON`
      )
    }
    const mediaType =
      manifest.mediaType ??
      res.headers.get('content-type')?.split(';')[0] ??
      MANIFEST_MEDIA_TYPES.ociManifest
    return {
      digest: res.headers.get('docker-content-digest') ?? computed,
      mediaType,
      raw,
      manifest
    }
  }

  /** A blob's bytes (verified against its digest), refused beyond `maxBytes`. */
  async getBlob(repository: string, digest: string, maxBytes = MAX_BLOB_BYTES): Promise<Buffer> {
    const url = `${this.baseUrl}/v2/${repository}/blobs/${digest}`
    const res = await this.request(url, {
      kind: 'blob-get',
      repository,
      what: `reading blob ${repository}@${digest}`
    })
    const buf = await readBytes(res, maxBytes)
    if (digest.startsWith('sha256:')) {
      const got = 'sha256:' + createHash('sha256').update(buf).digest('hex')
      if (got !== digest)
        throw new WaybillError(
          `registry ${this.registry} returned blob ${repository}@${digest} with digest ${got}`
        )
    }
    return buf
  }

  async hasBlob(repository: string, digest: string, actions = 'pull'): Promise<boolean> {
    const res = await this.request(`${this.baseUrl}/v2/${repository}/blobs/${digest}`, {
      method: 'HEAD',
      kind: 'blob-head',
      repository,
      actions,
      accept: [404],
      what: `checking blob ${repository}@${digest}`
    })
    return res.status !== 404
  }

  /** Uploads a blob (monolithic POST+PUT) unless present. */
  async pushBlob(repository: string, data: Buffer, digest?: string): Promise<string> {
    const d = digest ?? 'sha256:' + createHash('sha256').update(data).digest('hex')
    if (await this.hasBlob(repository, d, 'pull,push')) return d
    const start = await this.request(`${this.baseUrl}/v2/${repository}/blobs/uploads/`, {
      method: 'POST',
      kind: 'blob-upload',
      repository,
      actions: 'pull,push',
      what: `starting a blob upload to ${repository}`
    })
    await discardBody(start)
    const location = start.headers.get('location')
    if (!location)
      throw new WaybillError(`registry ${this.registry} gave no upload location for ${repository}`)
    const url = new URL(location, `${this.baseUrl}/v2/${repository}/blobs/uploads/`)
    url.searchParams.set('digest', d)
    const res = await this.request(url.toString(), {
      method: 'PUT',
      kind: 'blob-upload',
      repository,
      actions: 'pull,push',
      headers: { 'content-type': 'application/octet-stream' },
      body: data,
      what: `uploading blob ${d} to ${repository}`
    })
    await discardBody(res)
    return d
  }

  /** Copies a blob from another repository of this registry (cross-repo mount), else via download. */
  async copyBlob(fromRepository: string, toRepository: string, digest: string): Promise<void> {
    if (await this.hasBlob(toRepository, digest, 'pull,push')) return
    const data = await this.getBlob(fromRepository, digest)
    await this.pushBlob(toRepository, data, digest)
  }

  /** PUTs a manifest under a tag or digest; returns its digest. */
  async putManifest(
    repository: string,
    reference: string,
    raw: Buffer,
    mediaType: string
  ): Promise<string> {
    const res = await this.request(`${this.baseUrl}/v2/${repository}/manifests/${reference}`, {
      method: 'PUT',
      kind: 'manifest-put',
      repository,
      actions: 'pull,push',
      headers: { 'content-type': mediaType },
      body: raw,
      what: `pushing manifest ${repository}:${reference}`
    })
    await discardBody(res)
    return (
      res.headers.get('docker-content-digest') ??
      'sha256:' + createHash('sha256').update(raw).digest('hex')
    )
  }

  // ---------- transport ----------

  private async authHeader(repository: string | undefined, actions: string) {
    const c = this.credential
    if (this.basic && c?.username !== undefined)
      return 'Basic ' + Buffer.from(`${c.username}:${c.password ?? ''}`).toString('base64')
    if (repository) {
      const cached = tokenCache.get(this.tokenKey(repository, actions))
      if (cached && cached.expiresAt > Date.now()) return `Bearer ${cached.token}`
    }
    if (c?.token && !c.username) return `Bearer ${c.token}`
    return undefined
  }

  private tokenKey(repository: string, actions: string): string {
    return `${this.registry}|${this.credential?.username ?? ''}|repository:${repository}:${actions}`
  }

  private async fetchToken(challenge: Challenge, repository: string | undefined, actions: string) {
    const realm = challenge.params.realm
    let realmUrl: URL
    try {
      realmUrl = new URL(realm)
    } catch {
      throw new WaybillError(
        `registry ${this.registry} sent a Bearer challenge without a usable realm ('${realm ?? ''}')`
      )
    }
    if (challenge.params.service) realmUrl.searchParams.set('service', challenge.params.service)
    // The repository's own scope: the challenge's may be for /v2/ or lack push.
    const scope = repository ? `repository:${repository}:${actions}` : challenge.params.scope
    if (scope) realmUrl.searchParams.append('scope', scope)
    const headers: Record<string, string> = {}
    const c = this.credential
    if (c?.username !== undefined)
      headers.authorization =
        'Basic ' + Buffer.from(`${c.username}:${c.password ?? ''}`).toString('base64')
    else if (c?.token) headers.authorization = `Bearer ${c.token}`
    this.stats?.add('token')
    let res: Response
    try {
      res = await httpFetch(realmUrl, { headers }, this.transport())
    } catch (err) {
      throw this.networkError(err, `requesting a token from ${realmUrl.host}`)
    }
    if (res.status === 401 || res.status === 403) {
      await discardBody(res)
      throw new WaybillError(
        `the token service ${realmUrl.host} for registry ${this.registry} refused the credentials (HTTP ${res.status})`,
        c
          ? `check registry-credentials for ${this.registry}`
          : `the repository needs credentials: add a registry-credentials line for ${this.registry}`
      )
    }
    if (!res.ok) {
      await discardBody(res)
      throw new WaybillError(
        `the token service ${realmUrl.host} for registry ${this.registry} failed (HTTP ${res.status})`,
        'retry later'
      )
    }
    const body = parseJson<{ token?: string; access_token?: string; expires_in?: number }>(
      await readText(res, MAX_TOKEN_BYTES),
      `the token from ${realmUrl.host}`,
      this.registry
    )
    const token = body.token ?? body.access_token
    if (!token)
      throw new WaybillError(`the token service ${realmUrl.host} returned no token`, undefined)
    registerSecret(token)
    const ttl = Math.max(10, (body.expires_in ?? 60) - 5) * 1000
    if (repository)
      tokenCache.set(this.tokenKey(repository, actions), { token, expiresAt: Date.now() + ttl })
    return `Bearer ${token}`
  }

  private transport(): HttpRequestOptions {
    return {
      timeoutMs: this.timeoutMs,
      insecureSkipTLSVerify: this.opts.insecureSkipTLSVerify && this.scheme === 'https'
    }
  }

  private networkError(err: unknown, what: string): unknown {
    if (!(err instanceof HttpNetworkError)) return err
    if (err.timedOut)
      return new WaybillError(
        `registry ${this.registry} did not answer within ${formatDurationShort(this.timeoutMs)} while ${what}`,
        'the registry is slow or unreachable; retry later'
      )
    const tlsHint =
      this.scheme === 'https' && /CERT|SSL|TLS|self.signed/i.test(err.detail)
        ? `; for a registry with a private CA set insecureSkipTLSVerify, for plain HTTP add ${this.registry} to insecure-registries`
        : ''
    return new WaybillError(
      `cannot reach registry ${this.registry} (${this.scheme}) while ${what}: ${err.detail}`,
      `check the registry host and port, and the network${tlsHint}`
    )
  }

  /** One API call with auth, retries, timeout and the per-registry concurrency limit. */
  async request(url: string, o: RequestOptions): Promise<Response> {
    return this.semaphore.run(() => this.requestWithRetry(url, o))
  }

  private async requestWithRetry(url: string, o: RequestOptions): Promise<Response> {
    const actions = o.actions ?? 'pull'
    for (let authTried = false; ; authTried = true) {
      const auth = await this.authHeader(o.repository, actions)
      let res: Response
      try {
        res = await withRetry(() => this.send(url, o, auth), {
          retries: this.retries,
          retryBaseMs: this.retryBaseMs,
          maxRetryAfterMs: this.maxRetryAfterMs,
          onRetry: ({ waitMs, status, error }) =>
            this.logger.debug(
              `registry ${this.registry}: ${status ? `HTTP ${status}` : error?.detail} while ${o.what}; retrying in ${Math.round(waitMs)}ms`
            )
        })
      } catch (err) {
        throw this.networkError(err, o.what)
      }
      if (res.status === 401 && !authTried) {
        const challenge = parseWwwAuthenticate(res.headers.get('www-authenticate') ?? '')
        await discardBody(res)
        if (challenge?.scheme === 'bearer') {
          await this.fetchToken(challenge, o.repository, actions)
          continue
        }
        if (challenge?.scheme === 'basic' && this.credential?.username !== undefined) {
          this.basic = true
          continue
        }
        throw this.statusError(401, o)
      }
      if (res.ok || o.accept?.includes(res.status)) return res
      throw this.statusError(res.status, o, await readSnippet(res))
    }
  }

  private async send(url: string, o: RequestOptions, auth: string | undefined): Promise<Response> {
    let current = url
    for (let hop = 0; hop < 5; hop++) {
      this.stats?.add(hop === 0 ? o.kind : 'other')
      const headers: Record<string, string> = { ...o.headers }
      // Never forward Authorization across hosts (blob redirects to a CDN).
      if (auth && new URL(current).host === this.registry) headers.authorization = auth
      const res = await httpFetch(
        current,
        { method: o.method ?? 'GET', headers, body: o.body, redirect: 'manual' },
        this.transport()
      )
      if (res.status >= 300 && res.status < 400 && res.headers.get('location')) {
        await discardBody(res)
        current = new URL(res.headers.get('location')!, current).toString()
        continue
      }
      return res
    }
    throw new WaybillError(`registry ${this.registry} redirected too often while ${o.what}`)
  }

  private statusError(status: number, o: RequestOptions, detail = ''): WaybillError {
    const host = this.registry
    const extra = registryErrorDetail(detail)
    const what = `${o.what} on ${host}`
    if (
      (status === 401 || status === 403) &&
      host === 'ghcr.io' &&
      this.credential?.username === 'x-access-token'
    )
      return new WaybillError(
        `registry ${host} denied access (HTTP ${status}) while ${o.what}${extra}`,
        `GITHUB_TOKEN may not read this package: give the workflow permissions: packages: read, and on the package page use Package settings → Manage Actions access to add this repository (Read); for another organisation's package set registry-credentials: ghcr.io=<user>:<token with read:packages>`
      )
    if (status === 401 || status === 403)
      return new WaybillError(
        `registry ${host} denied access (HTTP ${status}) while ${o.what}${extra}`,
        this.credential
          ? `check registry-credentials for ${host} (the credentials were rejected or lack ${o.actions ?? 'pull'} permission)`
          : `add credentials for ${host} to registry-credentials (host=username:password)`
      )
    if (status === 404)
      return new WaybillError(
        `repository ${o.repository ?? ''} not found on registry ${host} (HTTP 404) while ${o.what}${extra}`,
        `check repoURL (Docker Hub official images are under library/, e.g. library/nginx)`
      )
    if (status === 429)
      return new WaybillError(
        `registry ${host} rate-limited ${what} (HTTP 429)${extra}`,
        `retry later; authenticated requests get higher limits: add registry-credentials for ${host}`
      )
    if (status >= 500)
      return new WaybillError(
        `registry ${host} failed (HTTP ${status}) while ${o.what} after ${this.retries + 1} attempts${extra}`,
        'the registry has a problem; retry later'
      )
    return new WaybillError(`registry ${host} answered HTTP ${status} while ${o.what}${extra}`)
  }
}

function parseJson<T>(text: string, what: string, registry: string): T {
  try {
    return JSON.parse(text) as T
  } catch {
    throw new WaybillError(`registry ${registry} returned ${what} that is not JSON`)
  }
}

/** The first error message of a Distribution error body (`{"errors":[{code,message}]}`). */
function registryErrorDetail(body: string): string {
  if (!body) return ''
  try {
    const e = (JSON.parse(body) as { errors?: Array<{ code?: string; message?: string }> })
      .errors?.[0]
    if (e) return `: ${e.code ?? ''}${e.message ? ` ${e.message}` : ''}`.trimEnd()
  } catch {
    /* not JSON */
  }
  return `: ${body.slice(0, 200).trim()}`
}

/** One client per registry host for a discovery run. */
export class RegistryClients {
  private readonly clients = new Map<string, RegistryClient>()
  constructor(private readonly opts: RegistryClientOptions) {}
  get(registry: string, extra: Partial<RegistryClientOptions> = {}): RegistryClient {
    const key = `${registry}|${extra.insecureSkipTLSVerify ? 1 : 0}`
    let c = this.clients.get(key)
    if (!c) this.clients.set(key, (c = new RegistryClient(registry, { ...this.opts, ...extra })))
    return c
  }
}
