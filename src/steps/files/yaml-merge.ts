import fs from 'node:fs'
import { isMap, isScalar, parseDocument, YAMLMap, type Document } from 'yaml'
import { z } from 'zod'
import { defineStep } from '../define.js'
import { ConfigFieldError, WaybillError } from '../../util/errors.js'
import { confinedPath } from '../../util/paths.js'
import { readFileNoFollow } from '../../util/fs-confined.js'
import { nonEmpty, stepPath, succeeded, writeFileAtomic } from './common.js'

const mergeSchema = z.strictObject({
  inFiles: z.array(z.string()).min(1),
  outFile: nonEmpty,
  ignoreMissingFiles: z.boolean().default(false)
})

const keyOf = (k: unknown): string => String(isScalar(k) ? k.value : k)

/** Deep-merges `src` into `dst` (maps merge key by key, anything else is replaced), keeping comments. */
export function mergeInto(dst: YAMLMap, src: YAMLMap): void {
  for (const pair of src.items) {
    const key = keyOf(pair.key)
    const cur = dst.items.find((p) => keyOf(p.key) === key)
    if (cur && isMap(cur.value) && isMap(pair.value)) mergeInto(cur.value, pair.value)
    else if (cur) cur.value = pair.value
    else dst.items.push(pair)
  }
}

export const yamlMerge = defineStep({
  name: 'yaml-merge',
  schema: mergeSchema,
  async run(config, ctx) {
    const out = stepPath(ctx, 'yaml-merge', 'outFile', config.outFile)
    let merged: Document | undefined
    config.inFiles.forEach((rel, i) => {
      const field = `yaml-merge.inFiles[${i}]`
      const full = confinedPath(ctx.workDir, rel, field)
      if (!fs.existsSync(full)) {
        if (config.ignoreMissingFiles) {
          ctx.logger.info(`skipping missing ${rel}`)
          return
        }
        throw new ConfigFieldError(field, `'${rel}' does not exist`)
      }
      const doc = parseDocument(readFileNoFollow(full).toString('utf8'))
      if (doc.errors.length)
        throw new WaybillError(`yaml-merge: ${rel} is not valid YAML: ${doc.errors[0].message}`)
      if (doc.contents === null) return
      if (!isMap(doc.contents)) throw new ConfigFieldError(field, `'${rel}' is not a YAML map`)
      if (!merged) merged = doc
      else mergeInto(merged.contents as YAMLMap, doc.contents)
    })
    const text = merged ? merged.toString({ lineWidth: 0 }) : '{}\n'
    writeFileAtomic(out, text, 0o644)
    ctx.logger.info(`merged ${config.inFiles.length} file(s) into ${config.outFile}`)
    return succeeded()
  }
})
