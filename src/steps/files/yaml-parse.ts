import { defineStep } from '../define.js'
import { parseSchema, runParse } from './structured-parse.js'

/** `yaml-parse`: reads a YAML file and outputs values picked from it with expressions. */
export const yamlParse = defineStep({
  name: 'yaml-parse',
  schema: parseSchema,
  run: (config, ctx) => runParse('yaml', config, ctx)
})
