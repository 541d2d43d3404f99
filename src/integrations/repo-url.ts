import type { Services } from '../runtime/services.js'
import { ConfigFieldError } from '../util/errors.js'

/**
 * A Git repository URL split into the parts the GitHub integration needs. Accepts https/http,
 * ssh:// and SCP-style (`git@host:owner/repo.git`) and file:// URLs.
 */
export interface RepoUrl {
  /** `https`, `http`, `ssh` or `file`. */
  scheme: string
  /** host[:port], lowercase; empty for file:// URLs. */
  host: string
  /** Path segments before the repository name, joined with `/` (GitHub: the owner). */
  owner: string
  /** Repository name without a trailing `.git`. */
  repo: string
}

/** Parses a repository URL; returns undefined when it is not one. */
export function parseRepoUrl(url: string): RepoUrl | undefined {
  const trimmed = url.trim()
  let scheme: string
  let host: string
  let path: string
  const m = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)/i.exec(trimmed)
  if (m) {
    scheme = m[1].toLowerCase()
    const authority = m[2]
    host = authority.slice(authority.lastIndexOf('@') + 1).toLowerCase()
    path = m[3]
  } else {
    const scp = /^(?:[\w.-]+@)?([\w.-]+):(?!\/\/)(.+)$/.exec(trimmed)
    if (!scp) return undefined
    scheme = 'ssh'
    host = scp[1].toLowerCase()
    path = '/' + scp[2]
  }
  if (scheme === 'ssh') host = host.replace(/:22$/, '')
  if (scheme === 'https') host = host.replace(/:443$/, '')
  if (scheme === 'http') host = host.replace(/:80$/, '')
  const segments = path
    .replace(/\/+$/, '')
    .split('/')
    .filter((s) => s !== '')
  if (segments.length === 0) return undefined
  const repo = segments[segments.length - 1].replace(/\.git$/, '')
  if (!repo) return undefined
  return { scheme, host, owner: segments.slice(0, -1).join('/'), repo }
}

/** A repository served by a GitHub (github.com, GHES, or a host mapped in services.github.hosts). */
export interface GitHubRepo {
  owner: string
  repo: string
  host: string
  /** REST API base URL for this repository. */
  apiUrl: string
  /** Web base URL (for commit and PR links). */
  serverUrl: string
}

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).host.toLowerCase()
  } catch {
    return undefined
  }
}

/**
 * Decides whether `url` is served by GitHub: github.com (and www.github.com), the host of
 * services.github.serverUrl (GHES, from GITHUB_SERVER_URL), or any host in services.github.hosts.
 * Returns undefined for other hosts and for file:// URLs.
 */
export function githubRepoFor(services: Services, url: string): GitHubRepo | undefined {
  const parsed = parseRepoUrl(url)
  if (!parsed || parsed.scheme === 'file' || !parsed.host) return undefined
  if (!parsed.owner || parsed.owner.includes('/')) return undefined
  const serverHost = hostOf(services.github.serverUrl)
  const extra = services.github.hosts.map((h) => h.toLowerCase())
  const isDotCom = parsed.host === 'github.com' || parsed.host === 'www.github.com'
  if (!isDotCom && parsed.host !== serverHost && !extra.includes(parsed.host)) return undefined
  const apiUrl =
    isDotCom && serverHost !== 'github.com' ? 'https://api.github.com' : services.github.apiUrl
  const serverUrl =
    isDotCom && serverHost !== 'github.com' ? 'https://github.com' : services.github.serverUrl
  return {
    owner: parsed.owner,
    repo: parsed.repo,
    host: parsed.host,
    apiUrl: apiUrl.replace(/\/+$/, ''),
    serverUrl: serverUrl.replace(/\/+$/, '')
  }
}

export const GIT_PROVIDERS = ['azure', 'bitbucket', 'gitea', 'github', 'gitlab'] as const
export type GitProvider = (typeof GIT_PROVIDERS)[number]

/**
 * Resolves the provider for a step: an explicit provider other than github is refused (Waybill
 * only talks to GitHub so far); without one, the repository must be GitHub-served.
 */
export function requireGitHubRepo(
  services: Services,
  repoURL: string,
  provider: GitProvider | undefined,
  field = 'repoURL'
): GitHubRepo {
  assertProviderSupported(provider)
  const gh = githubRepoFor(services, repoURL)
  if (gh) return gh
  const parsed = parseRepoUrl(repoURL)
  if (
    provider === 'github' &&
    parsed &&
    parsed.host &&
    parsed.owner &&
    !parsed.owner.includes('/')
  ) {
    // Explicitly GitHub: trust the user that this host is a GitHub server.
    return {
      owner: parsed.owner,
      repo: parsed.repo,
      host: parsed.host,
      apiUrl: services.github.apiUrl.replace(/\/+$/, ''),
      serverUrl: services.github.serverUrl.replace(/\/+$/, '')
    }
  }
  throw new ConfigFieldError(
    field,
    `'${repoURL}' is not a GitHub repository: Waybill talks to github.com, the GITHUB_SERVER_URL host` +
      ` and hosts listed in github-hosts`,
    "set 'provider: github' if this host is a GitHub Enterprise Server, or add it to github-hosts"
  )
}

export function assertProviderSupported(provider: string | undefined): void {
  if (provider && provider !== 'github') {
    throw new ConfigFieldError(
      'provider',
      `provider ${provider} is not supported yet: Waybill works with GitHub only`
    )
  }
}

/** `<serverUrl>/<owner>/<repo>/commit/<sha>` for GitHub-served repositories, else undefined. */
export function commitUrlFor(
  services: Services,
  repoURL: string,
  sha: string,
  provider?: GitProvider
): string | undefined {
  const gh =
    githubRepoFor(services, repoURL) ??
    (provider === 'github' ? safeRequire(services, repoURL, provider) : undefined)
  return gh && `${gh.serverUrl}/${gh.owner}/${gh.repo}/commit/${sha}`
}

function safeRequire(
  services: Services,
  repoURL: string,
  provider: GitProvider
): GitHubRepo | undefined {
  try {
    return requireGitHubRepo(services, repoURL, provider)
  } catch {
    return undefined
  }
}
