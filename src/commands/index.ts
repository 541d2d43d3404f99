import type { Command } from './context.js'
import { versionCommand } from './version.js'
import { validateCommand } from './validate.js'

/** Every command, by name. The CLI and the action both dispatch through this table. */
export const commands: Record<string, Command> = {
  [versionCommand.name]: versionCommand,
  [validateCommand.name]: validateCommand
}
