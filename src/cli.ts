// CLI entry: flags → WaybillOptions → CommandContext, then the command from the shared table.
import { parseArgs } from 'node:util'
import { commands } from './commands/index.js'
import { ConsoleLogger, safeText } from './util/logger.js'
import { UsageError, errorMessage } from './util/errors.js'
import { replaceNonPrintable } from './util/text.js'
import type { Services } from './runtime/services.js'
import { flagValues, type RawArgs } from './runtime/flags.js'
import { COMMON_FLAGS, optionsFromFlags, serviceOptionsFromFlags } from './runtime/options.js'
import { createContext, servicesFromOptions } from './runtime/create-context.js'
import { authenticateWithApp } from './commands/github-app-auth.js'

function usage(): string {
  const lines = ['Usage: waybill <command> [flags]', '', 'Commands:']
  for (const c of Object.values(commands)) lines.push(`  ${c.name.padEnd(12)} ${c.description}`)
  lines.push('', 'Common flags:')
  for (const [name, f] of Object.entries(COMMON_FLAGS))
    lines.push(`  --${name.padEnd(22)} ${f.description}`)
  lines.push('', 'Run `waybill <command> --help` for the flags of one command.')
  return lines.join('\n')
}

function commandUsage(name: string): string {
  const c = commands[name]
  const lines = [`Usage: waybill ${name} [flags]`, '', c.description, '']
  for (const [flag, f] of Object.entries(c.flags))
    lines.push(`  --${flag.padEnd(22)} ${f.description}`)
  return lines.join('\n')
}

/**
 * Services from CLI flag values and the environment, as the CLI builds them (tests and the bench
 * build theirs this way too, so credentials reach them the way users pass them).
 */
export function servicesFromFlags(
  values: Record<string, unknown>,
  env: NodeJS.ProcessEnv
): Services {
  const flags = flagValues(COMMON_FLAGS, values as RawArgs)
  return servicesFromOptions(serviceOptionsFromFlags(flags), env)
}

export async function runCli(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env
): Promise<number> {
  const [given, ...rest] = argv
  // The flags most CLIs answer, for the command that does it.
  const name = given === '--version' || given === '-v' ? 'version' : given
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n')
    return name ? 0 : 2
  }
  const command = commands[name]
  if (!command) {
    process.stderr.write(`waybill: unknown command '${name}'\n\n${usage()}\n`)
    return 2
  }
  let values: RawArgs
  try {
    const options = { ...COMMON_FLAGS, ...command.flags }
    const parsed = parseArgs({ args: rest, options, allowPositionals: true, strict: true })
    // Every value is a named flag; a bare word (`promote uat brave-otter`) would otherwise be
    // dropped without a word and the command run without it.
    const [stray] = parsed.positionals
    if (stray !== undefined)
      throw new Error(
        `unexpected argument '${replaceNonPrintable(stray)}': values are given as flags (for example --stage uat --freight brave-otter)`
      )
    values = parsed.values
  } catch (err) {
    process.stderr.write(`waybill ${name}: ${errorMessage(err)}\n\n${commandUsage(name)}\n`)
    return 2
  }
  if (values.help) {
    process.stdout.write(commandUsage(name) + '\n')
    return 0
  }
  const logger = new ConsoleLogger(values.verbose === true)
  let stopApp: (() => void) | undefined
  try {
    const options = optionsFromFlags(values, env)
    const ctx = createContext(options, {
      logger,
      env,
      print: (text) => {
        const out = safeText(text)
        process.stdout.write(out.endsWith('\n') ? out : out + '\n')
      }
    })
    if (options.services.app) stopApp = await authenticateWithApp(ctx, options.services.app)
    const result = await command.run(ctx, values)
    return result.exitCode
  } catch (err) {
    logger.error(errorMessage(err))
    return err instanceof UsageError ? 2 : 1
  } finally {
    stopApp?.()
  }
}
