import { createAppAuth } from '@octokit/auth-app'
import { request } from '@octokit/request'
import type { Services } from '../runtime/services.js'
import type { Logger } from '../util/logger.js'
import { WaybillError } from '../util/errors.js'

/**
 * GitHub App authentication: an installation token minted from the app's ID and private key.
 * Pushes made with GITHUB_TOKEN start no workflows and cannot pass branch protection that
 * requires a specific actor; an App's token can, which is why real pipelines use one.
 */
export interface GitHubAppConfig {
  appId: string
  /** PEM private key (PKCS#1 or PKCS#8); `\n` escapes from a one-line secret are accepted. */
  privateKey: string
  /** Found from `repository` when not given. */
  installationId?: number
  /** owner/repo the action runs in: where to look the installation up. */
  repository?: string
  apiUrl: string
}

export interface InstallationToken {
  token: string
  expiresAt: Date
}

/** Refresh this long before expiry: longer than any single step waits between checks. */
export const REFRESH_MARGIN_MS = 10 * 60_000

export function normalizePrivateKey(key: string): string {
  const k = key.includes('\\n') && !key.includes('\n') ? key.replace(/\\n/g, '\n') : key
  return k.trim() + '\n'
}

function appError(cfg: GitHubAppConfig, err: unknown): WaybillError {
  const status = (err as { status?: number }).status
  const what = `GitHub App ${cfg.appId}`
  if (status === 401)
    return new WaybillError(
      `${what}: GitHub refused the app's JSON web token (HTTP 401)`,
      'check that private-key is the key generated for this app (Settings → Developer settings → GitHub Apps → Private keys) and that app-id is its App ID, not its client ID'
    )
  if (status === 404)
    return new WaybillError(
      `${what} is not installed on ${cfg.repository ?? `installation ${cfg.installationId}`} (HTTP 404)`,
      'install the app on this repository (the app settings page → Install App) or set installation-id'
    )
  return new WaybillError(`${what}: cannot mint an installation token: ${(err as Error).message}`)
}

export class GitHubAppTokens {
  private cached?: InstallationToken
  private installationId?: number
  private readonly auth: ReturnType<typeof createAppAuth>
  private readonly privateKey: string

  constructor(
    private readonly cfg: GitHubAppConfig,
    private readonly logger: Logger,
    private readonly now: () => Date = () => new Date()
  ) {
    this.privateKey = normalizePrivateKey(cfg.privateKey)
    for (const line of this.privateKey.split('\n')) if (line.trim()) logger.mask(line.trim())
    this.installationId = cfg.installationId
    this.auth = createAppAuth({
      appId: cfg.appId,
      privateKey: this.privateKey,
      request: request.defaults({ baseUrl: cfg.apiUrl.replace(/\/+$/, '') })
    })
  }

  private async findInstallation(): Promise<number> {
    if (this.installationId !== undefined) return this.installationId
    if (!this.cfg.repository)
      throw new WaybillError(
        `GitHub App ${this.cfg.appId}: installation-id is not set and the repository is unknown`,
        'set installation-id, or run in GitHub Actions (GITHUB_REPOSITORY)'
      )
    const [owner, repo] = this.cfg.repository.split('/')
    const { token } = await this.auth({ type: 'app' })
    const res = await request('GET /repos/{owner}/{repo}/installation', {
      baseUrl: this.cfg.apiUrl.replace(/\/+$/, ''),
      owner,
      repo,
      headers: { authorization: `bearer ${token}` }
    })
    this.installationId = res.data.id
    return res.data.id
  }

  /** The current installation token, minted anew when it expires within REFRESH_MARGIN_MS. */
  async token(): Promise<InstallationToken> {
    const left = this.cached ? this.cached.expiresAt.getTime() - this.now().getTime() : 0
    if (this.cached && left > REFRESH_MARGIN_MS) return this.cached
    try {
      const installationId = await this.findInstallation()
      const res = await this.auth({ type: 'installation', installationId, refresh: true })
      const token = (res as { token: string }).token
      const expiresAt = new Date((res as { expiresAt: string }).expiresAt)
      this.logger.mask(token)
      this.cached = { token, expiresAt }
      this.logger.debug(
        `GitHub App ${this.cfg.appId}: installation token valid until ${expiresAt.toISOString()}`
      )
      return this.cached
    } catch (err) {
      if (err instanceof WaybillError) throw err
      throw appError(this.cfg, err)
    }
  }
}

/**
 * Points every place Services uses the GitHub token at `token`: the REST client, Git over HTTPS
 * on the GitHub server, and GHCR. Consumers read services at use time, so a refresh reaches them.
 */
export function useGitHubToken(services: Services, token: string, previous?: string): void {
  services.github.token = token
  const server = services.github.serverUrl.replace(/\/?$/, '/')
  const entry = services.gitCredentials.find(
    (e) => e.urlPrefix === server || (previous !== undefined && e.credentials.token === previous)
  )
  if (entry) entry.credentials = { ...entry.credentials, token }
  else services.gitCredentials.push({ urlPrefix: server, credentials: { token } })
  const ghcr = services.registryCredentials['ghcr.io']
  if (!ghcr || ghcr.password === previous)
    services.registryCredentials['ghcr.io'] = { username: 'x-access-token', password: token }
}

/**
 * Mints the first token into `services` and keeps it fresh while the process runs (a timer that
 * does not keep the process alive). Returns a stop function.
 */
export async function authenticateAsApp(
  services: Services,
  tokens: GitHubAppTokens,
  checkEveryMs = 60_000
): Promise<() => void> {
  let current = (await tokens.token()).token
  useGitHubToken(services, current)
  const timer = setInterval(() => {
    tokens
      .token()
      .then((t) => {
        if (t.token !== current) useGitHubToken(services, t.token, current)
        current = t.token
      })
      .catch(() => {
        // The next check retries; a request made with the old token meanwhile fails loudly.
      })
  }, checkEveryMs)
  timer.unref()
  return () => clearInterval(timer)
}
