import { spawnSync } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { createRequire } from 'node:module'
import path from 'node:path'
import { jest } from '@jest/globals'
import type { Context, Document } from 'openapi-backend'

/*
 * openapi-backend is CommonJS but requires @apidevtools/json-schema-ref-parser, which is ESM-only:
 * Jest's CommonJS loader cannot require it. Stand in for it with a CommonJS-shaped module whose
 * functions dynamically import the real (ESM) one, so the real parser still does the work.
 */
jest.mock('@apidevtools/json-schema-ref-parser', () => {
  const real = async () =>
    (await import('@apidevtools/json-schema-ref-parser')) as unknown as {
      default: Record<string, (...a: unknown[]) => Promise<unknown>>
    }
  const call =
    (name: string) =>
    async (...args: unknown[]) => {
      const mod = (await real()).default
      return mod[name].bind(mod)(...args)
    }
  return {
    __esModule: true,
    default: { dereference: call('dereference'), parse: call('parse'), resolve: call('resolve') }
  }
})

/**
 * A fake of GitHub's REST API for tests, on 127.0.0.1:<random port>. Routing and validation come
 * from GitHub's official OpenAPI description (the `@octokit/openapi` package): every request is
 * validated against the operation's parameters and body, and every response the fake sends is
 * validated against the operation's response schema for that status. A violation is answered
 * with an error and recorded in `violations`; call `assertNoViolations()` in afterAll/afterEach.
 *
 * State is real: repositories are bare repos on disk (the same ones git-http.ts serves), pull
 * requests merge with real git, and the Git Data API writes real objects.
 */

// ---------- the OpenAPI document, reduced to what the fake implements ----------

export const FAKE_OPERATIONS = [
  'repos/get',
  'repos/compare-commits-with-basehead',
  'pulls/list',
  'pulls/create',
  'pulls/get',
  'pulls/update',
  'pulls/merge',
  'issues/add-labels',
  'issues/create-comment',
  'git/create-blob',
  'git/create-tree',
  'git/create-commit',
  'git/get-commit',
  'git/get-ref',
  'git/create-ref',
  'git/update-ref',
  'git/delete-ref',
  'repos/create-deployment',
  'repos/list-deployments',
  'repos/create-deployment-status',
  'repos/list-deployment-statuses',
  'repos/create-commit-status',
  'repos/list-commit-statuses-for-ref',
  'repos/get-combined-status-for-ref',
  'checks/list-for-ref',
  'actions/create-workflow-dispatch',
  'actions/list-workflow-runs',
  'actions/get-workflow-run',
  'apps/get-repo-installation',
  'apps/create-installation-access-token',
  'teams/get-membership-for-user-in-org',
  'repos/get-collaborator-permission-level',
  'users/get-by-username'
] as const
type OperationId = (typeof FAKE_OPERATIONS)[number]

type Json = Record<string, unknown>
let cachedDoc: Json | undefined

/**
 * Loads GitHub's description once per process and keeps only the implemented operations and the
 * components they reference (transitively), so openapi-backend starts fast.
 */
export function githubApiSubset(): Json {
  if (cachedDoc) return cachedDoc
  const require = createRequire(import.meta.url)
  const pkgDir = path.dirname(require.resolve('@octokit/openapi/package.json'))
  const full = JSON.parse(
    fs.readFileSync(path.join(pkgDir, 'generated', 'api.github.com.json'), 'utf8')
  ) as Json
  const wanted = new Set<string>(FAKE_OPERATIONS)
  const paths: Json = {}
  const refs = new Set<string>()
  const collect = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(collect)
    else if (node && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) {
        if (k === '$ref' && typeof v === 'string') refs.add(v)
        else if (k !== 'examples' && k !== 'example') collect(v)
      }
    }
  }
  /**
   * Drops examples, and rewrites `nullable` without `type` (valid OpenAPI 3.0, which ajv refuses)
   * into the equivalent `anyOf: [schema, {type: 'null'}]`.
   */
  const stripExamples = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(stripExamples)
    if (node && typeof node === 'object') {
      const out: Json = {}
      for (const [k, v] of Object.entries(node)) {
        if (k === 'examples' || k === 'example') continue
        out[k] = stripExamples(v)
      }
      if (out.nullable === true && out.type === undefined) {
        const { nullable: _n, description, ...rest } = out
        return {
          ...(description !== undefined ? { description } : {}),
          anyOf: [rest, { type: 'null' }]
        }
      }
      return out
    }
    return node
  }
  for (const [p, ops] of Object.entries(full.paths as Record<string, Json>)) {
    for (const [method, op] of Object.entries(ops)) {
      const id = (op as { operationId?: string }).operationId
      if (!id || !wanted.has(id)) continue
      const clean = stripExamples(op) as Json
      ;((paths[p] ??= {}) as Json)[method] = clean
      collect(clean)
      wanted.delete(id)
    }
  }
  if (wanted.size) throw new Error(`GitHub's description lacks ${[...wanted].join(', ')}`)
  const components: Record<string, Json> = {}
  const fullComponents = full.components as Record<string, Json>
  const queue = [...refs]
  const done = new Set<string>()
  while (queue.length) {
    const ref = queue.pop()!
    if (done.has(ref)) continue
    done.add(ref)
    const [, , kind, name] = ref.split('/')
    const value = stripExamples(fullComponents[kind]?.[name])
    if (value === undefined) throw new Error(`unresolved ${ref}`)
    ;(components[kind] ??= {})[name] = value
    const before = refs.size
    collect(value)
    if (refs.size !== before) for (const r of refs) if (!done.has(r)) queue.push(r)
  }
  cachedDoc = {
    openapi: full.openapi,
    info: full.info,
    paths,
    components
  }
  return cachedDoc
}

// ---------- sample values that satisfy a schema ----------

function resolve(doc: Json, schema: Json): Json {
  let s = schema
  while (typeof s.$ref === 'string') {
    const [, , kind, name] = s.$ref.split('/')
    s = (doc.components as Record<string, Json>)[kind][name] as Json
  }
  return s
}

/** The smallest value valid for `schema`: required properties only, nulls where allowed. */
export function sampleFor(doc: Json, schemaIn: Json, depth = 0): unknown {
  const schema = resolve(doc, schemaIn)
  if (depth > 40) return null
  if (schema.allOf) {
    return Object.assign(
      {},
      ...(schema.allOf as Json[]).map((s) => sampleFor(doc, s, depth + 1) as Json)
    )
  }
  if (schema.oneOf) return sampleFor(doc, (schema.oneOf as Json[])[0], depth + 1)
  if (schema.anyOf) return sampleFor(doc, (schema.anyOf as Json[])[0], depth + 1)
  if (schema.nullable) return null
  if (Array.isArray(schema.enum)) return schema.enum[0]
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type
  switch (type) {
    case 'object': {
      const out: Json = {}
      const props = (schema.properties ?? {}) as Record<string, Json>
      for (const k of (schema.required ?? []) as string[]) {
        out[k] = props[k] ? sampleFor(doc, props[k], depth + 1) : null
      }
      return out
    }
    case 'array':
      return []
    case 'integer':
    case 'number':
      return typeof schema.minimum === 'number' ? schema.minimum : 0
    case 'boolean':
      return false
    case 'string':
      switch (schema.format) {
        case 'date-time':
          return '2026-01-01T00:00:00Z'
        case 'uri':
        case 'url':
          return 'https://github.invalid/'
        case 'email':
          return 'nobody@github.invalid'
        default:
          return ''
      }
    default:
      return null
  }
}

/** Deep-merges plain objects (arrays and scalars in `over` replace). */
function overlay<T>(base: T, over: unknown): T {
  if (over === undefined) return base
  if (
    base &&
    over &&
    typeof base === 'object' &&
    typeof over === 'object' &&
    !Array.isArray(base) &&
    !Array.isArray(over)
  ) {
    const out: Json = { ...(base as Json) }
    for (const [k, v] of Object.entries(over as Json)) out[k] = overlay(out[k], v)
    return out as T
  }
  return over as T
}

// ---------- state ----------

export interface FakeRepo {
  owner: string
  name: string
  /** Path of the bare repository. */
  bare: string
  id: number
}

export interface FakePull {
  repo: string
  number: number
  id: number
  title: string
  body: string | null
  head: string
  base: string
  headSha: string
  baseSha: string
  state: 'open' | 'closed'
  merged: boolean
  mergeCommitSha: string | null
  mergedAt: string | null
  closedAt: string | null
  createdAt: string
  updatedAt: string
  labels: string[]
  draft: boolean
  /** Comments on the pull request (issues/create-comment), oldest first. */
  comments: string[]
}

export interface FakeDeployment {
  repo: string
  id: number
  sha: string
  ref: string
  task: string
  environment: string
  description: string | null
  payload: unknown
  createdAt: string
  statuses: Array<{
    id: number
    state: string
    description: string
    environment_url?: string
    log_url?: string
    createdAt: string
  }>
}

export interface FakeCommitStatus {
  repo: string
  sha: string
  id: number
  state: 'error' | 'failure' | 'pending' | 'success'
  context: string
  description: string | null
  target_url: string | null
  createdAt: string
}

export interface FakeCheckRun {
  repo: string
  sha: string
  id: number
  name: string
  status: 'queued' | 'in_progress' | 'completed'
  conclusion:
    | 'success'
    | 'failure'
    | 'neutral'
    | 'cancelled'
    | 'skipped'
    | 'timed_out'
    | 'action_required'
    | null
}

/** A workflow file of a repository (`.github/workflows/<file>`). */
export interface FakeWorkflow {
  repo: string
  id: number
  /** `.github/workflows/deploy.yml`. */
  path: string
  name: string
  /** Whether it has an `on: workflow_dispatch` trigger. */
  dispatchable: boolean
}

/** A run of a workflow; tests move it along with `fake.finishRun` or by editing it. */
export interface FakeWorkflowRun {
  repo: string
  id: number
  workflowId: number
  runNumber: number
  event: string
  headBranch: string
  headSha: string
  status: 'queued' | 'in_progress' | 'waiting' | 'completed'
  conclusion: FakeCheckRun['conclusion'] | 'stale' | null
  /** The dispatch's inputs, as sent. */
  inputs: Record<string, unknown>
  createdAt: string
  updatedAt: string
}

export interface FakeRequest {
  method: string
  path: string
  operationId?: string
  status: number
  body?: unknown
  authorized: boolean
}

export interface GitHubFake {
  /** API base URL (services.github.apiUrl). */
  url: string
  /** Web base URL used in html_url fields. */
  serverUrl: string
  repos: Map<string, FakeRepo>
  pulls: FakePull[]
  deployments: FakeDeployment[]
  statuses: FakeCommitStatus[]
  checkRuns: FakeCheckRun[]
  workflows: FakeWorkflow[]
  workflowRuns: FakeWorkflowRun[]
  /**
   * Answer workflow dispatches with 204 and no run details, as servers before
   * `return_run_details` do (GitHub Enterprise Server); default false (GitHub.com's 200).
   */
  legacyDispatch: boolean
  /**
   * Operations answered 403 "Resource not accessible by integration", as GitHub answers a token
   * without the permission the endpoint needs (any endpoint can; descriptions do not list it).
   */
  forbidden: Set<string>
  requests: FakeRequest[]
  /** Request/response schema violations and fake errors; must stay empty. */
  violations: string[]
  /** Commits created through the API that GitHub would sign (no committer given). */
  verifiedCommits: Set<string>
  /** Installation tokens minted for the GitHub App, with their expiry (ms since epoch). */
  installationTokens: Map<string, number>
  /** Users by login (users/get-by-username): their public email, if any. */
  users: Map<string, { email?: string }>
  /** Team members by `org/team-slug` (teams/get-membership-for-user-in-org). */
  teams: Map<string, Set<string>>
  /** Repository roles by `owner/repo` then login: admin, maintain, write, triage, read or a custom role. */
  collaborators: Map<string, Map<string, string>>
  addRepo(owner: string, name: string, bare: string): FakeRepo
  pull(number: number, repo?: string): FakePull
  closePull(number: number, repo?: string): void
  /** Merges as GitHub would (a real merge commit on the base branch); returns the merge sha. */
  mergePull(number: number, repo?: string, method?: 'merge' | 'squash' | 'rebase'): string
  addCheckRun(repo: string, run: Omit<FakeCheckRun, 'repo' | 'id'>): FakeCheckRun
  addWorkflow(
    repo: string,
    file: string,
    opts?: { name?: string; dispatchable?: boolean }
  ): FakeWorkflow
  /** Completes a run with a conclusion. */
  finishRun(id: number, conclusion: NonNullable<FakeWorkflowRun['conclusion']>): FakeWorkflowRun
  /** Test hook: rewrites a response body before it is validated (to prove validation bites). */
  tamper?: (operationId: string, body: unknown) => unknown
  assertNoViolations(): void
  close(): Promise<void>
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: Json
  ) {
    super(String(body.message))
  }
}

function gitRun(bare: string, args: string[], opts: { input?: string | Buffer; env?: Json } = {}) {
  const res = spawnSync('git', ['--git-dir', bare, ...args], {
    input: opts.input,
    env: { ...process.env, ...(opts.env as NodeJS.ProcessEnv) }
  })
  return {
    code: res.status ?? 1,
    stdout: res.stdout.toString('utf8').trim(),
    stderr: res.stderr.toString('utf8')
  }
}

function gitOk(bare: string, args: string[], opts: { input?: string | Buffer; env?: Json } = {}) {
  const res = gitRun(bare, args, opts)
  if (res.code !== 0) throw new Error(`fake GitHub: git ${args.join(' ')} failed: ${res.stderr}`)
  return res.stdout
}

function revParse(bare: string, ref: string): string | undefined {
  const res = gitRun(bare, ['rev-parse', '-q', '--verify', `${ref}^{commit}`])
  return res.code === 0 ? res.stdout : undefined
}

const notFound = () =>
  new HttpError(404, {
    message: 'Not Found',
    documentation_url: 'https://docs.github.com/rest',
    status: '404'
  })
const validationFailed = (message: string, errors: Json[] = []) =>
  new HttpError(422, { message, errors, documentation_url: 'https://docs.github.com/rest' })

/** A GitHub App the fake knows: JWTs signed with its private key are checked with `publicKey`. */
export interface FakeGitHubApp {
  id: number
  /** PEM public key of the app's key pair. */
  publicKey: string
  installationId: number
  /** Lifetime of minted installation tokens (GitHub: one hour). */
  tokenTtlMs?: number
}

/**
 * Verifies a GitHub App JWT as GitHub does: RS256 over header.payload with the app's public key,
 * `iss` = the app ID, `iat` not in the future (60 s skew), `exp` in the future and at most ten
 * minutes after `iat`. Returns why it is refused, or undefined when valid.
 */
export function jwtProblem(
  jwt: string,
  app: FakeGitHubApp,
  nowMs = Date.now()
): string | undefined {
  const parts = jwt.split('.')
  if (parts.length !== 3) return 'not a JWT'
  const [h, p, sig] = parts
  let header: Json
  let payload: Json
  try {
    header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as Json
    payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Json
  } catch {
    return 'JWT is not JSON'
  }
  if (header.alg !== 'RS256') return `alg ${String(header.alg)} is not RS256`
  const ok = crypto.verify(
    'RSA-SHA256',
    Buffer.from(`${h}.${p}`),
    app.publicKey,
    Buffer.from(sig, 'base64url')
  )
  if (!ok) return 'signature does not verify with the app public key'
  if (String(payload.iss) !== String(app.id)) return `iss ${String(payload.iss)} is not the app ID`
  const now = Math.floor(nowMs / 1000)
  const iat = Number(payload.iat)
  const exp = Number(payload.exp)
  if (!(iat <= now + 60))
    return "'Issued at' claim ('iat') must be an Integer representing a time in the past"
  if (!(exp > now)) return "'Expiration time' claim ('exp') is too far in the past"
  if (exp - iat > 600) return "'Expiration time' claim ('exp') is too far in the future"
  return undefined
}

export async function startGitHubFake(
  opts: { token?: string; gitUrl?: string; app?: FakeGitHubApp } = {}
): Promise<GitHubFake> {
  const doc = githubApiSubset()
  const { OpenAPIBackend } = await import('openapi-backend')
  const addFormats = (await import('ajv-formats')).default as unknown as (ajv: unknown) => unknown
  const api = new OpenAPIBackend({
    definition: doc as unknown as Document,
    strict: false,
    quick: false,
    validate: true,
    coerceTypes: true,
    customizeAjv: (ajv) => {
      addFormats(ajv)
      // GitHub's own format for `owner/name`.
      ;(ajv as unknown as { addFormat(n: string, r: RegExp): void }).addFormat(
        'repo.nwo',
        /^[\w.-]+\/[\w.-]+$/
      )
      return ajv
    }
  })
  const t0 = Date.now()
  await api.init()
  if (process.env.WAYBILL_FAKE_TIMING) console.log(`fake GitHub init ${Date.now() - t0}ms`)

  let serverUrl = ''
  let apiUrl = ''
  let nextId = 1000
  const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z')
  const fake: GitHubFake = {
    url: '',
    serverUrl: '',
    repos: new Map(),
    pulls: [],
    deployments: [],
    statuses: [],
    checkRuns: [],
    workflows: [],
    workflowRuns: [],
    legacyDispatch: false,
    forbidden: new Set(),
    requests: [],
    violations: [],
    verifiedCommits: new Set(),
    installationTokens: new Map(),
    users: new Map(),
    teams: new Map(),
    collaborators: new Map(),
    addRepo(owner, name, bare) {
      const r = { owner, name, bare, id: nextId++ }
      fake.repos.set(`${owner}/${name}`, r)
      return r
    },
    pull(number, repo) {
      const p = fake.pulls.find((x) => x.number === number && (!repo || x.repo === repo))
      if (!p) throw new Error(`fake GitHub: no pull request #${number}`)
      return p
    },
    closePull(number, repo) {
      const p = fake.pull(number, repo)
      p.state = 'closed'
      p.closedAt = p.updatedAt = now()
    },
    mergePull(number, repo, method = 'merge') {
      const p = fake.pull(number, repo)
      return doMerge(p, method, `Merge pull request #${p.number} from ${p.head}`)
    },
    addCheckRun(repo, run) {
      const r = { ...run, repo, id: nextId++ }
      fake.checkRuns.push(r)
      return r
    },
    addWorkflow(repo, file, o = {}) {
      const w: FakeWorkflow = {
        repo,
        id: nextId++,
        path: `.github/workflows/${file}`,
        name: o.name ?? file.replace(/\.ya?ml$/, ''),
        dispatchable: o.dispatchable ?? true
      }
      fake.workflows.push(w)
      return w
    },
    finishRun(id, conclusion) {
      const run = fake.workflowRuns.find((r) => r.id === id)
      if (!run) throw new Error(`fake GitHub: no workflow run ${id}`)
      run.status = 'completed'
      run.conclusion = conclusion
      run.updatedAt = now()
      return run
    },
    assertNoViolations() {
      const found = fake.violations.splice(0)
      if (found.length) throw new Error(`fake GitHub saw violations:\n${found.join('\n')}`)
    },
    close: async () => {}
  }

  const repoOf = (c: Context): FakeRepo => {
    const { owner, repo } = c.request.params as Record<string, string>
    const r = fake.repos.get(`${owner}/${repo}`)
    if (!r) throw notFound()
    return r
  }
  const body = (c: Context) => (c.request.requestBody ?? {}) as Json
  const schemaSample = (name: string) =>
    sampleFor(doc, { $ref: `#/components/schemas/${name}` }) as Json

  const user = (login = 'waybill-bot') =>
    overlay(schemaSample('simple-user'), {
      login,
      id: 1,
      node_id: 'U_1',
      type: 'Bot',
      url: `${apiUrl}/users/${login}`,
      html_url: `${serverUrl}/${login}`,
      avatar_url: `${serverUrl}/${login}.png`
    })
  const repoJson = (r: FakeRepo, schema = 'repository') =>
    overlay(schemaSample(schema), {
      id: r.id,
      node_id: `R_${r.id}`,
      name: r.name,
      full_name: `${r.owner}/${r.name}`,
      owner: user(r.owner),
      private: false,
      html_url: `${serverUrl}/${r.owner}/${r.name}`,
      url: `${apiUrl}/repos/${r.owner}/${r.name}`,
      clone_url: `${opts.gitUrl ?? serverUrl}/${r.owner}/${r.name}.git`,
      default_branch: gitRun(r.bare, ['symbolic-ref', '--short', 'HEAD']).stdout || 'main',
      visibility: 'public'
    })
  const labelJson = (name: string) =>
    overlay(schemaSample('label'), {
      id: 1,
      node_id: 'LA_1',
      url: `${apiUrl}/labels/${encodeURIComponent(name)}`,
      name,
      color: 'ededed',
      description: '',
      default: false
    })

  const refresh = (p: FakePull) => {
    if (p.state !== 'open') return
    const r = fake.repos.get(p.repo)!
    p.headSha = revParse(r.bare, `refs/heads/${p.head}`) ?? p.headSha
    p.baseSha = revParse(r.bare, `refs/heads/${p.base}`) ?? p.baseSha
  }
  /** A real merge of head into base: the tree it would produce, or undefined on conflicts. */
  const mergeTree = (p: FakePull): string | undefined => {
    const r = fake.repos.get(p.repo)!
    const res = gitRun(r.bare, [
      'merge-tree',
      '--write-tree',
      '--no-messages',
      p.baseSha,
      p.headSha
    ])
    return res.code === 0 ? res.stdout.split('\n')[0] : undefined
  }
  const mergeable = (p: FakePull): boolean | null => {
    if (p.state !== 'open') return null
    refresh(p)
    return mergeTree(p) !== undefined
  }
  const doMerge = (p: FakePull, method: string, title: string, message?: string): string => {
    const r = fake.repos.get(p.repo)!
    refresh(p)
    if (p.state !== 'open') throw new HttpError(405, { message: 'Pull Request is not mergeable' })
    const tree = mergeTree(p)
    if (!tree) throw new HttpError(405, { message: 'Pull Request is not mergeable' })
    const env = {
      GIT_AUTHOR_NAME: 'GitHub',
      GIT_AUTHOR_EMAIL: 'noreply@github.com',
      GIT_COMMITTER_NAME: 'GitHub',
      GIT_COMMITTER_EMAIL: 'noreply@github.com'
    }
    const msg = message ? `${title}\n\n${message}` : title
    let sha: string
    if (method === 'merge') {
      sha = gitOk(r.bare, ['commit-tree', tree, '-p', p.baseSha, '-p', p.headSha, '-F', '-'], {
        input: msg,
        env
      })
    } else if (method === 'squash') {
      sha = gitOk(r.bare, ['commit-tree', tree, '-p', p.baseSha, '-F', '-'], { input: msg, env })
    } else {
      // rebase: replay each commit of the PR on top of base, keeping authors.
      sha = p.baseSha
      const commits = gitOk(r.bare, ['rev-list', '--reverse', `${p.baseSha}..${p.headSha}`])
        .split('\n')
        .filter(Boolean)
      for (const c of commits) {
        const t = gitRun(r.bare, ['merge-tree', '--write-tree', '--no-messages', sha, c])
        if (t.code !== 0) throw new HttpError(405, { message: 'Pull Request is not mergeable' })
        const info = gitOk(r.bare, ['log', '-1', '--format=%an%x00%ae%x00%aI%x00%B', c]).split('\0')
        sha = gitOk(r.bare, ['commit-tree', t.stdout.split('\n')[0], '-p', sha, '-F', '-'], {
          input: info[3],
          env: {
            ...env,
            GIT_AUTHOR_NAME: info[0],
            GIT_AUTHOR_EMAIL: info[1],
            GIT_AUTHOR_DATE: info[2]
          }
        })
      }
    }
    const upd = gitRun(r.bare, ['update-ref', `refs/heads/${p.base}`, sha, p.baseSha])
    if (upd.code !== 0)
      throw new HttpError(409, {
        message: 'Base branch was modified. Review and try the merge again.'
      })
    p.state = 'closed'
    p.merged = true
    p.mergeCommitSha = sha
    p.mergedAt = p.closedAt = p.updatedAt = now()
    return sha
  }

  const pullJson = (p: FakePull, schema: 'pull-request' | 'pull-request-simple') => {
    const r = fake.repos.get(p.repo)!
    const html = `${serverUrl}/${p.repo}/pull/${p.number}`
    const url = `${apiUrl}/repos/${p.repo}/pulls/${p.number}`
    const branch = (ref: string, sha: string) => ({
      label: `${r.owner}:${ref}`,
      ref,
      sha,
      user: user(r.owner),
      repo: repoJson(r)
    })
    const link = (href: string) => ({ href })
    const base: Json = {
      url,
      id: p.id,
      node_id: `PR_${p.id}`,
      html_url: html,
      diff_url: `${html}.diff`,
      patch_url: `${html}.patch`,
      issue_url: `${apiUrl}/repos/${p.repo}/issues/${p.number}`,
      commits_url: `${url}/commits`,
      review_comments_url: `${url}/comments`,
      review_comment_url: `${apiUrl}/repos/${p.repo}/pulls/comments{/number}`,
      comments_url: `${apiUrl}/repos/${p.repo}/issues/${p.number}/comments`,
      statuses_url: `${apiUrl}/repos/${p.repo}/statuses/${p.headSha}`,
      number: p.number,
      state: p.state,
      locked: false,
      title: p.title,
      user: user(),
      body: p.body,
      labels: p.labels.map(labelJson),
      created_at: p.createdAt,
      updated_at: p.updatedAt,
      closed_at: p.closedAt,
      merged_at: p.mergedAt,
      merge_commit_sha: p.mergeCommitSha,
      assignees: [],
      requested_reviewers: [],
      requested_teams: [],
      head: branch(p.head, p.headSha),
      base: branch(p.base, p.baseSha),
      _links: {
        self: link(url),
        html: link(html),
        issue: link(`${apiUrl}/repos/${p.repo}/issues/${p.number}`),
        comments: link(`${apiUrl}/repos/${p.repo}/issues/${p.number}/comments`),
        review_comments: link(`${url}/comments`),
        review_comment: link(`${apiUrl}/repos/${p.repo}/pulls/comments{/number}`),
        commits: link(`${url}/commits`),
        statuses: link(`${apiUrl}/repos/${p.repo}/statuses/${p.headSha}`)
      },
      author_association: 'NONE',
      draft: p.draft
    }
    if (schema === 'pull-request') {
      const m = mergeable(p)
      Object.assign(base, {
        merged: p.merged,
        mergeable: m,
        rebaseable: m,
        mergeable_state: m === null ? 'unknown' : m ? 'clean' : 'dirty',
        merged_by: p.merged ? user() : null,
        comments: 0,
        review_comments: 0,
        maintainer_can_modify: false,
        commits: 1,
        additions: 0,
        deletions: 0,
        changed_files: 0
      })
    }
    return overlay(schemaSample(schema), base)
  }

  const refJson = (r: FakeRepo, ref: string, sha: string) =>
    overlay(schemaSample('git-ref'), {
      ref,
      node_id: `REF_${sha.slice(0, 8)}`,
      url: `${apiUrl}/repos/${r.owner}/${r.name}/git/${ref}`,
      object: {
        type: 'commit',
        sha,
        url: `${apiUrl}/repos/${r.owner}/${r.name}/git/commits/${sha}`
      }
    })

  const gitCommitJson = (r: FakeRepo, sha: string) => {
    const [tree, parents, an, ae, aI, cn, ce, cI, msg] = gitOk(r.bare, [
      'log',
      '-1',
      '--format=%T%x00%P%x00%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI%x00%B',
      sha
    ]).split('\0')
    const verified = fake.verifiedCommits.has(sha)
    return overlay(schemaSample('git-commit'), {
      sha,
      node_id: `C_${sha.slice(0, 8)}`,
      url: `${apiUrl}/repos/${r.owner}/${r.name}/git/commits/${sha}`,
      html_url: `${serverUrl}/${r.owner}/${r.name}/commit/${sha}`,
      author: { name: an, email: ae, date: aI },
      committer: { name: cn, email: ce, date: cI },
      tree: { sha: tree, url: `${apiUrl}/repos/${r.owner}/${r.name}/git/trees/${tree}` },
      message: msg.replace(/\n$/, ''),
      parents: parents
        .split(' ')
        .filter(Boolean)
        .map((p) => ({
          sha: p,
          url: `${apiUrl}/repos/${r.owner}/${r.name}/git/commits/${p}`,
          html_url: `${serverUrl}/${r.owner}/${r.name}/commit/${p}`
        })),
      verification: {
        verified,
        reason: verified ? 'valid' : 'unsigned',
        signature: verified
          ? '-----BEGIN PGP SIGNATURE-----\nfake\n-----END PGP SIGNATURE-----'
          : null,
        payload: null,
        verified_at: verified ? now() : null
      }
    })
  }

  const statusJson = (r: FakeRepo, s: FakeCommitStatus) =>
    overlay(schemaSample('status'), {
      url: `${apiUrl}/repos/${r.owner}/${r.name}/statuses/${s.sha}`,
      avatar_url: null,
      id: s.id,
      node_id: `ST_${s.id}`,
      state: s.state,
      description: s.description,
      target_url: s.target_url,
      context: s.context,
      created_at: s.createdAt,
      updated_at: s.createdAt,
      creator: user()
    })
  const deploymentJson = (r: FakeRepo, d: FakeDeployment) =>
    overlay(schemaSample('deployment'), {
      url: `${apiUrl}/repos/${r.owner}/${r.name}/deployments/${d.id}`,
      id: d.id,
      node_id: `DE_${d.id}`,
      sha: d.sha,
      ref: d.ref,
      task: d.task,
      payload: d.payload ?? {},
      environment: d.environment,
      description: d.description,
      creator: user(),
      created_at: d.createdAt,
      updated_at: d.createdAt,
      statuses_url: `${apiUrl}/repos/${r.owner}/${r.name}/deployments/${d.id}/statuses`,
      repository_url: `${apiUrl}/repos/${r.owner}/${r.name}`
    })
  const deploymentStatusJson = (
    r: FakeRepo,
    d: FakeDeployment,
    s: FakeDeployment['statuses'][number]
  ) =>
    overlay(schemaSample('deployment-status'), {
      url: `${apiUrl}/repos/${r.owner}/${r.name}/deployments/${d.id}/statuses/${s.id}`,
      id: s.id,
      node_id: `DES_${s.id}`,
      state: s.state,
      creator: user(),
      description: s.description,
      environment: d.environment,
      target_url: s.log_url ?? `${serverUrl}/${r.owner}/${r.name}/deployments`,
      log_url: s.log_url ?? `${serverUrl}/${r.owner}/${r.name}/deployments`,
      environment_url: s.environment_url ?? `${serverUrl}/${r.owner}/${r.name}`,
      created_at: s.createdAt,
      updated_at: s.createdAt,
      deployment_url: `${apiUrl}/repos/${r.owner}/${r.name}/deployments/${d.id}`,
      repository_url: `${apiUrl}/repos/${r.owner}/${r.name}`
    })

  const resolveRef = (r: FakeRepo, ref: string): string => {
    const sha =
      revParse(r.bare, ref) ??
      revParse(r.bare, `refs/heads/${ref}`) ??
      revParse(r.bare, `refs/tags/${ref}`)
    if (!sha) throw validationFailed(`No commit found for SHA: ${ref}`)
    return sha
  }

  const commitJson = (r: FakeRepo, sha: string) => {
    const g = gitCommitJson(r, sha)
    const base = `${apiUrl}/repos/${r.owner}/${r.name}`
    return overlay(schemaSample('commit'), {
      url: `${base}/commits/${sha}`,
      sha,
      node_id: `C_${sha.slice(0, 8)}`,
      html_url: `${serverUrl}/${r.owner}/${r.name}/commit/${sha}`,
      comments_url: `${base}/commits/${sha}/comments`,
      commit: {
        url: g.url,
        author: g.author,
        committer: g.committer,
        message: g.message,
        comment_count: 0,
        tree: g.tree,
        verification: g.verification
      },
      author: null,
      committer: null,
      parents: g.parents
    })
  }

  type Result = { status: number; body: unknown }
  const appOnly = (c: Context) => {
    const app = opts.app
    if (!app) throw notFound()
    const header = (c.request.headers as Json).authorization
    const auth = typeof header === 'string' ? header : ''
    const problem = /^bearer /i.test(auth) ? jwtProblem(auth.slice(7), app) : 'not a JWT'
    if (problem)
      throw new HttpError(401, {
        message: `A JSON web token could not be decoded: ${problem}`,
        documentation_url: 'https://docs.github.com/rest',
        status: '401'
      })
    return app
  }
  const installationJson = (app: FakeGitHubApp) =>
    overlay(schemaSample('installation'), {
      id: app.installationId,
      app_id: app.id,
      account: user('acme'),
      target_type: 'Organization',
      permissions: { contents: 'write', pull_requests: 'write', deployments: 'write' },
      access_tokens_url: `${apiUrl}/app/installations/${app.installationId}/access_tokens`,
      repositories_url: `${apiUrl}/installation/repositories`,
      html_url: `${serverUrl}/organizations/acme/settings/installations/${app.installationId}`,
      created_at: now(),
      updated_at: now()
    })
  const workflowOf = (c: Context, r: FakeRepo): FakeWorkflow => {
    const id = String((c.request.params as Json).workflow_id)
    const w = fake.workflows.find(
      (x) =>
        x.repo === `${r.owner}/${r.name}` &&
        (String(x.id) === id || x.path === `.github/workflows/${id}`)
    )
    if (!w) throw notFound()
    return w
  }
  const workflowRunJson = (r: FakeRepo, run: FakeWorkflowRun) => {
    const w = fake.workflows.find((x) => x.id === run.workflowId)!
    const base = `${apiUrl}/repos/${r.owner}/${r.name}`
    const minimal = repoJson(r, 'minimal-repository')
    return overlay(schemaSample('workflow-run'), {
      id: run.id,
      name: w.name,
      node_id: `WFR_${run.id}`,
      check_suite_id: run.id + 1,
      check_suite_node_id: `CS_${run.id + 1}`,
      head_branch: run.headBranch,
      head_sha: run.headSha,
      path: w.path,
      run_number: run.runNumber,
      run_attempt: 1,
      referenced_workflows: [],
      event: run.event,
      status: run.status,
      conclusion: run.conclusion,
      workflow_id: w.id,
      url: `${base}/actions/runs/${run.id}`,
      html_url: `${serverUrl}/${r.owner}/${r.name}/actions/runs/${run.id}`,
      pull_requests: [],
      created_at: run.createdAt,
      updated_at: run.updatedAt,
      actor: user(),
      triggering_actor: user(),
      run_started_at: run.createdAt,
      jobs_url: `${base}/actions/runs/${run.id}/jobs`,
      logs_url: `${base}/actions/runs/${run.id}/logs`,
      check_suite_url: `${base}/check-suites/${run.id + 1}`,
      artifacts_url: `${base}/actions/runs/${run.id}/artifacts`,
      cancel_url: `${base}/actions/runs/${run.id}/cancel`,
      rerun_url: `${base}/actions/runs/${run.id}/rerun`,
      previous_attempt_url: null,
      workflow_url: `${base}/actions/workflows/${w.id}`,
      head_commit: null,
      repository: minimal,
      head_repository: minimal,
      head_repository_id: r.id,
      display_title: w.name
    })
  }
  const handlers: Record<OperationId, (c: Context) => Result> = {
    'actions/create-workflow-dispatch': (c) => {
      const r = repoOf(c)
      const w = workflowOf(c, r)
      const b = body(c) as { ref: string; inputs?: Json; return_run_details?: boolean }
      if (!w.dispatchable)
        throw validationFailed("Workflow does not have 'workflow_dispatch' trigger")
      const ref = b.ref.replace(/^refs\/(heads|tags)\//, '')
      const headSha = revParse(r.bare, `refs/heads/${ref}`) ?? revParse(r.bare, `refs/tags/${ref}`)
      if (!headSha) throw validationFailed(`No ref found for: ${b.ref}`)
      const t = now()
      const run: FakeWorkflowRun = {
        repo: `${r.owner}/${r.name}`,
        id: nextId++,
        workflowId: w.id,
        runNumber: fake.workflowRuns.filter((x) => x.workflowId === w.id).length + 1,
        event: 'workflow_dispatch',
        headBranch: ref,
        headSha,
        status: 'queued',
        conclusion: null,
        inputs: b.inputs ?? {},
        createdAt: t,
        updatedAt: t
      }
      fake.workflowRuns.push(run)
      if (!b.return_run_details || fake.legacyDispatch) return { status: 204, body: null }
      return {
        status: 200,
        body: {
          workflow_run_id: run.id,
          run_url: `${apiUrl}/repos/${r.owner}/${r.name}/actions/runs/${run.id}`,
          html_url: `${serverUrl}/${r.owner}/${r.name}/actions/runs/${run.id}`
        }
      }
    },
    'actions/list-workflow-runs': (c) => {
      const r = repoOf(c)
      const w = workflowOf(c, r)
      const q = c.request.query as Record<string, string>
      const runs = fake.workflowRuns
        .filter((x) => x.workflowId === w.id)
        .filter(
          (x) => (!q.event || x.event === q.event) && (!q.branch || x.headBranch === q.branch)
        )
        .filter((x) => !q.head_sha || x.headSha === q.head_sha)
        .sort((a, b) => b.id - a.id)
        .slice(0, Number(q.per_page ?? 30))
      return {
        status: 200,
        body: { total_count: runs.length, workflow_runs: runs.map((x) => workflowRunJson(r, x)) }
      }
    },
    'actions/get-workflow-run': (c) => {
      const r = repoOf(c)
      const id = Number((c.request.params as Json).run_id)
      const run = fake.workflowRuns.find((x) => x.id === id && x.repo === `${r.owner}/${r.name}`)
      if (!run) throw notFound()
      return { status: 200, body: workflowRunJson(r, run) }
    },
    'apps/get-repo-installation': (c) => {
      const app = appOnly(c)
      repoOf(c)
      return { status: 200, body: installationJson(app) }
    },
    'apps/create-installation-access-token': (c) => {
      const app = appOnly(c)
      const id = Number((c.request.params as Json).installation_id)
      if (id !== app.installationId) throw notFound()
      const token = `ghs_${crypto.randomBytes(18).toString('hex')}`
      const expiresAt = Date.now() + (app.tokenTtlMs ?? 3600_000)
      fake.installationTokens.set(token, expiresAt)
      return {
        status: 201,
        body: overlay(schemaSample('installation-token'), {
          token,
          expires_at: new Date(expiresAt).toISOString().replace(/\.\d+Z$/, 'Z'),
          permissions: { contents: 'write', pull_requests: 'write' },
          repository_selection: 'all'
        })
      }
    },
    'teams/get-membership-for-user-in-org': (c) => {
      const { org, team_slug, username } = c.request.params as Record<string, string>
      if (!fake.teams.get(`${org}/${team_slug}`)?.has(username)) throw notFound()
      return {
        status: 200,
        body: {
          url: `${apiUrl}/teams/1/memberships/${username}`,
          role: 'member',
          state: 'active'
        }
      }
    },
    'repos/get-collaborator-permission-level': (c) => {
      const r = repoOf(c)
      const username = String((c.request.params as Json).username)
      const role = fake.collaborators.get(`${r.owner}/${r.name}`)?.get(username)
      // GitHub's legacy `permission`: maintain → write, triage → read, custom roles → their base.
      const base: Record<string, string> = { admin: 'admin', maintain: 'write', write: 'write' }
      const permission = role
        ? (base[role] ?? (role === 'triage' || role === 'read' ? 'read' : 'write'))
        : 'none'
      return {
        status: 200,
        body: {
          permission,
          role_name: role ?? 'none',
          user: overlay(schemaSample('nullable-collaborator'), {
            ...user(username),
            type: 'User',
            role_name: role ?? 'none'
          })
        }
      }
    },
    'users/get-by-username': (c) => {
      const username = String((c.request.params as Json).username)
      const u = fake.users.get(username)
      if (!u) throw notFound()
      return {
        status: 200,
        body: overlay(schemaSample('public-user'), {
          ...user(username),
          type: 'User',
          email: u.email ?? null
        })
      }
    },
    'repos/get': (c) => ({ status: 200, body: repoJson(repoOf(c), 'full-repository') }),
    'repos/compare-commits-with-basehead': (c) => {
      const r = repoOf(c)
      const basehead = decodeURIComponent(String((c.request.params as Json).basehead))
      const m = /^(.+?)\.\.\.?(.+)$/.exec(basehead)
      if (!m) throw notFound()
      const strip = (x: string) => (x.includes(':') ? x.slice(x.indexOf(':') + 1) : x)
      const baseSha = revParse(r.bare, strip(m[1]))
      const headSha = revParse(r.bare, strip(m[2]))
      if (!baseSha || !headSha) throw notFound()
      const mergeBase = gitOk(r.bare, ['merge-base', baseSha, headSha])
      const ahead = gitOk(r.bare, ['rev-list', '--reverse', `${baseSha}..${headSha}`])
        .split('\n')
        .filter(Boolean)
      const behind = Number(gitOk(r.bare, ['rev-list', '--count', `${headSha}..${baseSha}`]))
      const html = `${serverUrl}/${r.owner}/${r.name}/compare/${basehead}`
      return {
        status: 200,
        body: overlay(schemaSample('commit-comparison'), {
          url: `${apiUrl}/repos/${r.owner}/${r.name}/compare/${basehead}`,
          html_url: html,
          permalink_url: html,
          diff_url: `${html}.diff`,
          patch_url: `${html}.patch`,
          base_commit: commitJson(r, baseSha),
          merge_base_commit: commitJson(r, mergeBase),
          status:
            ahead.length && behind
              ? 'diverged'
              : ahead.length
                ? 'ahead'
                : behind
                  ? 'behind'
                  : 'identical',
          ahead_by: ahead.length,
          behind_by: behind,
          total_commits: ahead.length,
          commits: ahead.map((sha) => commitJson(r, sha))
        })
      }
    },
    'pulls/list': (c) => {
      const r = repoOf(c)
      const q = c.request.query as Record<string, string>
      const state = q.state ?? 'open'
      let list = fake.pulls.filter((p) => p.repo === `${r.owner}/${r.name}`)
      if (state !== 'all') list = list.filter((p) => p.state === state)
      if (q.head) {
        const [owner, branch] = q.head.includes(':') ? q.head.split(':', 2) : [r.owner, q.head]
        list = list.filter((p) => owner === r.owner && p.head === branch)
      }
      if (q.base) list = list.filter((p) => p.base === q.base)
      list = [...list].sort((a, b) =>
        q.direction === 'asc' ? a.number - b.number : b.number - a.number
      )
      list.forEach(refresh)
      return { status: 200, body: list.map((p) => pullJson(p, 'pull-request-simple')) }
    },
    'pulls/create': (c) => {
      const r = repoOf(c)
      const b = body(c) as {
        title?: string
        head: string
        base: string
        body?: string
        draft?: boolean
      }
      const full = `${r.owner}/${r.name}`
      const head = b.head.includes(':') ? b.head.split(':')[1] : b.head
      const headSha = revParse(r.bare, `refs/heads/${head}`)
      const baseSha = revParse(r.bare, `refs/heads/${b.base}`)
      if (!headSha)
        throw validationFailed('Validation Failed', [
          { resource: 'PullRequest', field: 'head', code: 'invalid' }
        ])
      if (!baseSha)
        throw validationFailed('Validation Failed', [
          { resource: 'PullRequest', field: 'base', code: 'invalid' }
        ])
      if (
        fake.pulls.some(
          (p) => p.repo === full && p.state === 'open' && p.head === head && p.base === b.base
        )
      )
        throw validationFailed('Validation Failed', [
          {
            resource: 'PullRequest',
            code: 'custom',
            message: `A pull request already exists for ${r.owner}:${head}.`
          }
        ])
      if (gitRun(r.bare, ['merge-base', '--is-ancestor', headSha, baseSha]).code === 0)
        throw validationFailed('Validation Failed', [
          {
            resource: 'PullRequest',
            code: 'custom',
            message: `No commits between ${b.base} and ${head}`
          }
        ])
      const number = fake.pulls.filter((p) => p.repo === full).length + 1
      const t = now()
      const p: FakePull = {
        repo: full,
        number,
        id: nextId++,
        title: b.title ?? head,
        body: b.body ?? null,
        head,
        base: b.base,
        headSha,
        baseSha,
        state: 'open',
        merged: false,
        mergeCommitSha: null,
        mergedAt: null,
        closedAt: null,
        createdAt: t,
        updatedAt: t,
        labels: [],
        draft: !!b.draft,
        comments: []
      }
      fake.pulls.push(p)
      return { status: 201, body: pullJson(p, 'pull-request') }
    },
    'pulls/get': (c) => {
      const r = repoOf(c)
      const n = Number((c.request.params as Json).pull_number)
      const p = fake.pulls.find((x) => x.repo === `${r.owner}/${r.name}` && x.number === n)
      if (!p) throw notFound()
      return { status: 200, body: pullJson(p, 'pull-request') }
    },
    'pulls/update': (c) => {
      const r = repoOf(c)
      const n = Number((c.request.params as Json).pull_number)
      const p = fake.pulls.find((x) => x.repo === `${r.owner}/${r.name}` && x.number === n)
      if (!p) throw notFound()
      const b = body(c) as {
        title?: string
        body?: string
        state?: 'open' | 'closed'
        base?: string
      }
      if (b.title !== undefined) p.title = b.title
      if (b.body !== undefined) p.body = b.body
      if (b.base !== undefined) p.base = b.base
      if (b.state === 'closed' && p.state === 'open') p.closedAt = now()
      if (b.state) p.state = p.merged ? 'closed' : b.state
      p.updatedAt = now()
      return { status: 200, body: pullJson(p, 'pull-request') }
    },
    'pulls/merge': (c) => {
      const r = repoOf(c)
      const n = Number((c.request.params as Json).pull_number)
      const p = fake.pulls.find((x) => x.repo === `${r.owner}/${r.name}` && x.number === n)
      if (!p) throw notFound()
      const b = body(c) as {
        merge_method?: string
        sha?: string
        commit_title?: string
        commit_message?: string
      }
      refresh(p)
      if (b.sha && b.sha !== p.headSha)
        throw new HttpError(409, {
          message: 'Head branch was modified. Review and try the merge again.'
        })
      const sha = doMerge(
        p,
        b.merge_method ?? 'merge',
        b.commit_title ?? `Merge pull request #${p.number} from ${r.owner}/${p.head}`,
        b.commit_message ?? p.title
      )
      return {
        status: 200,
        body: { sha, merged: true, message: 'Pull Request successfully merged' }
      }
    },
    'issues/add-labels': (c) => {
      const r = repoOf(c)
      const n = Number((c.request.params as Json).issue_number)
      const p = fake.pulls.find((x) => x.repo === `${r.owner}/${r.name}` && x.number === n)
      if (!p) throw notFound()
      const raw = c.request.requestBody as unknown
      const items = (
        Array.isArray(raw) ? raw : (((raw as Json)?.labels as unknown[]) ?? [])
      ) as Array<string | { name: string }>
      for (const l of items) {
        const name = typeof l === 'string' ? l : l.name
        if (!p.labels.includes(name)) p.labels.push(name)
      }
      return { status: 200, body: p.labels.map(labelJson) }
    },
    'issues/create-comment': (c) => {
      const r = repoOf(c)
      const n = Number((c.request.params as Json).issue_number)
      const p = fake.pulls.find((x) => x.repo === `${r.owner}/${r.name}` && x.number === n)
      if (!p) throw notFound()
      const comment = body(c).body
      const text = typeof comment === 'string' ? comment : ''
      p.comments.push(text)
      const id = nextId++
      const t = now()
      return {
        status: 201,
        body: overlay(schemaSample('issue-comment'), {
          id,
          node_id: `IC_${id}`,
          url: `${apiUrl}/repos/${r.owner}/${r.name}/issues/comments/${id}`,
          html_url: `${serverUrl}/${r.owner}/${r.name}/pull/${n}#issuecomment-${id}`,
          issue_url: `${apiUrl}/repos/${r.owner}/${r.name}/issues/${n}`,
          body: text,
          user: user(),
          created_at: t,
          updated_at: t
        })
      }
    },
    'git/create-blob': (c) => {
      const r = repoOf(c)
      const b = body(c) as { content: string; encoding?: string }
      const data =
        b.encoding === 'base64' ? Buffer.from(b.content, 'base64') : Buffer.from(b.content, 'utf8')
      const sha = gitOk(r.bare, ['hash-object', '-w', '--stdin'], { input: data })
      return {
        status: 201,
        body: { sha, url: `${apiUrl}/repos/${r.owner}/${r.name}/git/blobs/${sha}` }
      }
    },
    'git/create-tree': (c) => {
      const r = repoOf(c)
      const b = body(c) as {
        base_tree?: string
        tree: Array<{
          path?: string
          mode?: string
          type?: string
          sha?: string | null
          content?: string
        }>
      }
      const index = path.join(fs.mkdtempSync(path.join(r.bare, 'fake-index-')), 'index')
      const env = { GIT_INDEX_FILE: index }
      try {
        if (b.base_tree) {
          if (gitRun(r.bare, ['cat-file', '-e', `${b.base_tree}^{tree}`]).code !== 0)
            throw validationFailed('Invalid tree info', [
              { resource: 'Tree', field: 'base_tree', code: 'invalid' }
            ])
          gitOk(r.bare, ['read-tree', b.base_tree], { env })
        } else gitOk(r.bare, ['read-tree', '--empty'], { env })
        for (const e of b.tree) {
          if (!e.path || !e.mode) throw validationFailed('Invalid tree info')
          if (e.sha === null) {
            gitOk(r.bare, ['rm', '--cached', '-r', '-q', '--ignore-unmatch', '--', e.path], { env })
            gitRun(r.bare, ['update-index', '--force-remove', '--', e.path], { env })
            continue
          }
          let sha = e.sha
          if (sha === undefined && e.content !== undefined)
            sha = gitOk(r.bare, ['hash-object', '-w', '--stdin'], { input: e.content })
          if (!sha) throw validationFailed('Invalid tree info')
          if (e.type === 'tree') {
            gitOk(r.bare, ['read-tree', `--prefix=${e.path.replace(/\/?$/, '/')}`, sha], { env })
          } else {
            if (e.type === 'blob' && gitRun(r.bare, ['cat-file', '-e', `${sha}^{blob}`]).code !== 0)
              throw validationFailed('Invalid tree info', [
                { resource: 'Tree', field: 'sha', code: 'invalid' }
              ])
            gitOk(r.bare, ['update-index', '--add', '--cacheinfo', `${e.mode},${sha},${e.path}`], {
              env
            })
          }
        }
        const tree = gitOk(r.bare, ['write-tree'], { env })
        const entries = gitOk(r.bare, ['ls-tree', '-l', tree])
          .split('\n')
          .filter(Boolean)
          .map((line) => {
            const [meta, p] = line.split('\t')
            const [mode, type, sha, size] = meta.split(/\s+/)
            return {
              path: p,
              mode,
              type,
              sha,
              ...(size !== '-' ? { size: Number(size) } : {}),
              url: `${apiUrl}/repos/${r.owner}/${r.name}/git/${type}s/${sha}`
            }
          })
        return {
          status: 201,
          body: overlay(schemaSample('git-tree'), {
            sha: tree,
            url: `${apiUrl}/repos/${r.owner}/${r.name}/git/trees/${tree}`,
            truncated: false,
            tree: entries
          })
        }
      } finally {
        fs.rmSync(path.dirname(index), { recursive: true, force: true })
      }
    },
    'git/create-commit': (c) => {
      const r = repoOf(c)
      const b = body(c) as {
        message: string
        tree: string
        parents?: string[]
        author?: { name: string; email: string; date?: string }
        committer?: { name: string; email: string; date?: string }
        signature?: string
      }
      if (gitRun(r.bare, ['cat-file', '-e', `${b.tree}^{tree}`]).code !== 0)
        throw validationFailed('Tree SHA does not exist')
      for (const p of b.parents ?? [])
        if (!revParse(r.bare, p))
          throw validationFailed('Parent SHA does not exist or is not a commit object')
      const author = b.author ?? {
        name: 'waybill-bot',
        email: 'waybill-bot@users.noreply.github.com'
      }
      // GitHub commits as web-flow and signs when no committer (or signature) is supplied.
      const committer = b.committer ?? { name: 'GitHub', email: 'noreply@github.com' }
      const env: Json = {
        GIT_AUTHOR_NAME: author.name,
        GIT_AUTHOR_EMAIL: author.email,
        GIT_COMMITTER_NAME: committer.name,
        GIT_COMMITTER_EMAIL: committer.email
      }
      if (author.date) env.GIT_AUTHOR_DATE = author.date
      const args = ['commit-tree', '--no-gpg-sign', b.tree]
      for (const p of b.parents ?? []) args.push('-p', p)
      args.push('-F', '-')
      const sha = gitOk(r.bare, args, { input: b.message, env })
      if (!b.committer && !b.signature) fake.verifiedCommits.add(sha)
      return { status: 201, body: gitCommitJson(r, sha) }
    },
    'git/get-commit': (c) => {
      const r = repoOf(c)
      const sha = String((c.request.params as Json).commit_sha)
      if (!revParse(r.bare, sha)) throw notFound()
      return { status: 200, body: gitCommitJson(r, sha) }
    },
    'git/get-ref': (c) => {
      const r = repoOf(c)
      const ref = `refs/${String((c.request.params as Json).ref)}`
      const sha = gitRun(r.bare, ['rev-parse', '-q', '--verify', ref])
      if (sha.code !== 0) throw notFound()
      return { status: 200, body: refJson(r, ref, sha.stdout) }
    },
    'git/create-ref': (c) => {
      const r = repoOf(c)
      const b = body(c) as { ref: string; sha: string }
      if (!/^refs\/.+\/.+/.test(b.ref))
        throw validationFailed(
          'Reference name must start with refs/ and have at least two slashes.'
        )
      if (!revParse(r.bare, b.sha)) throw validationFailed('Object does not exist')
      const res = gitRun(r.bare, ['update-ref', b.ref, b.sha, ''])
      if (res.code !== 0) throw validationFailed('Reference already exists')
      return { status: 201, body: refJson(r, b.ref, b.sha) }
    },
    'git/update-ref': (c) => {
      const r = repoOf(c)
      const ref = `refs/${String((c.request.params as Json).ref)}`
      const b = body(c) as { sha: string; force?: boolean }
      const current = gitRun(r.bare, ['rev-parse', '-q', '--verify', ref])
      if (current.code !== 0) throw validationFailed('Reference does not exist')
      if (!revParse(r.bare, b.sha)) throw validationFailed('Object does not exist')
      if (
        !b.force &&
        gitRun(r.bare, ['merge-base', '--is-ancestor', current.stdout, b.sha]).code !== 0
      )
        throw validationFailed('Update is not a fast forward')
      if (gitRun(r.bare, ['update-ref', ref, b.sha, current.stdout]).code !== 0)
        throw new HttpError(409, {
          message: 'Reference update failed',
          documentation_url: 'https://docs.github.com/rest'
        })
      return { status: 200, body: refJson(r, ref, b.sha) }
    },
    'git/delete-ref': (c) => {
      const r = repoOf(c)
      const ref = `refs/${String((c.request.params as Json).ref)}`
      const current = gitRun(r.bare, ['rev-parse', '-q', '--verify', ref])
      if (current.code !== 0) throw validationFailed('Reference does not exist')
      gitOk(r.bare, ['update-ref', '-d', ref, current.stdout])
      return { status: 204, body: null }
    },
    'repos/create-deployment': (c) => {
      const r = repoOf(c)
      const b = body(c) as {
        ref: string
        task?: string
        environment?: string
        description?: string | null
        payload?: unknown
      }
      const d: FakeDeployment = {
        repo: `${r.owner}/${r.name}`,
        id: nextId++,
        sha: resolveRef(r, b.ref),
        ref: b.ref,
        task: b.task ?? 'deploy',
        environment: b.environment ?? 'production',
        description: b.description ?? null,
        payload: typeof b.payload === 'string' ? b.payload : (b.payload ?? {}),
        createdAt: now(),
        statuses: []
      }
      fake.deployments.push(d)
      return { status: 201, body: deploymentJson(r, d) }
    },
    'repos/list-deployments': (c) => {
      const r = repoOf(c)
      const q = c.request.query as Record<string, string>
      const list = fake.deployments
        .filter((d) => d.repo === `${r.owner}/${r.name}`)
        .filter((d) => (!q.sha || d.sha === q.sha) && (!q.ref || d.ref === q.ref))
        .filter(
          (d) =>
            (!q.task || d.task === q.task) && (!q.environment || d.environment === q.environment)
        )
        .sort((a, b) => b.id - a.id)
      return { status: 200, body: list.map((d) => deploymentJson(r, d)) }
    },
    'repos/create-deployment-status': (c) => {
      const r = repoOf(c)
      const id = Number((c.request.params as Json).deployment_id)
      const d = fake.deployments.find((x) => x.id === id && x.repo === `${r.owner}/${r.name}`)
      if (!d) throw notFound()
      const b = body(c) as {
        state: string
        description?: string
        environment_url?: string
        log_url?: string
        environment?: string
      }
      if (b.environment) d.environment = b.environment
      const s = {
        id: nextId++,
        state: b.state,
        description: b.description ?? '',
        environment_url: b.environment_url,
        log_url: b.log_url,
        createdAt: now()
      }
      d.statuses.push(s)
      return { status: 201, body: deploymentStatusJson(r, d, s) }
    },
    'repos/list-deployment-statuses': (c) => {
      const r = repoOf(c)
      const id = Number((c.request.params as Json).deployment_id)
      const d = fake.deployments.find((x) => x.id === id && x.repo === `${r.owner}/${r.name}`)
      if (!d) throw notFound()
      return {
        status: 200,
        body: [...d.statuses].reverse().map((s) => deploymentStatusJson(r, d, s))
      }
    },
    'repos/create-commit-status': (c) => {
      const r = repoOf(c)
      const sha = String((c.request.params as Json).sha)
      if (!revParse(r.bare, sha)) throw validationFailed(`No commit found for SHA: ${sha}`)
      const b = body(c) as {
        state: FakeCommitStatus['state']
        context?: string
        description?: string | null
        target_url?: string | null
      }
      const s: FakeCommitStatus = {
        repo: `${r.owner}/${r.name}`,
        sha,
        id: nextId++,
        state: b.state,
        context: b.context ?? 'default',
        description: b.description ?? null,
        target_url: b.target_url ?? null,
        createdAt: now()
      }
      fake.statuses.push(s)
      return { status: 201, body: statusJson(r, s) }
    },
    'repos/list-commit-statuses-for-ref': (c) => {
      const r = repoOf(c)
      const sha = resolveRef(r, String((c.request.params as Json).ref))
      const list = fake.statuses
        .filter((s) => s.repo === `${r.owner}/${r.name}` && s.sha === sha)
        .reverse()
      return { status: 200, body: list.map((s) => statusJson(r, s)) }
    },
    'repos/get-combined-status-for-ref': (c) => {
      const r = repoOf(c)
      const sha = resolveRef(r, String((c.request.params as Json).ref))
      const latest = new Map<string, FakeCommitStatus>()
      for (const s of fake.statuses)
        if (s.repo === `${r.owner}/${r.name}` && s.sha === sha) latest.set(s.context, s)
      const all = [...latest.values()]
      const state = all.some((s) => s.state === 'error' || s.state === 'failure')
        ? 'failure'
        : all.length && all.every((s) => s.state === 'success')
          ? 'success'
          : 'pending'
      return {
        status: 200,
        body: overlay(schemaSample('combined-commit-status'), {
          state,
          sha,
          total_count: all.length,
          statuses: all.map((s) => overlay(schemaSample('simple-commit-status'), statusJson(r, s))),
          repository: repoJson(r, 'minimal-repository'),
          commit_url: `${apiUrl}/repos/${r.owner}/${r.name}/commits/${sha}`,
          url: `${apiUrl}/repos/${r.owner}/${r.name}/commits/${sha}/status`
        })
      }
    },
    'checks/list-for-ref': (c) => {
      const r = repoOf(c)
      const sha = resolveRef(r, String((c.request.params as Json).ref))
      const q = c.request.query as Record<string, string>
      const runs = fake.checkRuns
        .filter((x) => x.repo === `${r.owner}/${r.name}` && x.sha === sha)
        .filter(
          (x) => (!q.check_name || x.name === q.check_name) && (!q.status || x.status === q.status)
        )
      return {
        status: 200,
        body: {
          total_count: runs.length,
          check_runs: runs.map((x) =>
            overlay(schemaSample('check-run'), {
              id: x.id,
              head_sha: x.sha,
              node_id: `CR_${x.id}`,
              external_id: '',
              url: `${apiUrl}/repos/${r.owner}/${r.name}/check-runs/${x.id}`,
              html_url: `${serverUrl}/${r.owner}/${r.name}/runs/${x.id}`,
              details_url: null,
              status: x.status,
              conclusion: x.conclusion,
              started_at: now(),
              completed_at: x.status === 'completed' ? now() : null,
              output: {
                title: null,
                summary: null,
                text: null,
                annotations_count: 0,
                annotations_url: `${apiUrl}/x`
              },
              name: x.name,
              check_suite: null,
              app: null,
              pull_requests: []
            })
          )
        }
      }
    }
  }

  const declaredStatuses = (operationId: string): string[] => {
    const op = api.getOperation(operationId)
    return Object.keys(op?.responses ?? {})
  }

  const handle = async (
    req: http.IncomingMessage,
    raw: string
  ): Promise<{ status: number; body: unknown; operationId?: string }> => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    const reqPath = url.pathname.replace(/^\/api(?=\/)/, '')
    const query: Record<string, string> = {}
    url.searchParams.forEach((v, k) => (query[k] = v))
    let parsed: unknown
    try {
      parsed = raw ? JSON.parse(raw) : undefined
    } catch {
      return { status: 400, body: { message: 'Problems parsing JSON' } }
    }
    const request = {
      method: req.method ?? 'GET',
      path: reqPath,
      query,
      headers: req.headers as Record<string, string>,
      body: parsed
    }
    const operation = api.matchOperation(request)
    if (!operation) {
      fake.violations.push(`no implemented GitHub operation for ${request.method} ${reqPath}`)
      return { status: 404, body: { message: 'Not Found' } }
    }
    const operationId = operation.operationId as OperationId
    const validation = api.validateRequest(request, operation)
    if (!validation.valid) {
      const msg = `${operationId}: request violates GitHub's schema: ${JSON.stringify(validation.errors)}`
      fake.violations.push(msg)
      return {
        status: 422,
        operationId,
        body: { message: msg, documentation_url: 'https://docs.github.com/rest' }
      }
    }
    const parsedReq = api.router.parseRequest(request, operation)
    const ctx = {
      request: { ...parsedReq, requestBody: parsed },
      operation,
      api
    } as unknown as Context
    // openapi-backend coerces path/query parameters onto parsedReq.params/query.
    if (fake.forbidden.has(operationId)) {
      // Any endpoint answers so when the token lacks the permission; not validated (undeclared).
      return {
        status: 403,
        operationId,
        body: {
          message: 'Resource not accessible by integration',
          documentation_url: 'https://docs.github.com/rest',
          status: '403'
        }
      }
    }
    let result: Result
    try {
      result = handlers[operationId](ctx)
    } catch (err) {
      if (err instanceof HttpError) result = { status: err.status, body: err.body }
      else {
        fake.violations.push(`${operationId}: ${String(err)}`)
        return { status: 500, operationId, body: { message: String(err) } }
      }
    }
    if (fake.tamper) result = { ...result, body: fake.tamper(operationId, result.body) }
    const declared = declaredStatuses(operationId)
    if (!declared.includes(String(result.status)) && !declared.includes('default')) {
      fake.violations.push(
        `${operationId}: status ${result.status} is not declared by GitHub's description`
      )
    }
    const check = api.validateResponse(result.body, operation, result.status)
    if (!check.valid) {
      const msg = `${operationId}: response ${result.status} violates GitHub's schema: ${JSON.stringify(check.errors).slice(0, 2000)}`
      fake.violations.push(msg)
      return { status: 400, operationId, body: { message: msg } }
    }
    return { operationId, ...result }
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8')
      const auth = String(req.headers.authorization ?? '')
      const presented = auth.replace(/^(token|bearer) /i, '')
      const minted = fake.installationTokens.get(presented)
      const authorized =
        (!opts.token && !opts.app) ||
        (opts.token !== undefined && presented === opts.token) ||
        (minted !== undefined && minted > Date.now()) ||
        // The app's own endpoints authenticate with a JWT, checked by their handlers.
        (opts.app !== undefined && (req.url ?? '').includes('/app/installations/')) ||
        (opts.app !== undefined && /\/repos\/[^/]+\/[^/]+\/installation$/.test(req.url ?? ''))
      const record: FakeRequest = {
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        status: 0,
        authorized
      }
      try {
        record.body = raw ? JSON.parse(raw) : undefined
      } catch {
        record.body = raw
      }
      fake.requests.push(record)
      const send = (status: number, payload: unknown) => {
        record.status = status
        res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' })
        res.end(payload === undefined ? '' : JSON.stringify(payload))
      }
      if (!authorized) {
        send(401, {
          message: 'Bad credentials',
          documentation_url: 'https://docs.github.com/rest',
          status: '401'
        })
        return
      }
      handle(req, raw)
        .then((r) => {
          record.operationId = r.operationId
          send(r.status, r.body)
        })
        .catch((err) => {
          fake.violations.push(`fake GitHub crashed: ${String(err)}`)
          send(500, { message: String(err) })
        })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  serverUrl = opts.gitUrl ?? `http://127.0.0.1:${port}`
  apiUrl = `http://127.0.0.1:${port}/api`
  fake.url = apiUrl
  fake.serverUrl = serverUrl
  fake.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve())
      // Octokit keeps connections alive; close() alone would wait for them.
      server.closeAllConnections()
    })
  return fake
}
