import { ConfigFieldError } from '../../util/errors.js'
import { normalizeGitUrl, refuseUrlCredentials } from '../../freight/urls.js'

/** How a subscription's repoURL reaches its repository. */
export type GitUrlKind = 'https' | 'http' | 'ssh' | 'scp' | 'file'

export interface ParsedGitUrl {
  kind: GitUrlKind
  /** The URL handed to git (SCP-style stays as written). */
  url: string
  /** Cache/comparison key (see gitRepoKey). */
  normalized: string
  /** True for ssh:// and SCP-style URLs, which Kargo deprecates. */
  deprecated: boolean
}

const SCP = /^([\w-]+)@([\w+]+(?:\.[\w-]+)*):(\/?.*)$/

/** Classifies a Git subscription URL; throws ConfigFieldError for anything git must not be given. */
export function parseGitUrl(repoURL: string, field = 'repoURL'): ParsedGitUrl {
  const url = repoURL.trim()
  if (!url) throw new ConfigFieldError(field, 'repository URL is empty')
  refuseUrlCredentials(url, field)
  if (url.startsWith('-')) throw new ConfigFieldError(field, `invalid repository URL '${url}'`)
  const lower = url.toLowerCase()
  let kind: GitUrlKind
  if (lower.startsWith('https://')) kind = 'https'
  else if (lower.startsWith('http://')) kind = 'http'
  else if (lower.startsWith('ssh://')) kind = 'ssh'
  else if (lower.startsWith('file://')) kind = 'file'
  else if (SCP.test(url)) kind = 'scp'
  else
    throw new ConfigFieldError(
      field,
      `unsupported repository URL '${url}'`,
      'use https://host/owner/repo (ssh:// and git@host:path are accepted but deprecated; file:// for local repositories)'
    )
  return { kind, url, normalized: gitRepoKey(url), deprecated: kind === 'ssh' || kind === 'scp' }
}

/**
 * The key repositories are cached and compared under: Kargo's NormalizeGit for remote URLs; for
 * file:// URLs (case-sensitive paths) only trailing `/` and `.git` are dropped.
 */
export function gitRepoKey(repoURL: string): string {
  let url = repoURL.trim()
  // A checkout's origin may be a plain local path; it names the same repository as file://.
  if (url.startsWith('/')) url = 'file://' + url
  if (/^file:\/\//i.test(url))
    return (
      'file://' +
      url
        .slice(7)
        .replace(/\/+$/, '')
        .replace(/\.git$/, '')
    )
  return normalizeGitUrl(url)
}
