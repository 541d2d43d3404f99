import { defineStep } from '../define.js'
import { keyUpdatesSchema, runKeyUpdates } from './key-updates.js'

/** `yaml-update`: sets keys (sjson-style paths) in a YAML file. */
export const yamlUpdate = defineStep({
  name: 'yaml-update',
  schema: keyUpdatesSchema,
  run: (config, ctx) => runKeyUpdates('yaml', config, ctx)
})
