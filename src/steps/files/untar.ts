import fs from 'node:fs'
import zlib from 'node:zlib'
import { z } from 'zod'
import { defineStep } from '../define.js'
import { ConfigFieldError, WaybillError } from '../../util/errors.js'
import { exists, gitignoreMatcher, nonEmpty, stepPath, succeeded } from './common.js'
import { extract, isGzip, readArchive } from './tar-archive.js'

const schema = z.strictObject({
  inPath: nonEmpty,
  outPath: nonEmpty,
  stripComponents: z.number().int().min(0).default(0),
  ignore: nonEmpty.optional()
})

/** `untar`: extracts a (gzipped) tar archive; every entry is checked before anything is written. */
export const untar = defineStep({
  name: 'untar',
  schema,
  async run(config, ctx) {
    const src = stepPath(ctx, 'untar', 'inPath', config.inPath)
    const out = stepPath(ctx, 'untar', 'outPath', config.outPath)
    if (!exists(src))
      throw new ConfigFieldError('untar.inPath', `'${config.inPath}' does not exist`)
    let buf = fs.readFileSync(src)
    if (isGzip(buf)) {
      try {
        buf = zlib.gunzipSync(buf)
      } catch (e) {
        throw new WaybillError(
          `untar: ${config.inPath} is not a valid gzip file: ${(e as Error).message}`
        )
      }
    }
    const entries = readArchive(buf, config.inPath)
    const n = extract(entries, out, {
      strip: config.stripComponents,
      ignored: gitignoreMatcher(config.ignore),
      field: 'untar.inPath'
    })
    ctx.logger.info(`extracted ${n} file(s) from ${config.inPath} into ${config.outPath}`)
    return succeeded()
  }
})
