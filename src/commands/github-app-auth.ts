import type { CommandContext } from '../runtime/context.js'
import type { GitHubAppOptions } from '../runtime/options.js'
import { authenticateAsApp, GitHubAppTokens } from '../integrations/github-app.js'

/**
 * Authenticates a run as a GitHub App, before its command runs: mints the installation token,
 * points ctx.services (REST client, Git over HTTPS on the GitHub server, GHCR) at it and keeps it
 * fresh while the process runs. The `token` given alongside stays the fallback for what the app
 * token does not replace (extra Git hosts, a GHCR credential set by hand). Returns the stop
 * function of the refresh timer.
 */
export async function authenticateWithApp(
  ctx: CommandContext,
  app: GitHubAppOptions
): Promise<() => void> {
  const tokens = new GitHubAppTokens(
    {
      appId: app.appId,
      privateKey: app.privateKey,
      installationId: app.installationId,
      repository: ctx.repository,
      apiUrl: ctx.services.github.apiUrl
    },
    ctx.logger,
    ctx.now
  )
  const stop = await authenticateAsApp(ctx.services, tokens)
  ctx.logger.info(`authenticated as GitHub App ${app.appId}`)
  return stop
}
