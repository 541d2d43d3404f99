import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { createHash, createSign, randomBytes, randomUUID, X509Certificate } from 'node:crypto'
import fs from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'

/**
 * Real registries for tests: Debian's `docker-registry` (CNCF distribution 2.8.2) on
 * 127.0.0.1 with a random port and a temporary storage directory, open, with htpasswd Basic
 * auth, or in `auth: token` mode trusting JWTs from a local token issuer (RS256, x5c header
 * with a self-signed certificate made by `openssl`). Images are pushed through the registry's
 * HTTP API with plain fetch, independently of the client under test.
 *
 * Also a small spec-faithful fake (`startFakeRegistry`) for what 2.8.2 cannot do: Link
 * pagination of tags/list, 429 with Retry-After and 5xx answers.
 */

export const DOCKER_REGISTRY = '/usr/bin/docker-registry'
export const hasDockerRegistry = fs.existsSync(DOCKER_REGISTRY)
export const skipReason = hasDockerRegistry
  ? ''
  : `SKIPPED: ${DOCKER_REGISTRY} is not installed (apt-get install docker-registry)`

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json'
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json'
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json'
export const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip'

export const sha256 = (b: Buffer | string) =>
  'sha256:' + createHash('sha256').update(b).digest('hex')

export async function freePort(): Promise<number> {
  const srv = net.createServer()
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  const port = (srv.address() as AddressInfo).port
  await new Promise<void>((r) => srv.close(() => r()))
  return port
}

/** A bcrypt htpasswd line via python3's crypt module, or undefined when unavailable. */
export function htpasswdLine(user: string, password: string): string | undefined {
  try {
    const out = execFileSync(
      'python3',
      [
        '-W',
        'ignore',
        '-c',
        'import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH)))',
        password
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }
    ).trim()
    return out.startsWith('$2') ? `${user}:${out}` : undefined
  } catch {
    return undefined
  }
}
export const hasHtpasswd = hasDockerRegistry && htpasswdLine('probe', 'probe') !== undefined

// ---------- token issuer ----------

export interface TokenIssuer {
  realm: string
  service: string
  issuer: string
  certPath: string
  /** Requests to the token endpoint, with the user that authenticated (or null). */
  requests: Array<{ user: string | null; scopes: string[]; ok: boolean }>
  /** A token granting `actions` on `repository`, signed like the endpoint's. */
  mint(access: Array<{ name: string; actions: string[] }>, subject?: string): string
  close(): Promise<void>
}

function b64url(b: Buffer | string): string {
  return Buffer.from(b).toString('base64url')
}

/**
 * The token service of distribution's token auth spec: GET <realm>?service=&scope=… with
 * optional Basic credentials → {token, access_token, expires_in, issued_at}. Known users get
 * what they ask for; anonymous users get pull on repositories listed in `anonymousPull`.
 */
export async function startTokenIssuer(opts: {
  dir: string
  users: Record<string, string>
  anonymousPull?: string[]
  expiresIn?: number
}): Promise<TokenIssuer> {
  const keyPath = path.join(opts.dir, 'issuer.key')
  const certPath = path.join(opts.dir, 'issuer.crt')
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      keyPath,
      '-out',
      certPath,
      '-days',
      '2',
      '-subj',
      '/CN=waybill-test-token-issuer'
    ],
    { stdio: 'ignore' }
  )
  const key = fs.readFileSync(keyPath, 'utf8')
  const der = new X509Certificate(fs.readFileSync(certPath)).raw
  const service = 'waybill-test-registry'
  const issuer = 'waybill-test-issuer'
  const mint = (access: Array<{ name: string; actions: string[] }>, subject = 'admin') => {
    const header = { typ: 'JWT', alg: 'RS256', x5c: [der.toString('base64')] }
    const now = Math.floor(Date.now() / 1000)
    const claims = {
      iss: issuer,
      sub: subject,
      aud: service,
      exp: now + (opts.expiresIn ?? 300),
      nbf: now - 10,
      iat: now,
      jti: randomUUID(),
      access: access.map((a) => ({ type: 'repository', ...a }))
    }
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`
    const sig = createSign('RSA-SHA256').update(input).sign(key)
    return `${input}.${b64url(sig)}`
  }
  const requests: TokenIssuer['requests'] = []
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    const scopes = url.searchParams.getAll('scope')
    let user: string | null = null
    const auth = req.headers.authorization ?? ''
    if (auth.toLowerCase().startsWith('basic ')) {
      const decoded = Buffer.from(auth.slice(6), 'base64').toString('utf8')
      const i = decoded.indexOf(':')
      const [u, p] = [decoded.slice(0, i), decoded.slice(i + 1)]
      if (opts.users[u] !== p) {
        requests.push({ user: u, scopes, ok: false })
        res.writeHead(401, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ details: 'incorrect username or password' }))
        return
      }
      user = u
    }
    requests.push({ user, scopes, ok: true })
    const access: Array<{ name: string; actions: string[] }> = []
    for (const s of scopes) {
      const [type, name, actions] = s.split(':')
      if (type !== 'repository' || !name) continue
      if (user) access.push({ name, actions: actions.split(',') })
      else if (opts.anonymousPull?.includes(name)) access.push({ name, actions: ['pull'] })
    }
    const token = mint(access, user ?? 'anonymous')
    res.writeHead(200, { 'content-type': 'application/json' })
    // Like Docker Hub: both fields; expires_in as configured.
    res.end(
      JSON.stringify({
        token,
        access_token: token,
        expires_in: opts.expiresIn ?? 300,
        issued_at: new Date().toISOString()
      })
    )
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as AddressInfo).port
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    certPath,
    requests,
    mint,
    close: () => new Promise<void>((r) => server.close(() => r()))
  }
}

// ---------- the real registry ----------

export type RegistryAuthMode = 'open' | 'htpasswd' | 'token'

export interface TestRegistry {
  /** host:port, e.g. 127.0.0.1:40123 */
  host: string
  url: string
  mode: RegistryAuthMode
  /** user → password accepted by htpasswd / the token issuer. */
  users: Record<string, string>
  issuer?: TokenIssuer
  /** Authorization header with push rights on `repository` (undefined for an open registry). */
  adminAuth(repository: string): string | undefined
  close(): Promise<void>
}

export async function startRegistry(
  opts: {
    mode?: RegistryAuthMode
    users?: Record<string, string>
    anonymousPull?: string[]
  } = {}
): Promise<TestRegistry> {
  const mode = opts.mode ?? 'open'
  const users = opts.users ?? { admin: 'admin-password-1' }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'waybill-registry-'))
  const port = await freePort()
  const host = `127.0.0.1:${port}`
  let issuer: TokenIssuer | undefined
  let auth = ''
  if (mode === 'htpasswd') {
    const lines = Object.entries(users).map(([u, p]) => htpasswdLine(u, p))
    if (lines.some((l) => !l)) throw new Error('cannot make bcrypt htpasswd lines (python3 crypt)')
    fs.writeFileSync(path.join(dir, 'htpasswd'), lines.join('\n') + '\n')
    auth = `auth:\n  htpasswd:\n    realm: waybill-test\n    path: ${path.join(dir, 'htpasswd')}\n`
  } else if (mode === 'token') {
    issuer = await startTokenIssuer({ dir, users, anonymousPull: opts.anonymousPull })
    auth =
      `auth:\n  token:\n    realm: ${issuer.realm}\n    service: ${issuer.service}\n` +
      `    issuer: ${issuer.issuer}\n    rootcertbundle: ${issuer.certPath}\n`
  }
  const config =
    `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n` +
    `storage:\n  filesystem:\n    rootdirectory: ${path.join(dir, 'data')}\n  delete:\n    enabled: true\n` +
    `http:\n  addr: ${host}\n  secret: ${randomBytes(16).toString('hex')}\n` +
    auth
  fs.writeFileSync(path.join(dir, 'config.yml'), config)
  const child: ChildProcess = spawn(DOCKER_REGISTRY, ['serve', path.join(dir, 'config.yml')], {
    stdio: ['ignore', 'ignore', 'pipe']
  })
  let stderr = ''
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()))
  const url = `http://${host}`
  const deadline = Date.now() + 15_000
  for (;;) {
    try {
      await fetch(`${url}/v2/`)
      break
    } catch {
      if (child.exitCode !== null || Date.now() > deadline)
        throw new Error(`docker-registry did not start: ${stderr.slice(-2000)}`)
      await new Promise((r) => setTimeout(r, 50))
    }
  }
  const [adminUser, adminPassword] = Object.entries(users)[0]
  return {
    host,
    url,
    mode,
    users,
    issuer,
    adminAuth(repository: string) {
      if (mode === 'htpasswd')
        return 'Basic ' + Buffer.from(`${adminUser}:${adminPassword}`).toString('base64')
      if (mode === 'token')
        return 'Bearer ' + issuer!.mint([{ name: repository, actions: ['pull', 'push'] }])
      return undefined
    },
    async close() {
      child.kill('SIGTERM')
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)))
      await issuer?.close()
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }
}

// ---------- pushing through the HTTP API ----------

interface PushTarget {
  url: string
  adminAuth(repository: string): string | undefined
}

function headers(target: PushTarget, repo: string, extra: Record<string, string> = {}) {
  const h: Record<string, string> = { ...extra }
  const a = target.adminAuth(repo)
  if (a) h.authorization = a
  return h
}

export async function uploadBlob(target: PushTarget, repo: string, data: Buffer): Promise<string> {
  const digest = sha256(data)
  const start = await fetch(`${target.url}/v2/${repo}/blobs/uploads/`, {
    method: 'POST',
    headers: headers(target, repo)
  })
  if (start.status !== 202)
    throw new Error(`blob upload start: ${start.status} ${await start.text()}`)
  const loc = new URL(start.headers.get('location')!, target.url)
  loc.searchParams.set('digest', digest)
  const put = await fetch(loc, {
    method: 'PUT',
    headers: headers(target, repo, { 'content-type': 'application/octet-stream' }),
    body: new Uint8Array(data)
  })
  if (put.status !== 201) throw new Error(`blob upload: ${put.status} ${await put.text()}`)
  return digest
}

export async function putManifest(
  target: PushTarget,
  repo: string,
  reference: string,
  manifest: object,
  mediaType: string
): Promise<string> {
  const raw = Buffer.from(JSON.stringify(manifest))
  const res = await fetch(`${target.url}/v2/${repo}/manifests/${reference}`, {
    method: 'PUT',
    headers: headers(target, repo, { 'content-type': mediaType }),
    body: new Uint8Array(raw)
  })
  if (res.status !== 201)
    throw new Error(`manifest put ${repo}:${reference}: ${res.status} ${await res.text()}`)
  return sha256(raw)
}

export interface ImageSpec {
  os?: string
  architecture?: string
  variant?: string
  /** config.created */
  created?: string
  labels?: Record<string, string>
  /** Manifest annotations. */
  annotations?: Record<string, string>
  /** Makes otherwise identical images distinct. */
  salt?: string
}

/** Pushes a single-arch image (config with created/labels/platform, one layer); returns its digest. */
export async function pushImage(
  target: PushTarget,
  repo: string,
  tags: string | string[],
  spec: ImageSpec = {}
): Promise<string> {
  const { manifest } = await buildImage(target, repo, spec)
  let digest = ''
  for (const tag of [tags].flat())
    digest = await putManifest(target, repo, tag, manifest, OCI_MANIFEST)
  return digest
}

async function buildImage(target: PushTarget, repo: string, spec: ImageSpec) {
  const layer = Buffer.from(`layer ${repo} ${spec.salt ?? ''} ${randomUUID()}`)
  const layerDigest = await uploadBlob(target, repo, layer)
  const config = Buffer.from(
    JSON.stringify({
      ...(spec.created ? { created: spec.created } : {}),
      architecture: spec.architecture ?? 'amd64',
      os: spec.os ?? 'linux',
      ...(spec.variant ? { variant: spec.variant } : {}),
      config: { Labels: spec.labels ?? {} },
      rootfs: { type: 'layers', diff_ids: [sha256(layer)] }
    })
  )
  const configDigest = await uploadBlob(target, repo, config)
  const manifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_CONFIG, digest: configDigest, size: config.length },
    layers: [{ mediaType: OCI_LAYER, digest: layerDigest, size: layer.length }],
    ...(spec.annotations ? { annotations: spec.annotations } : {})
  }
  return { manifest, size: Buffer.byteLength(JSON.stringify(manifest)) }
}

/**
 * Pushes a multi-arch OCI index of `images` plus, with `attestation`, a buildx-style
 * attestation manifest (platform unknown/unknown) first in the list.
 */
export async function pushIndex(
  target: PushTarget,
  repo: string,
  tag: string,
  images: ImageSpec[],
  opts: { attestation?: boolean; annotations?: Record<string, string> } = {}
): Promise<{ digest: string; children: string[] }> {
  const entries: object[] = []
  const children: string[] = []
  for (const spec of images) {
    const { manifest } = await buildImage(target, repo, spec)
    const d = await putManifest(
      target,
      repo,
      sha256(JSON.stringify(manifest)),
      manifest,
      OCI_MANIFEST
    )
    children.push(d)
    entries.push({
      mediaType: OCI_MANIFEST,
      digest: d,
      size: Buffer.byteLength(JSON.stringify(manifest)),
      platform: {
        os: spec.os ?? 'linux',
        architecture: spec.architecture ?? 'amd64',
        ...(spec.variant ? { variant: spec.variant } : {})
      }
    })
  }
  if (opts.attestation) {
    const statement = Buffer.from(JSON.stringify({ _type: 'https://in-toto.io/Statement/v0.1' }))
    const layerDigest = await uploadBlob(target, repo, statement)
    const config = Buffer.from('{}')
    const configDigest = await uploadBlob(target, repo, config)
    const att = {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: configDigest, size: config.length },
      layers: [
        {
          mediaType: 'application/vnd.in-toto+json',
          digest: layerDigest,
          size: statement.length,
          annotations: { 'in-toto.io/predicate-type': 'https://slsa.dev/provenance/v0.2' }
        }
      ]
    }
    const d = await putManifest(target, repo, sha256(JSON.stringify(att)), att, OCI_MANIFEST)
    entries.unshift({
      mediaType: OCI_MANIFEST,
      digest: d,
      size: Buffer.byteLength(JSON.stringify(att)),
      platform: { os: 'unknown', architecture: 'unknown' },
      annotations: {
        'vnd.docker.reference.digest': children[0],
        'vnd.docker.reference.type': 'attestation-manifest'
      }
    })
  }
  const index = {
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: entries,
    ...(opts.annotations ? { annotations: opts.annotations } : {})
  }
  const digest = await putManifest(target, repo, tag, index, OCI_INDEX)
  return { digest, children }
}

// ---------- the spec-faithful fake (pagination, 429, 5xx) ----------

export interface FakeImage {
  digest: string
  manifest: Buffer
  config: Buffer
}

/** A fake registry image: build time, distinguishing salt, manifest annotations. */
export interface FakeImageSpec {
  created?: string
  salt?: string
  annotations?: Record<string, string>
}

export interface FakeRegistry {
  host: string
  url: string
  /** Every request: method and path with query. */
  requests: Array<{ method: string; path: string }>
  /** Tags of a repository (sorted lexically, as the spec requires). */
  setTags(repo: string, tags: Record<string, FakeImageSpec>): void
  /** Adds or re-points one tag. */
  putTag(repo: string, tag: string, spec?: FakeImageSpec): string
  /** The next `times` requests whose path matches answer `status` (with Retry-After when given). */
  fail(match: RegExp, status: number, times: number, retryAfter?: string): void
  clearFailures(): void
  /** Page size used when the client asks for none or more. */
  maxPage: number
  /** Link style: relative (quay-like opaque next_page) or absolute with `last`. */
  linkStyle: 'relative' | 'absolute'
  /** Answer manifests without Docker-Content-Digest (registries predating the requirement). */
  omitDigestHeader: boolean
  close(): Promise<void>
}

/**
 * Implements, per the distribution spec, GET /v2/, GET /v2/<name>/tags/list (n, last, and a
 * `Link: <…>; rel="next"` header whenever more tags exist — the page may be shorter than n),
 * HEAD/GET manifests (Docker-Content-Digest) and GET blobs. Manifests are OCI image manifests
 * whose config carries `created`.
 */
export async function startFakeRegistry(): Promise<FakeRegistry> {
  const repos = new Map<string, Map<string, FakeImage>>()
  const blobs = new Map<string, Buffer>()
  const manifests = new Map<string, Buffer>()
  const failures: Array<{ match: RegExp; status: number; times: number; retryAfter?: string }> = []
  const requests: FakeRegistry['requests'] = []
  const makeImage = (repo: string, tag: string, spec: FakeImageSpec = {}) => {
    const config = Buffer.from(
      JSON.stringify({
        created: spec.created ?? '2024-01-01T00:00:00Z',
        architecture: 'amd64',
        os: 'linux',
        config: { Labels: {} },
        rootfs: { type: 'layers', diff_ids: [] },
        _salt: `${repo}:${tag}:${spec.salt ?? ''}`
      })
    )
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: OCI_CONFIG, digest: sha256(config), size: config.length },
        layers: [],
        ...(spec.annotations ? { annotations: spec.annotations } : {})
      })
    )
    const img = { digest: sha256(manifest), manifest, config }
    blobs.set(sha256(config), config)
    manifests.set(img.digest, manifest)
    return img
  }
  const fake: FakeRegistry = {
    host: '',
    url: '',
    requests,
    maxPage: 100,
    linkStyle: 'relative',
    omitDigestHeader: false,
    setTags(repo, tags) {
      const m = new Map<string, FakeImage>()
      for (const [t, spec] of Object.entries(tags)) m.set(t, makeImage(repo, t, spec))
      repos.set(repo, m)
    },
    putTag(repo, tag, spec) {
      if (!repos.has(repo)) repos.set(repo, new Map())
      const img = makeImage(repo, tag, spec)
      repos.get(repo)!.set(tag, img)
      return img.digest
    },
    fail(match, status, times, retryAfter) {
      failures.push({ match, status, times, retryAfter })
    },
    clearFailures() {
      failures.length = 0
    },
    close: () => new Promise<void>((r) => server.close(() => r()))
  }
  const error = (res: http.ServerResponse, status: number, code: string, message: string) => {
    res.writeHead(status, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ errors: [{ code, message }] }))
  }
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', fake.url)
    requests.push({ method: req.method ?? 'GET', path: url.pathname + url.search })
    const f = failures.find((x) => x.times > 0 && x.match.test(url.pathname + url.search))
    if (f) {
      f.times--
      const h: Record<string, string> = { 'content-type': 'application/json' }
      if (f.retryAfter !== undefined) h['retry-after'] = f.retryAfter
      res.writeHead(f.status, h)
      const code = f.status === 429 ? 'TOOMANYREQUESTS' : 'UNAVAILABLE'
      res.end(JSON.stringify({ errors: [{ code, message: `injected HTTP ${f.status}` }] }))
      return
    }
    if (url.pathname === '/v2/' || url.pathname === '/v2') {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end('{}')
      return
    }
    let m = /^\/v2\/(.+)\/tags\/list$/.exec(url.pathname)
    if (m) {
      const repo = repos.get(m[1])
      if (!repo) return error(res, 404, 'NAME_UNKNOWN', 'repository name not known to registry')
      const all = [...repo.keys()].sort()
      const nParam = url.searchParams.get('n')
      const n = Math.min(nParam === null ? fake.maxPage : parseInt(nParam, 10), fake.maxPage)
      if (n === 0) {
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ name: m[1], tags: [] }))
        return
      }
      const nextPage = url.searchParams.get('next_page')
      const cursor =
        nextPage !== null
          ? Buffer.from(nextPage, 'base64url').toString('utf8')
          : url.searchParams.get('last')
      const startAt = cursor ? all.findIndex((t) => t > cursor) : 0
      const from = startAt < 0 ? all.length : startAt
      const page = all.slice(from, from + n)
      const h: Record<string, string> = { 'content-type': 'application/json' }
      if (from + n < all.length) {
        const last = page[page.length - 1]
        h.link =
          fake.linkStyle === 'relative'
            ? `</v2/${m[1]}/tags/list?next_page=${Buffer.from(last).toString('base64url')}&n=${n}>; rel="next"`
            : `<${fake.url}/v2/${m[1]}/tags/list?n=${n}&last=${encodeURIComponent(last)}>; rel="next"`
      }
      res.writeHead(200, h)
      res.end(JSON.stringify({ name: m[1], tags: page }))
      return
    }
    m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(url.pathname)
    if (m) {
      const repo = repos.get(m[1])
      const ref = m[2]
      const raw = ref.startsWith('sha256:') ? manifests.get(ref) : repo?.get(ref)?.manifest
      if (!repo || !raw) return error(res, 404, 'MANIFEST_UNKNOWN', 'manifest unknown')
      res.writeHead(200, {
        'content-type': OCI_MANIFEST,
        'content-length': String(raw.length),
        ...(fake.omitDigestHeader ? {} : { 'docker-content-digest': sha256(raw) })
      })
      res.end(req.method === 'HEAD' ? undefined : raw)
      return
    }
    m = /^\/v2\/(.+)\/blobs\/([^/]+)$/.exec(url.pathname)
    if (m) {
      const b = blobs.get(m[2])
      if (!b) return error(res, 404, 'BLOB_UNKNOWN', 'blob unknown')
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'docker-content-digest': m[2]
      })
      res.end(req.method === 'HEAD' ? undefined : b)
      return
    }
    error(res, 404, 'UNSUPPORTED', 'not implemented by the fake')
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as AddressInfo).port
  fake.host = `127.0.0.1:${port}`
  fake.url = `http://${fake.host}`
  return fake
}
