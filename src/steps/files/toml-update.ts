import { defineStep } from '../define.js'
import { keyUpdatesSchema, runKeyUpdates } from './key-updates.js'

/** `toml-update`: sets keys (sjson-style paths) in a TOML file. */
export const tomlUpdate = defineStep({
  name: 'toml-update',
  schema: keyUpdatesSchema,
  run: (config, ctx) => runKeyUpdates('toml', config, ctx)
})
