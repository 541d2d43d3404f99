import fs from 'node:fs'
import path from 'node:path'
import zlib from 'node:zlib'
import { z } from 'zod'
import { defineStep } from '../define.js'
import { ConfigFieldError } from '../../util/errors.js'
import {
  exists,
  gitignoreMatcher,
  nonEmpty,
  stepPath,
  succeeded,
  writeFileAtomic
} from './common.js'
import { buildArchive, inside } from './tar-archive.js'

const schema = z.strictObject({
  inPath: nonEmpty,
  outPath: nonEmpty,
  ignore: nonEmpty.optional(),
  gzip: z.boolean().default(false)
})

/** `tar`: archives a file or directory (optionally gzipped), skipping ignored paths. */
export const tar = defineStep({
  name: 'tar',
  schema,
  async run(config, ctx) {
    const src = stepPath(ctx, 'tar', 'inPath', config.inPath)
    const out = stepPath(ctx, 'tar', 'outPath', config.outPath)
    if (!exists(src)) throw new ConfigFieldError('tar.inPath', `'${config.inPath}' does not exist`)
    if (inside(path.resolve(src), path.resolve(out)) && fs.statSync(src).isDirectory())
      throw new ConfigFieldError('tar.outPath', `'${config.outPath}' is inside inPath`)
    const raw = Buffer.concat(buildArchive(src, gitignoreMatcher(config.ignore)))
    writeFileAtomic(out, config.gzip ? zlib.gzipSync(raw) : raw, 0o644)
    ctx.logger.info(
      `archived ${config.inPath} into ${config.outPath}${config.gzip ? ' (gzip)' : ''}`
    )
    return succeeded()
  }
})
