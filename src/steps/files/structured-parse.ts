import { parse as parseYaml } from 'yaml'
import { parse as parseToml } from 'smol-toml'
import { z } from 'zod'
import type { StepContext, StepResult } from '../types.js'
import { ConfigFieldError, WaybillError } from '../../util/errors.js'
import { builtinFunctions, evaluateExpression } from '../../expressions/index.js'
import { nonEmpty, readConfigFile, stepPath, succeeded } from './common.js'

/** The config of yaml-parse, json-parse and toml-parse. */
export const parseSchema = z.strictObject({
  path: nonEmpty,
  outputs: z.array(z.strictObject({ name: nonEmpty, fromExpression: nonEmpty })).min(1)
})

export type ParseConfig = z.output<typeof parseSchema>
export type Format = 'yaml' | 'json' | 'toml'

function parseText(format: Format, text: string): unknown {
  if (format === 'json') return JSON.parse(text)
  if (format === 'toml') return parseToml(text)
  return parseYaml(text)
}

/** Strips `${{ }}` if a user wrote the expression as a template. */
function bareExpression(expr: string): string {
  const m = /^\s*\$\{\{([\s\S]*)\}\}\s*$/.exec(expr)
  return m ? m[1] : expr
}

/** Runs `<format>-parse`: reads the file and evaluates each output's expression over it. */
export async function runParse(
  format: Format,
  config: ParseConfig,
  ctx: StepContext
): Promise<StepResult> {
  const name = `${format}-parse`
  const file = stepPath(ctx, name, 'path', config.path)
  const text = readConfigFile(file, `${name}.path`, config.path)
  let data: unknown
  try {
    data = parseText(format, text)
  } catch (e) {
    throw new WaybillError(
      `${name}: ${config.path} is not valid ${format.toUpperCase()}: ${(e as Error).message}`
    )
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    throw new ConfigFieldError(
      `${name}.path`,
      `'${config.path}' does not hold a ${format.toUpperCase()} object at the top level`
    )
  const vars = data as Record<string, unknown>
  const outputs: Record<string, unknown> = {}
  config.outputs.forEach((o, i) => {
    try {
      outputs[o.name] = evaluateExpression(bareExpression(o.fromExpression), {
        vars,
        functions: builtinFunctions
      })
    } catch (e) {
      throw new ConfigFieldError(`${name}.outputs[${i}].fromExpression`, (e as Error).message)
    }
  })
  ctx.logger.info(`${config.path}: ${Object.keys(outputs).join(', ')}`)
  return succeeded(outputs)
}
