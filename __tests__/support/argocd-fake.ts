import { existsSync, readFileSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Ajv, type ValidateFunction } from 'ajv'
import addFormatsModule from 'ajv-formats'
import { defaultServices, type Services } from '../../src/runtime/services.js'
import type { StepContext } from '../../src/steps/types.js'
import { grantCapabilities } from '../../src/steps/capabilities.js'
import { emptyState } from '../../src/state/types.js'
import { MemoryLogger } from '../../src/util/logger.js'
import { emptyFreightStatus, type Freight } from '../../src/freight/types.js'

import type {
  ArgoCDApplication,
  ArgoCDApplicationSource,
  ArgoCDInfo
} from '../../src/integrations/argocd.js'

/**
 * A fake Argo CD API server for tests. Argo CD cannot run here, so this implements the
 * Application endpoints Waybill uses, and checks every request (path and query parameters,
 * body) and every response it sends against Argo CD's own API description
 * (vendor/argocd/swagger.json, Swagger 2.0, pinned). Objects are validated strictly: a field
 * the API description does not define is a violation too. Violations are recorded and fail the
 * test through assertNoViolations().
 *
 * The controller side is a state machine the test drives: a sync starts a Running operation;
 * finishOperation() completes it (Succeeded/Failed/Error) and updates sync status, history and
 * health; setHealth() moves health; setTargetRevision() moves what a branch resolves to.
 */

const here = path.dirname(fileURLToPath(import.meta.url))
export const ARGOCD_SWAGGER_PATH = path.resolve(
  here,
  '..',
  '..',
  'vendor',
  'argocd',
  'swagger.json'
)
if (!existsSync(ARGOCD_SWAGGER_PATH)) {
  throw new Error(`${ARGOCD_SWAGGER_PATH} is missing: it is vendored (see vendor/README.md)`)
}
/** Always true: the API description is vendored. Kept for tests that still check it. */
export const argocdSwaggerAvailable = true

interface SwaggerParam {
  name: string
  in: 'path' | 'query' | 'body'
  type?: string
  required?: boolean
  items?: { type: string }
  schema?: Record<string, unknown>
}
interface SwaggerOperation {
  operationId: string
  parameters?: SwaggerParam[]
  responses: Record<string, { schema?: Record<string, unknown> }>
}
interface Swagger {
  paths: Record<string, Record<string, SwaggerOperation>>
  definitions: Record<string, Record<string, unknown>>
}

/** Every object schema without additionalProperties becomes closed: unknown fields are violations. */
function closeObjects(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(closeObjects)
  if (!node || typeof node !== 'object') return node
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(node)) {
    // "properties" maps names to schemas; every other key holds a schema or plain data.
    out[k] =
      k === 'properties'
        ? Object.fromEntries(Object.entries(v as object).map(([p, s]) => [p, closeObjects(s)]))
        : closeObjects(v)
  }
  if (out.type === 'object' && out.properties && out.additionalProperties === undefined) {
    out.additionalProperties = false
  }
  return out
}

class SwaggerValidator {
  readonly swagger: Swagger
  private readonly ajv: Ajv
  private readonly cache = new Map<string, ValidateFunction>()
  private readonly routes: Array<{ template: string; re: RegExp; names: string[] }>

  constructor(file: string) {
    this.swagger = JSON.parse(readFileSync(file, 'utf8')) as Swagger
    this.ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true })
    const addFormats =
      (addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ??
      addFormatsModule
    ;(addFormats as unknown as (a: Ajv) => void)(this.ajv)
    this.ajv.addSchema(
      { $id: 'argocd', definitions: closeObjects(this.swagger.definitions) },
      'argocd'
    )
    this.routes = Object.keys(this.swagger.paths).map((template) => {
      const names: string[] = []
      const re = new RegExp(
        '^' +
          template
            .split(/(\{[^}]+\})/)
            .map((part) => {
              const m = /^\{([^}]+)\}$/.exec(part)
              if (!m) return part.replace(/[.*+?^$()|[\]\\]/g, '\\$&')
              names.push(m[1])
              return '([^/]+)'
            })
            .join('') +
          '$'
      )
      return { template, re, names }
    })
  }

  /** Finds the documented operation for a request; literal paths beat templated ones. */
  route(
    method: string,
    pathname: string
  ): { template: string; op: SwaggerOperation; params: Record<string, string> } | undefined {
    const candidates = this.routes
      .map((r) => ({ r, m: r.re.exec(pathname) }))
      .filter((x) => x.m && this.swagger.paths[x.r.template][method.toLowerCase()])
      .sort((a, b) => a.r.names.length - b.r.names.length)
    const hit = candidates[0]
    if (!hit?.m) return undefined
    const params: Record<string, string> = {}
    hit.r.names.forEach((n, i) => (params[n] = decodeURIComponent(hit.m![i + 1])))
    return {
      template: hit.r.template,
      op: this.swagger.paths[hit.r.template][method.toLowerCase()],
      params
    }
  }

  validate(schema: Record<string, unknown>, value: unknown): string[] {
    const key = JSON.stringify(schema)
    let fn = this.cache.get(key)
    if (!fn) {
      const rewritten = JSON.parse(
        JSON.stringify(closeObjects(schema)).replace(/"#\/definitions\//g, '"argocd#/definitions/')
      ) as Record<string, unknown>
      fn = this.ajv.compile(rewritten)
      this.cache.set(key, fn)
    }
    if (fn(value)) return []
    return (fn.errors ?? []).map(
      (e) =>
        `${e.instancePath || '(root)'} ${e.message}${e.params && 'additionalProperty' in e.params ? ` '${String(e.params.additionalProperty)}'` : ''}`
    )
  }
}

export interface FakeRequest {
  method: string
  path: string
  operationId?: string
  query: Record<string, string[]>
  body?: unknown
  authorized: boolean
}

export interface FakeAppInput {
  name: string
  namespace?: string
  project?: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
  /** One source, or several (multi-source Application). */
  source?: ArgoCDApplicationSource
  sources?: ArgoCDApplicationSource[]
  syncPolicy?: NonNullable<ArgoCDApplication['spec']>['syncPolicy']
  health?: string
  healthMessage?: string
}

export interface FinishOptions {
  namespace?: string
  message?: string
  /** Health after the operation (default Progressing for Succeeded, Degraded otherwise). */
  health?: string
  healthMessage?: string
  /** False leaves reconciledAt before finishedAt (the controller has not looked since). */
  reconciled?: boolean
}

export interface ArgoCDFake {
  url: string
  requests: FakeRequest[]
  violations: string[]
  addApplication(input: FakeAppInput): ArgoCDApplication
  application(name: string, namespace?: string): ArgoCDApplication
  /** What a targetRevision (branch, tag, HEAD) of a repository resolves to from now on. */
  setTargetRevision(repoURL: string, targetRevision: string, commit: string): void
  /** An operation started outside Waybill (another user, auto-sync). */
  startOperation(
    name: string,
    opts?: { namespace?: string; infos?: ArgoCDInfo[]; username?: string }
  ): void
  finishOperation(name: string, phase: 'Succeeded' | 'Failed' | 'Error', opts?: FinishOptions): void
  setHealth(name: string, status: string, message?: string, namespace?: string): void
  setSyncStatus(name: string, status: string, revisions?: string[], namespace?: string): void
  setConditions(
    name: string,
    conditions: Array<{ type: string; message: string }>,
    namespace?: string
  ): void
  /** The next n requests fail with this status (for retry tests). */
  failNext(status: number, n?: number, retryAfter?: string): void
  /** Every response waits this long (for timeout tests). */
  delayMs: number
  assertNoViolations(): void
  reset(): void
  close(): Promise<void>
}

const DEFAULT_NS = 'argocd'

function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z')
}

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T
}

/** RFC 7396 JSON merge patch. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (!patch || typeof patch !== 'object' || Array.isArray(patch)) return patch
  const out: Record<string, unknown> =
    target && typeof target === 'object' && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {}
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k]
    else out[k] = mergePatch(out[k], v)
  }
  return out
}

/** Matches Kubernetes label selectors of the forms Waybill sends. */
export function matchesSelector(labels: Record<string, string>, selector: string): boolean {
  const terms = selector.match(/[^,(]+(\([^)]*\))?/g) ?? []
  return terms.every((raw) => {
    const t = raw.trim()
    if (!t) return true
    let m = /^([^\s!=]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(t)
    if (m) {
      const values = m[3].split(',').map((v) => v.trim())
      const has = m[1] in labels && values.includes(labels[m[1]])
      return m[2] === 'in' ? has : !has
    }
    m = /^([^\s!=]+)\s*(==|=|!=)\s*(.*)$/.exec(t)
    if (m) return m[2] === '!=' ? labels[m[1]] !== m[3] : labels[m[1]] === m[3]
    if (t.startsWith('!')) return !(t.slice(1) in labels)
    return t in labels
  })
}

export async function startArgoCDFake(opts: { token?: string } = {}): Promise<ArgoCDFake> {
  const v = new SwaggerValidator(ARGOCD_SWAGGER_PATH)
  const apps = new Map<string, ArgoCDApplication>()
  const resolver = new Map<string, string>()
  /** Revisions an operation resolved to when it started, by app key. */
  const opRevisions = new Map<string, string[]>()
  let failures: Array<{ status: number; retryAfter?: string }> = []
  let resourceVersion = 1
  const key = (name: string, ns?: string): string => `${ns || DEFAULT_NS}/${name}`

  const sourcesOf = (app: ArgoCDApplication): ArgoCDApplicationSource[] =>
    app.spec?.sources?.length ? app.spec.sources : app.spec?.source ? [app.spec.source] : []
  const resolve = (s: ArgoCDApplicationSource): string => {
    const target = s.targetRevision || 'HEAD'
    return resolver.get(`${s.repoURL}@${target}`) ?? target
  }
  const isMulti = (app: ArgoCDApplication): boolean => Boolean(app.spec?.sources?.length)
  const get = (name: string, ns?: string): ArgoCDApplication => {
    const app = apps.get(key(name, ns))
    if (!app) throw new Error(`fake: no Application ${key(name, ns)}`)
    return app
  }
  const bump = (app: ArgoCDApplication): void => {
    app.metadata!.resourceVersion = String(++resourceVersion)
  }
  const running = (app: ArgoCDApplication): boolean => {
    const phase = app.status?.operationState?.phase
    return Boolean(app.operation) || phase === 'Running' || phase === 'Terminating'
  }
  const setObserved = (app: ArgoCDApplication, revisions: string[], status: string): void => {
    app.status!.sync = isMulti(app)
      ? {
          status,
          revisions,
          comparedTo: {
            sources: clone(sourcesOf(app)),
            destination: app.spec!.destination as object
          }
        }
      : {
          status,
          revision: revisions[0],
          comparedTo: {
            source: clone(sourcesOf(app)[0]),
            destination: app.spec!.destination as object
          }
        }
  }
  /** A hard refresh: the controller re-resolves targets and compares. */
  const refresh = (app: ArgoCDApplication): void => {
    const desired = sourcesOf(app).map(resolve)
    const observed = isMulti(app)
      ? (app.status?.sync?.revisions ?? [])
      : [app.status?.sync?.revision ?? '']
    const live = app.status?.sync?.status === 'Synced' ? observed : []
    const inSync = desired.every((r, i) => live[i] === r)
    setObserved(app, desired, inSync ? 'Synced' : 'OutOfSync')
    app.status!.reconciledAt = now()
    app.status!.observedAt = app.status!.reconciledAt
  }
  const startOp = (
    app: ArgoCDApplication,
    op: NonNullable<ArgoCDApplication['operation']>
  ): void => {
    const k = key(app.metadata!.name!, app.metadata!.namespace)
    opRevisions.set(k, op.sync?.revisions?.length ? op.sync.revisions : sourcesOf(app).map(resolve))
    app.status!.operationState = {
      operation: op,
      phase: 'Running',
      message: 'waiting for completion',
      startedAt: now()
    }
    delete app.operation
    bump(app)
  }

  const fake: ArgoCDFake = {
    url: '',
    requests: [],
    violations: [],
    delayMs: 0,
    addApplication(input) {
      const ns = input.namespace ?? DEFAULT_NS
      const at = now()
      const app: ArgoCDApplication = {
        metadata: {
          name: input.name,
          namespace: ns,
          labels: input.labels ?? {},
          annotations: input.annotations ?? {},
          uid: `uid-${ns}-${input.name}`,
          resourceVersion: String(++resourceVersion),
          generation: 1,
          creationTimestamp: at
        },
        spec: {
          project: input.project ?? 'default',
          destination: { server: 'https://kubernetes.default.svc', namespace: input.name },
          ...(input.sources
            ? { sources: clone(input.sources) }
            : {
                source: clone(
                  input.source ?? {
                    repoURL: 'https://github.com/example/repo.git',
                    path: '.',
                    targetRevision: 'HEAD'
                  }
                )
              }),
          ...(input.syncPolicy ? { syncPolicy: clone(input.syncPolicy) } : {})
        },
        status: {
          health: {
            status: input.health ?? 'Healthy',
            ...(input.healthMessage ? { message: input.healthMessage } : {})
          },
          reconciledAt: at,
          observedAt: at
        }
      }
      setObserved(app, sourcesOf(app).map(resolve), 'Synced')
      apps.set(key(input.name, ns), app)
      return clone(app)
    },
    application(name, ns) {
      return clone(get(name, ns))
    },
    setTargetRevision(repoURL, targetRevision, commit) {
      resolver.set(`${repoURL}@${targetRevision}`, commit)
    },
    startOperation(name, o = {}) {
      const app = get(name, o.namespace)
      startOp(app, {
        initiatedBy: { username: o.username ?? 'someone-else' },
        ...(o.infos ? { info: o.infos } : {}),
        sync: { revisions: [] }
      })
    },
    finishOperation(name, phase, o = {}) {
      const app = get(name, o.namespace)
      const state = app.status!.operationState
      if (!state || (state.phase !== 'Running' && state.phase !== 'Terminating')) {
        throw new Error(`fake: no running operation on ${key(name, o.namespace)}`)
      }
      const revisions = opRevisions.get(key(name, o.namespace)) ?? sourcesOf(app).map(resolve)
      const at = now()
      state.phase = phase
      state.finishedAt = at
      state.message =
        o.message ??
        (phase === 'Succeeded'
          ? 'successfully synced (all tasks run)'
          : state.phase === 'Terminating'
            ? 'Operation terminated'
            : 'one or more objects failed to apply')
      state.syncResult = isMulti(app)
        ? { revisions, sources: clone(sourcesOf(app)) }
        : { revision: revisions[0], source: clone(sourcesOf(app)[0]) }
      if (phase === 'Succeeded') {
        setObserved(app, revisions, 'Synced')
        const history = (app.status!.history ??= []) as Array<Record<string, unknown>>
        history.push({
          id: history.length,
          ...(isMulti(app)
            ? { revisions, sources: clone(sourcesOf(app)) }
            : { revision: revisions[0], source: clone(sourcesOf(app)[0]) }),
          deployStartedAt: state.startedAt,
          deployedAt: at,
          initiatedBy: state.operation?.initiatedBy
        })
      } else {
        app.status!.sync = { ...app.status!.sync, status: 'OutOfSync' }
      }
      app.status!.health = {
        status: o.health ?? (phase === 'Succeeded' ? 'Progressing' : 'Degraded'),
        ...(o.healthMessage ? { message: o.healthMessage } : {}),
        lastTransitionTime: at
      }
      if (o.reconciled !== false) {
        app.status!.reconciledAt = at
      } else {
        app.status!.reconciledAt = new Date(Date.parse(at) - 60_000)
          .toISOString()
          .replace(/\.\d+Z$/, 'Z')
      }
      bump(app)
    },
    setHealth(name, status, message, ns) {
      const app = get(name, ns)
      app.status!.health = { status, ...(message ? { message } : {}), lastTransitionTime: now() }
      bump(app)
    },
    setSyncStatus(name, status, revisions, ns) {
      const app = get(name, ns)
      setObserved(app, revisions ?? sourcesOf(app).map(resolve), status)
      bump(app)
    },
    setConditions(name, conditions, ns) {
      const app = get(name, ns)
      app.status!.conditions = conditions.map((c) => ({ ...c, lastTransitionTime: now() }))
      bump(app)
    },
    failNext(status, n = 1, retryAfter) {
      for (let i = 0; i < n; i++) failures.push({ status, retryAfter })
    },
    assertNoViolations() {
      if (fake.violations.length) {
        const list = fake.violations.splice(0)
        throw new Error(`Argo CD API contract violations:\n- ${list.join('\n- ')}`)
      }
    },
    reset() {
      apps.clear()
      resolver.clear()
      opRevisions.clear()
      failures = []
      fake.requests.length = 0
      fake.delayMs = 0
    },
    close: () =>
      new Promise<void>((resolveClose) => {
        server.closeAllConnections?.()
        server.close(() => resolveClose())
      })
  }

  type Reply = { status: number; body: unknown }
  const rpcError = (status: number, code: number, message: string): Reply => ({
    status,
    body: { code, error: message, message }
  })

  const handle = (
    operationId: string,
    params: Record<string, string>,
    query: Record<string, string[]>,
    body: unknown
  ): Reply => {
    const q = (n: string): string | undefined => query[n]?.[0]
    const notFound = (name: string): Reply =>
      rpcError(404, 5, `applications.argoproj.io "${name}" not found`)
    switch (operationId) {
      case 'ApplicationService_Get': {
        const app = apps.get(key(params.name, q('appNamespace')))
        if (!app) return notFound(params.name)
        if (q('refresh') === 'hard' || q('refresh') === 'normal') refresh(app)
        return { status: 200, body: clone(app) }
      }
      case 'ApplicationService_List': {
        const ns = q('appNamespace')
        const selector = q('selector') ?? ''
        const items = [...apps.values()].filter(
          (a) =>
            (!ns || a.metadata!.namespace === ns) &&
            matchesSelector(a.metadata!.labels ?? {}, selector)
        )
        return {
          status: 200,
          body: { metadata: { resourceVersion: String(resourceVersion) }, items: clone(items) }
        }
      }
      case 'ApplicationService_Patch': {
        const b = body as {
          name?: string
          appNamespace?: string
          patch?: string
          patchType?: string
        }
        if (b.name && b.name !== params.name) {
          fake.violations.push(`PATCH body name ${b.name} differs from path name ${params.name}`)
        }
        const app = apps.get(key(params.name, b.appNamespace))
        if (!app) return notFound(params.name)
        if (b.patchType !== 'merge') {
          return rpcError(400, 3, `fake supports patchType merge only, got ${b.patchType}`)
        }
        let patch: Record<string, unknown>
        try {
          patch = JSON.parse(b.patch ?? '') as Record<string, unknown>
        } catch {
          return rpcError(400, 3, 'invalid patch: not JSON')
        }
        const next = mergePatch(clone(app), patch) as ArgoCDApplication
        const problems = v.validate({ $ref: '#/definitions/v1alpha1Application' }, next)
        if (problems.length) {
          fake.violations.push(`PATCH produced an invalid Application: ${problems.join('; ')}`)
          return rpcError(400, 3, `error unmarshaling patched app: ${problems[0]}`)
        }
        // Argo CD saves the spec, labels and annotations of the patched object.
        app.spec = next.spec
        app.metadata!.labels = next.metadata?.labels ?? {}
        app.metadata!.annotations = next.metadata?.annotations ?? {}
        app.metadata!.generation = Number(app.metadata!.generation ?? 1) + 1
        bump(app)
        return { status: 200, body: clone(app) }
      }
      case 'ApplicationService_Sync': {
        const b = body as {
          name?: string
          appNamespace?: string
          revisions?: string[]
          revision?: string
          syncOptions?: { items?: string[] }
          retryStrategy?: NonNullable<ArgoCDApplication['operation']>['retry']
          infos?: ArgoCDInfo[]
          prune?: boolean
        }
        if (b.name && b.name !== params.name) {
          fake.violations.push(`sync body name ${b.name} differs from path name ${params.name}`)
        }
        const app = apps.get(key(params.name, b.appNamespace))
        if (!app) return notFound(params.name)
        if (running(app)) return rpcError(400, 9, 'another operation is already in progress')
        startOp(app, {
          initiatedBy: { username: 'waybill' },
          ...(b.infos?.length ? { info: b.infos } : {}),
          ...(b.retryStrategy ? { retry: b.retryStrategy } : {}),
          sync: {
            ...(b.revisions?.length ? { revisions: b.revisions } : {}),
            ...(b.revision ? { revision: b.revision } : {}),
            ...(b.syncOptions?.items?.length ? { syncOptions: b.syncOptions.items } : {}),
            ...(b.prune !== undefined ? { prune: b.prune } : {})
          }
        })
        return { status: 200, body: clone(app) }
      }
      case 'ApplicationService_TerminateOperation': {
        const app = apps.get(key(params.name, q('appNamespace')))
        if (!app) return notFound(params.name)
        if (app.status?.operationState?.phase !== 'Running') {
          return rpcError(400, 9, 'Unable to terminate operation. No operation is in progress')
        }
        app.status.operationState.phase = 'Terminating'
        bump(app)
        return { status: 200, body: {} }
      }
      default:
        fake.violations.push(`fake does not implement ${operationId}`)
        return rpcError(501, 12, `${operationId} not implemented by the fake`)
    }
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://localhost')
      const method = (req.method ?? 'GET').toUpperCase()
      const query: Record<string, string[]> = {}
      for (const [k, val] of url.searchParams) (query[k] ??= []).push(val)
      const rawBody = Buffer.concat(chunks).toString('utf8')
      const authorized = !opts.token || req.headers.authorization === `Bearer ${opts.token}`
      const record: FakeRequest = { method, path: url.pathname, query, authorized }
      fake.requests.push(record)

      const send = (
        reply: Reply,
        schema?: Record<string, unknown>,
        headers: Record<string, string> = {}
      ): void => {
        if (schema) {
          const problems = v.validate(schema, reply.body)
          if (problems.length) {
            fake.violations.push(
              `response to ${method} ${url.pathname} (${reply.status}): ${problems.join('; ')}`
            )
          }
        }
        const payload = JSON.stringify(reply.body)
        setTimeout(() => {
          if (res.destroyed) return
          res.writeHead(reply.status, { 'content-type': 'application/json', ...headers })
          res.end(payload)
        }, fake.delayMs)
      }

      const route = v.route(method, url.pathname)
      if (!route) {
        fake.violations.push(`${method} ${url.pathname} is not in Argo CD's API`)
        send(rpcError(404, 5, 'Not Found'))
        return
      }
      record.operationId = route.op.operationId
      const errorSchema = route.op.responses.default?.schema
      const okSchema = route.op.responses['200']?.schema

      // Parameters.
      const declared = new Map((route.op.parameters ?? []).map((p) => [p.name, p]))
      for (const [name, values] of Object.entries(query)) {
        const p = declared.get(name)
        if (!p || p.in !== 'query') {
          fake.violations.push(`${route.op.operationId}: undeclared query parameter '${name}'`)
          continue
        }
        if (p.type !== 'array' && values.length > 1) {
          fake.violations.push(`${route.op.operationId}: query parameter '${name}' repeated`)
        }
        if (p.type === 'boolean' && values.some((x) => x !== 'true' && x !== 'false')) {
          fake.violations.push(
            `${route.op.operationId}: query parameter '${name}' is not a boolean`
          )
        }
        if (name === 'refresh' && values.some((x) => x !== 'hard' && x !== 'normal')) {
          fake.violations.push(`${route.op.operationId}: refresh must be 'hard' or 'normal'`)
        }
      }
      for (const p of route.op.parameters ?? []) {
        if (p.in === 'path' && p.required && !route.params[p.name]) {
          fake.violations.push(`${route.op.operationId}: missing path parameter '${p.name}'`)
        }
      }
      let body: unknown
      const bodyParam = (route.op.parameters ?? []).find((p) => p.in === 'body')
      if (bodyParam) {
        try {
          body = rawBody ? JSON.parse(rawBody) : undefined
        } catch {
          fake.violations.push(`${route.op.operationId}: request body is not JSON`)
        }
        if (body === undefined && bodyParam.required) {
          fake.violations.push(`${route.op.operationId}: request body is required`)
        } else if (body !== undefined && bodyParam.schema) {
          const problems = v.validate(bodyParam.schema, body)
          if (problems.length) {
            fake.violations.push(`${route.op.operationId} request body: ${problems.join('; ')}`)
          }
        }
        if (
          body !== undefined &&
          !String(req.headers['content-type'] ?? '').includes('application/json')
        ) {
          fake.violations.push(
            `${route.op.operationId}: body sent without content-type application/json`
          )
        }
      } else if (rawBody) {
        fake.violations.push(`${route.op.operationId}: takes no request body`)
      }
      record.body = body

      const failure = failures.shift()
      if (failure) {
        send(
          rpcError(failure.status, 14, `injected failure ${failure.status}`),
          errorSchema,
          failure.retryAfter ? { 'retry-after': failure.retryAfter } : {}
        )
        return
      }
      if (!authorized) {
        send(rpcError(401, 16, 'invalid session: token signature is invalid'), errorSchema)
        return
      }
      const params = { ...route.params }
      if (params['application.metadata.name']) params.name = params['application.metadata.name']
      let reply: Reply
      try {
        reply = handle(route.op.operationId, params, query, body)
      } catch (err) {
        fake.violations.push(`fake crashed on ${route.op.operationId}: ${(err as Error).message}`)
        reply = rpcError(500, 13, (err as Error).message)
      }
      send(reply, reply.status === 200 ? okSchema : errorSchema)
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return fake
}

// ---------- helpers for step tests ----------

/** Services pointing at a fake Argo CD. */
export function argocdServices(url: string, token?: string, namespace = 'argocd'): Services {
  return { ...defaultServices({}), argocd: { server: url, token, namespace } }
}

export function argocdStepContext(
  services: Services,
  over: Partial<StepContext<'argocd'>> = {}
): StepContext<'argocd'> & { logger: MemoryLogger } {
  const freight: Freight = {
    name: 'f'.repeat(40),
    alias: 'tidy-fox',
    origin: { kind: 'Warehouse', name: 'main' },
    discoveredAt: '2026-01-01T00:00:00Z',
    commits: [],
    images: [{ repoURL: 'ghcr.io/example/app', tag: '1.2.3', digest: 'sha256:' + 'a'.repeat(64) }],
    charts: [],
    status: emptyFreightStatus()
  }
  return {
    workDir: '/nonexistent',
    project: 'shop',
    stage: 'test',
    promotion: 'test.01jabc.fffffff',
    targetFreight: freight,
    freight: [freight],
    alias: 'sync',
    outputs: {},
    state: emptyState(),
    caps: grantCapabilities(['argocd'], services, { logger: new MemoryLogger() }),
    now: () => new Date(),
    ...over,
    logger: (over.logger as MemoryLogger) ?? new MemoryLogger()
  }
}
