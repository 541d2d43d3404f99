import { defineStep } from '../define.js'
import { parseSchema, runParse } from './structured-parse.js'

/** `json-parse`: reads a JSON file and outputs values picked from it with expressions. */
export const jsonParse = defineStep({
  name: 'json-parse',
  schema: parseSchema,
  run: (config, ctx) => runParse('json', config, ctx)
})
