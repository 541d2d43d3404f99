// One bundle serves both: the action (runner sets inputs) and the CLI (bin/waybill.js sets WAYBILL_CLI).
import { runCli } from './cli.js'
import { run } from './main.js'

if (process.env.WAYBILL_CLI === '1') {
  process.exitCode = await runCli(process.argv.slice(2))
} else {
  await run()
}
