/**
 * Canonical forms of artifact repository URLs, as Kargo computes them (pkg/urls). Freight IDs and
 * subscription matching depend on these being byte-for-byte identical to Kargo's output.
 */

import { ConfigFieldError } from '../util/errors.js'
import { stripNonPrintable } from '../util/text.js'

interface ParsedUrl {
  scheme: string
  userinfo?: string
  host: string
  path: string
  query?: string
  fragment?: string
}

/** A minimal RFC 3986 split, close to what Go's url.Parse keeps for Git URLs. */
function splitUrl(s: string): ParsedUrl | undefined {
  const m = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(?:\?([^#]*))?(?:#(.*))?$/.exec(s)
  if (!m) return undefined
  const authority = m[2]
  const at = authority.lastIndexOf('@')
  const userinfo = at >= 0 ? authority.slice(0, at) : undefined
  const host = at >= 0 ? authority.slice(at + 1) : authority
  if (/\s/.test(host)) return undefined
  return { scheme: m[1], userinfo, host, path: m[3], query: m[4], fragment: m[5] }
}

function joinUrl(u: ParsedUrl): string {
  let out = `${u.scheme}://`
  if (u.userinfo !== undefined) out += `${u.userinfo}@`
  out += u.host + u.path
  if (u.query !== undefined) out += `?${u.query}`
  if (u.fragment !== undefined) out += `#${u.fragment}`
  return out
}

function trimRepoPath(p: string): string {
  let out = p
  if (out.endsWith('/')) out = out.slice(0, -1)
  if (out.endsWith('.git')) out = out.slice(0, -4)
  return out
}

/** `[user@]host[:path]`, Git's SCP-like syntax. */
const SCP_SYNTAX = /^((?:[\w-]+@)?[\w-]+(?:\.[\w-]+)*)(?::(.*))?$/

/**
 * Kargo's NormalizeGit: lowercase, non-printables removed; for http(s) URLs userinfo is dropped;
 * for http(s) and ssh URLs a trailing `/` then `.git` are trimmed; SCP-style `git@host:path`
 * becomes `ssh://git@host/path`. URLs with a query string, and anything that does not parse, are
 * returned unchanged.
 */
export function normalizeGitUrl(repo: string): string {
  const orig = repo
  const s = stripNonPrintable(repo.toLowerCase())
  if (s.startsWith('http://') || s.startsWith('https://')) {
    const u = splitUrl(s)
    if (!u || u.query !== undefined) return orig
    return joinUrl({ ...u, userinfo: undefined, path: trimRepoPath(u.path) })
  }
  if (s.startsWith('ssh://')) {
    const u = splitUrl(s)
    if (!u || u.query !== undefined) return orig
    return joinUrl({ ...u, path: trimRepoPath(u.path) })
  }
  const m = SCP_SYNTAX.exec(s)
  if (!m) return orig
  const authority = m[1]
  const p = m[2] ? `/${m[2]}` : ''
  return joinUrl({ scheme: 'ssh', host: authority, path: trimRepoPath(p) })
}

// ---------- credentials in URLs ----------

/** `scheme://userinfo@` at the start of a URL; also `userinfo@host/…` without a scheme (images). */
const URL_USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)?([^/?#@\s]*)@(?=[^/?#]*[./:[])/i

/**
 * Why a repository URL from config must not be used as written: it embeds credentials
 * (`https://user:token@host/…`, `https://token@host/…`, `ssh://user:password@…`). They would end
 * up in state, freight, logs and git's remote config. An SSH user name alone (`ssh://git@…`,
 * `git@host:path`) is not a credential and is accepted. The message never repeats the URL.
 */
export function urlCredentialsProblem(url: string): string | undefined {
  const m = URL_USERINFO.exec(url.trim())
  if (!m) return undefined
  const scheme = (m[1] ?? '').toLowerCase()
  const userinfo = m[2]
  if ((scheme === 'ssh://' || scheme === '') && !userinfo.includes(':')) return undefined
  return "embeds credentials (user:password@ or token@ in the URL); remove them and give them through the action's inputs (token, registry-credentials) or the CLI's credential flags instead"
}

/** Throws ConfigFieldError naming `field` (never echoing the credentials) when `url` embeds some. */
export function refuseUrlCredentials(url: string, field: string): void {
  const problem = urlCredentialsProblem(url)
  if (problem) throw new ConfigFieldError(field, `${withoutUrlCredentials(url)} ${problem}`)
}

/** The URL with embedded credentials replaced by `***`, for messages that show which URL. */
export function withoutUrlCredentials(url: string): string {
  if (!urlCredentialsProblem(url)) return url
  return url
    .trim()
    .replace(URL_USERINFO, (_all, scheme: string | undefined) => `${scheme ?? ''}***@`)
}

// ---------- images and charts ----------

const DEFAULT_REGISTRY = 'index.docker.io'
const REPOSITORY_CHARS = /^[a-z0-9_./-]+$/
const TAG = /^[\w][\w.-]{0,127}$/
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/

export interface ImageReference {
  /** Registry host, `index.docker.io` for Docker Hub. */
  registry: string
  /** Repository path inside the registry (`library/nginx` on Docker Hub). */
  repository: string
  tag?: string
  digest?: string
}

/**
 * Parses an image reference the way go-containerregistry's name.ParseReference does with weak
 * validation; undefined when it is not a valid reference.
 */
export function parseImageReference(ref: string): ImageReference | undefined {
  let base = ref
  let tag: string | undefined
  let digest: string | undefined
  const at = base.indexOf('@')
  if (at >= 0) {
    digest = base.slice(at + 1)
    base = base.slice(0, at)
    if (!DIGEST.test(digest)) return undefined
  } else {
    const colon = base.lastIndexOf(':')
    if (colon > base.lastIndexOf('/')) {
      tag = base.slice(colon + 1)
      base = base.slice(0, colon)
      if (!TAG.test(tag)) return undefined
    }
  }
  let registry = DEFAULT_REGISTRY
  let repository = base
  const slash = base.indexOf('/')
  if (slash >= 0) {
    const first = base.slice(0, slash)
    if (first.includes('.') || first.includes(':') || first === 'localhost') {
      registry = first
      repository = base.slice(slash + 1)
    }
  }
  if (registry === 'docker.io') registry = DEFAULT_REGISTRY
  if (
    !/^[a-zA-Z0-9.-]+(?::[0-9]*)?$/.test(registry) &&
    !/^\[[0-9a-fA-F:.]+\](?::[0-9]*)?$/.test(registry)
  )
    return undefined
  if (registry === DEFAULT_REGISTRY && !repository.includes('/'))
    repository = `library/${repository}`
  if (repository.length < 2 || repository.length > 255 || !REPOSITORY_CHARS.test(repository))
    return undefined
  return { registry, repository, tag, digest }
}

/**
 * Kargo's NormalizeImage: `registry/repository` without tag or digest; Docker Hub images lose
 * their registry and `library/` prefix (`nginx`, `bitnami/nginx`). Unparsable input is returned
 * unchanged.
 */
export function normalizeImageUrl(repo: string): string {
  const ref = parseImageReference(repo)
  if (!ref) return repo
  if (ref.registry === DEFAULT_REGISTRY) return ref.repository.replace(/^library\//, '')
  return `${ref.registry}/${ref.repository}`
}

/**
 * Kargo's NormalizeChart: lowercase, `oci://` removed, then normalized as an image reference;
 * classic HTTP(S) chart repositories do not parse as images and stay lowercased.
 */
export function normalizeChartUrl(repo: string): string {
  let s = repo.toLowerCase().trim()
  if (s.startsWith('oci://')) s = s.slice('oci://'.length)
  return normalizeImageUrl(s)
}

/** Go's path.Clean: lexical cleanup of a slash-separated path. */
export function goPathClean(p: string): string {
  if (p === '') return '.'
  const rooted = p.startsWith('/')
  const out: string[] = []
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue
    if (part === '..') {
      if (out.length && out[out.length - 1] !== '..') out.pop()
      else if (!rooted) out.push('..')
      continue
    }
    out.push(part)
  }
  const joined = out.join('/')
  if (rooted) return '/' + joined
  return joined === '' ? '.' : joined
}

/** Go's path.Join: joins non-empty elements with `/` and cleans the result. */
export function goPathJoin(...elems: string[]): string {
  const nonEmpty = elems.filter((e) => e !== '')
  if (nonEmpty.length === 0) return ''
  return goPathClean(nonEmpty.join('/'))
}
