import type { Logger } from '../util/logger.js'
import type { Services } from './services.js'
import type { RawArgs } from './flags.js'

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
  /** Set commit statuses `waybill/<stage>` on promoted and source commits (unset: off). */
  commitStatuses?: boolean
  /** How long a run may poll in place for waiting steps, in ms (0 = save and exit). */
  waitMs: number
  /** Promotions of different stages a run executes at once (unset: sized to the machine). */
  parallelPromotions?: number
  /**
   * Plan only: promotions run their steps in a scratch directory, skip the steps whose effect is
   * remote, show the diff, and nothing is pushed or recorded.
   */
  dryRun?: boolean
  /** Prints machine output (stdout). */
  print: (text: string) => void
  now: () => Date
}

/** Result every command returns: the exit code and data for the action's outputs. */
export interface CommandResult {
  exitCode: number
  outputs?: Record<string, string>
  /** Markdown for the job summary. */
  summary?: string
}

/** A command's arguments before they are typed by its flag declaration (see commands/define.ts). */
export type CommandArgs = RawArgs
