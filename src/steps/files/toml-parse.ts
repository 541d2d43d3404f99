import { defineStep } from '../define.js'
import { parseSchema, runParse } from './structured-parse.js'

/** `toml-parse`: reads a TOML file and outputs values picked from it with expressions. */
export const tomlParse = defineStep({
  name: 'toml-parse',
  schema: parseSchema,
  run: (config, ctx) => runParse('toml', config, ctx)
})
