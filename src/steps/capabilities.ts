import type { GitCredentials } from '../git/git.js'
import { ArgoCDClient } from '../integrations/argocd.js'
import { githubClient, type GitHubClient } from '../integrations/github.js'
import {
  commitUrlFor,
  requireGitHubRepo,
  type GitHubRepo,
  type GitProvider
} from '../integrations/repo-url.js'
import { RegistryClient } from '../oci/client.js'
import { credentialsForUrl, type RegistryCredential, type Services } from '../runtime/services.js'
import type { Logger } from '../util/logger.js'

/**
 * What a step may reach outside the process. A step declares the capabilities it needs and its
 * context carries only those (`ctx.caps.<name>`): the engine never hands a step the whole
 * Services, so a step that did not ask for credentials, tokens or secrets cannot read them.
 */
export const CAPABILITIES = [
  'gitCredentials',
  'gitHosts',
  'github',
  'argocd',
  'registry',
  'secret',
  'tools'
] as const
export type Capability = (typeof CAPABILITIES)[number]

export interface CapabilityApi {
  /** Credentials for a Git remote over HTTP(S) (longest configured URL prefix wins). */
  gitCredentials(url: string): GitCredentials | undefined
  /** Which hosts are GitHub-served (no token): links to commits. */
  gitHosts: {
    commitUrl(repoURL: string, sha: string, provider?: GitProvider): string | undefined
  }
  /** The GitHub API with the configured token. */
  github: {
    /** The GitHub repository a URL names; a ConfigFieldError on `field` when it is not one. */
    repo(repoURL: string, provider: GitProvider | undefined, field?: string): GitHubRepo
    client(repo: GitHubRepo): GitHubClient
    commitUrl(repoURL: string, sha: string, provider?: GitProvider): string | undefined
  }
  /** The configured Argo CD (throws a WaybillError with a hint when none is). */
  argocd(): { client: ArgoCDClient; namespace: string }
  /** OCI registries with their configured credentials. */
  registry: {
    client(registry: string, opts: { insecureSkipTLSVerify: boolean }): RegistryClient
    /** The credential configured for a registry host, for tools that need it (helm). */
    credentials(): Array<{ host: string; credential: RegistryCredential }>
  }
  /** A named secret (the same values `secret()` reads in expressions). */
  secret(name: string): string | undefined
  /** External binaries. */
  tools: Services['tools']
}

/** The part of the capability API a step that declared `C` receives. */
export type Capabilities<C extends Capability = Capability> = Pick<CapabilityApi, C>

export interface GrantOptions {
  logger: Logger
  signal?: AbortSignal
}

/**
 * Builds the capability object for a step: only the declared members exist, each a closure over
 * the part of Services it needs (nothing enumerable holds a credential).
 */
export function grantCapabilities<C extends Capability>(
  declared: readonly C[],
  services: Services,
  opts: GrantOptions
): Capabilities<C> {
  const all: { [K in Capability]: () => CapabilityApi[K] } = {
    gitCredentials: () => (url) => credentialsForUrl(services, url),
    gitHosts: () => ({
      commitUrl: (repoURL, sha, provider) => commitUrlFor(services, repoURL, sha, provider)
    }),
    github: () => ({
      repo: (repoURL, provider, field) => requireGitHubRepo(services, repoURL, provider, field),
      client: (repo) => githubClient(services, opts.logger, repo.apiUrl),
      commitUrl: (repoURL, sha, provider) => commitUrlFor(services, repoURL, sha, provider)
    }),
    argocd: () => () => ArgoCDClient.fromServices(services, { signal: opts.signal }),
    registry: () => ({
      client: (registry, o) =>
        new RegistryClient(registry, {
          services,
          logger: opts.logger,
          insecureSkipTLSVerify: o.insecureSkipTLSVerify
        }),
      credentials: () =>
        Object.entries(services.registryCredentials ?? {}).map(([host, credential]) => ({
          host,
          credential
        }))
    }),
    secret: () => (name) =>
      Object.prototype.hasOwnProperty.call(services.secrets, name)
        ? services.secrets[name]
        : undefined,
    tools: () => ({ helm: services.tools.helm, kustomize: [...services.tools.kustomize] })
  }
  const caps = {} as Record<string, unknown>
  for (const c of new Set(declared)) caps[c] = all[c]()
  return Object.freeze(caps) as Capabilities<C>
}
