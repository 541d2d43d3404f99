import type { CommandArgs, CommandContext, CommandResult } from '../runtime/context.js'
import { flagValues, type FlagSpecs, type FlagValues } from '../runtime/flags.js'
import { UsageError } from '../util/errors.js'

/** A command as the table holds it: the CLI and the action call `run` with untyped arguments. */
export interface Command {
  name: string
  description: string
  /** Flags beyond the common ones. */
  flags: FlagSpecs
  run(ctx: CommandContext, args: CommandArgs): Promise<CommandResult>
}

export interface CommandDefinition<Flags extends FlagSpecs> {
  name: string
  description: string
  flags: Flags
  /**
   * The command honours `dry-run` (ctx.dryRun): it has a dry run of its own, or changes nothing
   * anyway. Any other command refuses to run as a dry run rather than change the state.
   */
  dryRun?: boolean
  /** Receives the declared flags typed: string | undefined, boolean, or string[] (repeatable). */
  run(ctx: CommandContext, args: FlagValues<Flags>): Promise<CommandResult>
}

/** Declares a command; its arguments are typed from `flags` at the one boundary both entries use. */
export function defineCommand<const Flags extends FlagSpecs>(
  def: CommandDefinition<Flags>
): Command {
  return {
    name: def.name,
    description: def.description,
    flags: def.flags,
    run: (ctx, args) => {
      if (ctx.dryRun && !def.dryRun)
        throw new UsageError(
          `${def.name} has no dry run: it changes the state branch or files`,
          'dry-run is supported by promote and by the commands that change nothing (status, plan, validate, migrate, version)'
        )
      return def.run(ctx, flagValues(def.flags, args))
    }
  }
}
