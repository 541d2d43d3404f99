import type { Warehouse } from '../config/schema.js'
import { normalizeChartUrl, normalizeImageUrl, parseImageReference } from '../freight/urls.js'
import { compilePathFilter } from './path-filter.js'
import { PROMOTION_BRANCH_PREFIX } from './git/index.js'
import { UsageError } from '../util/errors.js'
import { hasControlCharacter } from '../util/text.js'

/**
 * Which warehouses a GitHub event should discover: registry pushes (GHCR's `registry_package` /
 * `package`, and `repository_dispatch` carrying a Docker Hub, Harbor or Quay webhook body or a
 * plain `{image, tag, digest}`) pick the warehouses subscribed to the pushed image; `push` picks
 * the warehouses whose Git subscriptions follow the pushed branch (or tags) and whose path filters
 * match the changed files. Any other event (schedule, workflow_dispatch) means every warehouse.
 */
export interface PushedImage {
  /** Repository without tag or digest, e.g. `ghcr.io/org/app`. */
  repoURL: string
  tag?: string
  digest?: string
}

export interface PushedCommits {
  /** host/path identities of the repository (from clone_url, html_url, ssh_url). */
  repos: string[]
  branch?: string
  tag?: string
  deleted: boolean
  /** Changed paths, or undefined when the payload cannot list them all. */
  paths?: string[]
  defaultBranch?: string
}

type Json = Record<string, unknown>
const obj = (v: unknown): Json =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {}
const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined)
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : [])

/** Splits `registry/repo[:tag][@digest]` into a repository and its tag/digest. */
function splitImage(ref: string, tag?: string, digest?: string): PushedImage | undefined {
  const clean = ref.replace(/^[a-z]+:\/\//i, '').replace(/\/+$/, '')
  const parsed = parseImageReference(clean)
  if (!parsed) return undefined
  let repoURL = clean
  if (parsed.digest) repoURL = repoURL.slice(0, repoURL.lastIndexOf('@'))
  else if (parsed.tag) repoURL = repoURL.slice(0, repoURL.lastIndexOf(':'))
  const out: PushedImage = { repoURL }
  const t = tag ?? parsed.tag
  const d = digest ?? parsed.digest
  if (t) out.tag = t
  if (d) out.digest = d
  return out
}

/** GHCR `registry_package` / `package` events: candidate image names for the package. */
function fromGithubPackage(payload: Json): PushedImage[] {
  const pkg = obj(payload.registry_package ?? payload.package)
  const version = obj(pkg.package_version)
  const meta = obj(version.container_metadata)
  const tag = str(obj(meta.tag).name)
  const digest = str(obj(meta.tag).digest) ?? str(obj(meta.manifest).digest)
  const host = (() => {
    const u = str(obj(pkg.registry).url)
    try {
      const h = u ? new URL(u).host.toLowerCase() : 'ghcr.io'
      // Older payloads name the legacy host (https://CONTAINER.pkg.github.com/<owner>).
      return /(^|\.)pkg\.github\.com$/.test(h) ? 'ghcr.io' : h
    } catch {
      return 'ghcr.io'
    }
  })()
  const names = new Set<string>()
  const packageUrl = str(version.package_url)
  if (packageUrl) names.add(packageUrl)
  const name = str(pkg.name)
  const owner = str(obj(pkg.owner).login)
  const ns = str(pkg.namespace)
  if (name && owner) names.add(`${host}/${owner}/${name}`)
  if (name && ns) names.add(`${host}/${ns}/${name}`)
  // `repositories/<owner>/<name>/manifests/<digest>`
  const uri = /^repositories\/(.+)\/manifests\//.exec(str(obj(meta.manifest).uri) ?? '')
  if (uri) names.add(`${host}/${uri[1]}`)
  const out: PushedImage[] = []
  for (const n of names) {
    const img = splitImage(n.toLowerCase(), tag, digest)
    if (img) out.push(img)
  }
  return out
}

const DISPATCH_VALUE_MAX = 512
const DISPATCH_LIST_MAX = 100

/**
 * Shape-checks the client_payload fields imagesFromDispatch reads, like workflow_dispatch inputs:
 * anyone with write access to the repository (or a relay's token) writes them. Strings must be
 * strings, at most 512 characters, without control characters; lists at most 100 entries. Other
 * fields (a Docker Hub description, Harbor's operator) are never read and are not checked.
 */
export function checkDispatchPayload(clientPayload: unknown): void {
  if (clientPayload === undefined || clientPayload === null) return
  const root = 'repository_dispatch client_payload'
  const fail = (field: string, problem: string): never => {
    throw new UsageError(
      `${root}.${field} ${problem}`,
      'send {image, tag?, digest?} or a registry webhook body'
    )
  }
  const object = (v: unknown, field: string): Json | undefined => {
    if (v === undefined || v === null) return undefined
    if (typeof v !== 'object' || Array.isArray(v)) fail(field, 'must be an object')
    return v as Json
  }
  const list = (v: unknown, field: string): unknown[] => {
    if (v === undefined || v === null) return []
    if (!Array.isArray(v)) fail(field, 'must be a list')
    const a = v as unknown[]
    if (a.length > DISPATCH_LIST_MAX) fail(field, `has more than ${DISPATCH_LIST_MAX} entries`)
    return a
  }
  const text = (v: unknown, field: string): void => {
    if (v === undefined || v === null) return
    if (typeof v !== 'string') return fail(field, 'must be a string')
    if (v.length > DISPATCH_VALUE_MAX)
      fail(field, `is longer than ${DISPATCH_VALUE_MAX} characters`)
    if (hasControlCharacter(v)) fail(field, 'contains control characters')
  }
  if (typeof clientPayload !== 'object' || Array.isArray(clientPayload))
    throw new UsageError(`${root} must be an object`)
  const p = clientPayload as Json
  for (const name of ['image', 'tag', 'digest', 'docker_url']) text(p[name], name)
  list(p.updated_tags, 'updated_tags').forEach((t, i) => text(t, `updated_tags[${i}]`))
  text(object(p.repository, 'repository')?.repo_name, 'repository.repo_name')
  text(object(p.push_data, 'push_data')?.tag, 'push_data.tag')
  const resources = list(object(p.event_data, 'event_data')?.resources, 'event_data.resources')
  resources.forEach((r, i) => {
    const res = object(r, `event_data.resources[${i}]`)
    for (const name of ['resource_url', 'tag', 'digest'])
      text(res?.[name], `event_data.resources[${i}].${name}`)
  })
}

/** repository_dispatch client_payload shapes forwarded by a relay. */
export function imagesFromDispatch(clientPayload: unknown): PushedImage[] {
  const p = obj(clientPayload)
  const out: PushedImage[] = []
  const add = (img: PushedImage | undefined) => img && out.push(img)
  // Docker Hub: {push_data: {tag}, repository: {repo_name}}
  const repo = obj(p.repository)
  if (p.push_data && str(repo.repo_name)) {
    const name = str(repo.repo_name)!
    add(splitImage(name.includes('/') ? name : `library/${name}`, str(obj(p.push_data).tag)))
  }
  // Harbor: {type: PUSH_ARTIFACT, event_data: {resources: [{resource_url, tag, digest}]}}
  for (const r of arr(obj(p.event_data).resources)) {
    const res = obj(r)
    const url = str(res.resource_url)
    if (url) add(splitImage(url, str(res.tag), str(res.digest)))
  }
  // Quay: {docker_url, updated_tags: []}
  const dockerUrl = str(p.docker_url)
  if (dockerUrl) {
    const tags = arr(p.updated_tags).filter((t): t is string => typeof t === 'string')
    if (tags.length) for (const t of tags) add(splitImage(dockerUrl, t))
    else add(splitImage(dockerUrl))
  }
  // Plain: {image, tag?, digest?}
  const image = str(p.image)
  if (image) add(splitImage(image, str(p.tag), str(p.digest)))
  return out
}

export function imagesFromEvent(eventName: string, payload: unknown): PushedImage[] {
  const p = obj(payload)
  if (eventName === 'registry_package' || eventName === 'package') return fromGithubPackage(p)
  if (eventName === 'repository_dispatch') return imagesFromDispatch(p.client_payload)
  return []
}

/** `host/path` of a Git URL (https, ssh, SCP-style), lowercase, without `.git`. */
export function repoIdentity(url: string): string {
  let s = url.trim().toLowerCase()
  const scp = /^[\w.-]+@([\w.-]+):(?!\/\/)(.*)$/.exec(s)
  if (scp && !s.includes('://')) s = `${scp[1]}/${scp[2]}`
  else s = s.replace(/^[a-z+]+:\/\//, '').replace(/^[^@/]*@/, '')
  return s
    .replace(/\/+$/, '')
    .replace(/\.git$/, '')
    .replace(/\/+$/, '')
}

export function commitsFromPush(payload: unknown): PushedCommits | undefined {
  const p = obj(payload)
  const ref = str(p.ref)
  const repo = obj(p.repository)
  if (!ref) return undefined
  const repos = [repo.clone_url, repo.html_url, repo.ssh_url, repo.git_url, repo.svn_url]
    .map(str)
    .filter((u): u is string => !!u)
    .map(repoIdentity)
  const out: PushedCommits = {
    repos: [...new Set(repos)],
    deleted: p.deleted === true,
    defaultBranch: str(repo.default_branch) ?? str(repo.master_branch)
  }
  if (ref.startsWith('refs/heads/')) out.branch = ref.slice(11)
  else if (ref.startsWith('refs/tags/')) out.tag = ref.slice(10)
  const commits = arr(p.commits)
  // GitHub lists at most 20 commits; a forced push, or a new branch without new commits, hides
  // what changed relative to what was discovered before.
  const unknown =
    commits.length >= 20 || p.forced === true || (p.created === true && !commits.length)
  if (!unknown) {
    const paths = new Set<string>()
    for (const c of commits) {
      const co = obj(c)
      for (const k of ['added', 'modified', 'removed'])
        for (const f of arr(co[k])) if (typeof f === 'string') paths.add(f)
    }
    out.paths = [...paths]
  }
  return out
}

export interface ProjectWarehouses {
  warehouses: Map<string, Warehouse>
}

export function warehousesForEvent(
  model: ProjectWarehouses,
  eventName: string,
  payload: unknown
): { warehouses: string[]; reason: string } {
  const all = [...model.warehouses.keys()].sort()
  if (
    eventName === 'registry_package' ||
    eventName === 'package' ||
    eventName === 'repository_dispatch'
  ) {
    const images = imagesFromEvent(eventName, payload)
    if (!images.length)
      return {
        warehouses: [],
        reason: `${eventName}: no image found in the payload (expected GHCR package, Docker Hub, Harbor, Quay or {image, tag, digest})`
      }
    const wanted = new Set(images.map((i) => normalizeImageUrl(i.repoURL)))
    const hits = all.filter((name) =>
      model.warehouses
        .get(name)!
        .spec.subscriptions.some(
          (s) =>
            (s.image && wanted.has(normalizeImageUrl(s.image.repoURL))) ||
            (s.chart?.repoURL.startsWith('oci://') &&
              wanted.has(normalizeChartUrl(s.chart.repoURL)))
        )
    )
    const what = images.map((i) => `${i.repoURL}${i.tag ? `:${i.tag}` : ''}`).join(', ')
    return {
      warehouses: hits,
      reason: hits.length
        ? `${eventName}: ${what} → ${hits.join(', ')}`
        : `${eventName}: no warehouse subscribes to ${what}`
    }
  }
  if (eventName === 'push') {
    const push = commitsFromPush(payload)
    if (!push) return { warehouses: [], reason: 'push: payload has no ref' }
    if (
      push.branch &&
      (push.branch.startsWith('waybill/') || push.branch.startsWith(PROMOTION_BRANCH_PREFIX))
    )
      return {
        warehouses: [],
        reason: `push to Waybill's own branch ${push.branch}: nothing to discover`
      }
    const repos = new Set(push.repos)
    const hits = all.filter((name) =>
      model.warehouses.get(name)!.spec.subscriptions.some((s) => {
        const g = s.git
        if (!g || !repos.has(repoIdentity(g.repoURL))) return false
        const strategy = g.commitSelectionStrategy ?? 'NewestFromBranch'
        if (push.tag) return strategy !== 'NewestFromBranch'
        if (strategy !== 'NewestFromBranch' || push.deleted) return false
        const branch = g.branch ?? push.defaultBranch
        if (branch !== undefined && branch !== push.branch) return false
        if (!push.paths) return true
        return compilePathFilter(g.includePaths, g.excludePaths).matches(push.paths)
      })
    )
    const ref = push.branch ? `branch ${push.branch}` : `tag ${push.tag ?? '?'}`
    return {
      warehouses: hits,
      reason: hits.length
        ? `push to ${ref}: ${hits.join(', ')}`
        : `push to ${ref}: no Git subscription follows it with matching paths`
    }
  }
  return { warehouses: all, reason: `${eventName || 'manual'}: every warehouse` }
}
