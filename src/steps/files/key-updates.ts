import path from 'node:path'
import { parseDocument } from 'yaml'
import { parse as parseToml, stringify as stringifyToml } from 'smol-toml'
import { z } from 'zod'
import type { StepContext, StepResult } from '../types.js'
import { WaybillError } from '../../util/errors.js'
import { parseKeyPath, setInDocument, setInPlain } from '../yaml-paths.js'
import {
  commitMessage,
  formatValue,
  nonEmpty,
  readConfigFile,
  stepPath,
  succeeded,
  writeFileAtomic
} from './common.js'
import { stringifyLike } from './kustomize-set-image.js'

/** The config of yaml-update, json-update and toml-update. */
export const keyUpdatesSchema = z.strictObject({
  path: nonEmpty,
  updates: z.array(z.strictObject({ key: nonEmpty, value: z.unknown() })).min(1)
})

export type UpdateConfig = z.output<typeof keyUpdatesSchema>
export type Format = 'yaml' | 'json' | 'toml'

/** Indentation of a JSON text (the first indented line), defaulting to two spaces. */
export function detectJsonIndent(text: string): string | number {
  const m = /^[{[][^\n]*\n([ \t]+)\S/.exec(text)
  return m ? m[1] : 2
}

/** Applies sjson-style key updates to a YAML/JSON/TOML text. */
export function applyUpdates(
  format: Format,
  text: string,
  updates: UpdateConfig['updates'],
  file: string,
  step: string
): string {
  const paths = updates.map((u, i) => parseKeyPath(u.key, `${step}.updates[${i}].key`))
  const invalid = (e: unknown) =>
    new WaybillError(
      `${step}: ${file} is not valid ${format.toUpperCase()}: ${(e as Error).message}`
    )
  if (format === 'yaml') {
    const doc = parseDocument(text)
    if (doc.errors.length) throw invalid(doc.errors[0])
    updates.forEach((u, i) =>
      setInDocument(doc, paths[i], u.value, u.key, `${step}.updates[${i}].key`)
    )
    return stringifyLike(doc, text)
  }
  let root: unknown
  try {
    root = format === 'json' ? (text.trim() ? JSON.parse(text) : {}) : parseToml(text)
  } catch (e) {
    throw invalid(e)
  }
  updates.forEach((u, i) => {
    root = setInPlain(root, paths[i], u.value, u.key, `${step}.updates[${i}].key`)
  })
  if (format === 'json') {
    return (
      JSON.stringify(root, null, detectJsonIndent(text)) +
      (text.endsWith('\n') || !text ? '\n' : '')
    )
  }
  try {
    return stringifyToml(root) + '\n'
  } catch (e) {
    throw new WaybillError(`${step}: cannot write ${file} as TOML: ${(e as Error).message}`)
  }
}

/** Runs `<format>-update`: applies the updates in place and outputs Kargo's commitMessage. */
export async function runKeyUpdates(
  format: Format,
  config: UpdateConfig,
  ctx: StepContext
): Promise<StepResult> {
  const name = `${format}-update`
  const file = stepPath(ctx, name, 'path', config.path)
  const text = readConfigFile(file, `${name}.path`, config.path)
  const out = applyUpdates(format, text, config.updates, config.path, name)
  if (out !== text) writeFileAtomic(file, out)
  const lines = config.updates.map((u) => `${u.key}: ${formatValue(u.value)}`)
  ctx.logger.info(`${path.normalize(config.path)}:\n${lines.map((l) => `  ${l}`).join('\n')}`)
  return succeeded({ commitMessage: commitMessage(`Updated ${config.path}`, lines) })
}
