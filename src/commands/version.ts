import { defineCommand } from './define.js'
import { VERSION } from '../version.js'

export const versionCommand = defineCommand({
  name: 'version',
  description: 'Print the Waybill version',
  dryRun: true,
  flags: {},
  async run(ctx) {
    ctx.print(ctx.json ? JSON.stringify({ version: VERSION }) : VERSION)
    return { exitCode: 0, outputs: { version: VERSION } }
  }
})
