import type { Command } from '../runtime/context.js'
import { VERSION } from '../version.js'

export const versionCommand: Command = {
  name: 'version',
  description: 'Print the Waybill version',
  flags: {},
  async run(ctx) {
    ctx.print(ctx.json ? JSON.stringify({ version: VERSION }) : VERSION)
    return { exitCode: 0, outputs: { version: VERSION } }
  }
}
