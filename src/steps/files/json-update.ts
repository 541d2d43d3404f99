import { defineStep } from '../define.js'
import { keyUpdatesSchema, runKeyUpdates } from './key-updates.js'

/** `json-update`: sets keys (sjson-style paths) in a JSON file. */
export const jsonUpdate = defineStep({
  name: 'json-update',
  schema: keyUpdatesSchema,
  run: (config, ctx) => runKeyUpdates('json', config, ctx)
})
