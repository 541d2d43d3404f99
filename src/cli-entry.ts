// Runs the CLI from sources (development and tests): node --import tsx src/cli-entry.ts <command>
import { runCli } from './cli.js'

process.exitCode = await runCli(process.argv.slice(2))
