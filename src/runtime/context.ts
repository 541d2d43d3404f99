import type { Logger } from '../util/logger.js'
import type { Services } from './services.js'

/** Everything a command needs, built from CLI flags or action inputs. */
export interface CommandContext {
  /** Working copy of the repository that holds the config; its `remote` holds the state branch. */
  repoDir: string
  /** Config folder, relative to repoDir (default `.waybill`). */
  configDir: string
  stateBranch: string
  remote: string
  /** Waybill's name for Kargo's project (argocd authorization, ctx.project); default the repo name. */
  project?: string
  json: boolean
  logger: Logger
  services: Services
  /** Who asked (github.actor or the local user), recorded on manual actions. */
  actor?: string
  /** URL of the workflow run, recorded on promotions and audit entries. */
  runURL?: string
  /** owner/repo the action runs in (GITHUB_REPOSITORY). */
  repository?: string
  /** Record promotions as GitHub Deployments (environment = stage) in `repository`. */
  deployments?: boolean
  /** How long a run may poll in place for waiting steps, in ms (0 = save and exit). */
  waitMs: number
  /** Prints machine output (stdout). */
  print(text: string): void
  now(): Date
}

/** Result every command returns: the exit code and data for the action's outputs. */
export interface CommandResult {
  exitCode: number
  outputs?: Record<string, string>
  /** Markdown for the job summary. */
  summary?: string
}

export type CommandArgs = Record<string, string | boolean | string[] | undefined>

export interface Command {
  name: string
  description: string
  /** Flags beyond the common ones: name → {type, description}. */
  flags: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; description: string }>
  run(ctx: CommandContext, args: CommandArgs): Promise<CommandResult>
}
