import type { GitCredentials, GitIdentity } from '../git/git.js'

/**
 * Everything that reaches outside the process, configured once from action inputs or CLI flags
 * and handed down. Tests point these at local servers (registry, git http-backend, fake GitHub,
 * fake Argo CD).
 */
export interface RegistryCredential {
  username?: string
  password?: string
  /** A ready bearer/identity token. */
  token?: string
}

/** Who Waybill's commits are by: the author, and the committer when it differs. */
export interface GitIdentityOptions {
  author: GitIdentity
  committer?: GitIdentity
}

export interface Services {
  /** Credentials for Git remotes over HTTP(S), by URL prefix (longest prefix wins). */
  gitCredentials: Array<{ urlPrefix: string; credentials: GitCredentials }>
  /** Registry credentials by registry host (`ghcr.io`, `127.0.0.1:5000`). */
  registryCredentials: Record<string, RegistryCredential>
  /** Hosts reached over plain HTTP besides localhost and 127.0.0.0/8. */
  insecureRegistries: string[]
  /** Values for the secret(name) expression function. */
  secrets: Record<string, string>
  github: {
    token?: string
    /** REST API base URL (https://api.github.com, GHES, or a test fake). */
    apiUrl: string
    /** Web base URL (https://github.com). */
    serverUrl: string
    /** Extra Git hosts (host[:port]) whose repositories are served by the GitHub API above. */
    hosts: string[]
  }
  argocd?: {
    server: string
    token?: string
    insecure?: boolean
    /** Namespace of Applications when a step gives none. */
    namespace: string
  }
  /** Identity of step commits and tags and of state commits (default: WAYBILL_GIT_IDENTITY). */
  gitIdentity?: GitIdentityOptions
  tools: {
    /** helm binary. */
    helm: string
    /** kustomize invocation: ['kustomize', 'build'] or ['kubectl', 'kustomize']. */
    kustomize: string[]
  }
}

export function credentialsForUrl(services: Services, url: string): GitCredentials | undefined {
  let best: { urlPrefix: string; credentials: GitCredentials } | undefined
  for (const entry of services.gitCredentials) {
    if (
      url.startsWith(entry.urlPrefix) &&
      (!best || entry.urlPrefix.length > best.urlPrefix.length)
    )
      best = entry
  }
  return best && { ...best.credentials, urlPrefix: best.urlPrefix }
}

export function defaultServices(env: NodeJS.ProcessEnv = process.env): Services {
  const token = env.GITHUB_TOKEN || undefined
  const serverUrl = env.GITHUB_SERVER_URL || 'https://github.com'
  return {
    gitCredentials: token
      ? [{ urlPrefix: serverUrl.replace(/\/?$/, '/'), credentials: { token } }]
      : [],
    registryCredentials: token
      ? { 'ghcr.io': { username: 'x-access-token', password: token } }
      : {},
    insecureRegistries: [],
    secrets: {},
    github: { token, apiUrl: env.GITHUB_API_URL || 'https://api.github.com', serverUrl, hosts: [] },
    tools: { helm: 'helm', kustomize: ['kustomize', 'build'] }
  }
}
