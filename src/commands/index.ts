import type { Command } from './define.js'
import { versionCommand } from './version.js'
import { validateCommand } from './validate.js'
import { promoteCommand } from './promote.js'
import { approveCommand } from './approve.js'
import { respondCommand } from './respond.js'
import { abortCommand } from './abort.js'
import { verifyCommand } from './verify.js'
import { planCommand } from './plan.js'
import { assembleCommand } from './assemble.js'
import { reconcileCommand } from './reconcile.js'
import { initCommand } from './init.js'
import { demoCommand } from './demo.js'
import { statusCommand } from './status.js'
import { discoverCommand } from './discover.js'
import { migrateCommand } from './migrate.js'

/** Every command, by name. The CLI and the action both dispatch through this table. */
export const commands: Record<string, Command> = {
  [versionCommand.name]: versionCommand,
  [validateCommand.name]: validateCommand,
  [promoteCommand.name]: promoteCommand,
  [approveCommand.name]: approveCommand,
  [respondCommand.name]: respondCommand,
  [abortCommand.name]: abortCommand,
  [verifyCommand.name]: verifyCommand,
  [planCommand.name]: planCommand,
  [assembleCommand.name]: assembleCommand,
  [reconcileCommand.name]: reconcileCommand,
  [initCommand.name]: initCommand,
  [demoCommand.name]: demoCommand,
  [statusCommand.name]: statusCommand,
  [discoverCommand.name]: discoverCommand,
  [migrateCommand.name]: migrateCommand
}
