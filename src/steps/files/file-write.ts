import fs from 'node:fs'
import { z } from 'zod'
import { defineStep } from '../define.js'
import { ConfigFieldError } from '../../util/errors.js'
import { exists, nonEmpty, stepPath, succeeded, writeFileAtomic } from './common.js'

const writeSchema = z.strictObject({
  path: nonEmpty,
  contents: z.string(),
  permissions: z
    .string()
    .regex(/^0[0-7]{3}$/, 'must be an octal mode like 0644')
    .default('0600'),
  overwrite: z.boolean().default(false)
})

export const fileWrite = defineStep({
  name: 'file-write',
  schema: writeSchema,
  async run(config, ctx) {
    const full = stepPath(ctx, 'file-write', 'path', config.path)
    const mode = parseInt(config.permissions, 8)
    if (exists(full)) {
      if (!config.overwrite)
        throw new ConfigFieldError(
          'file-write.path',
          `'${config.path}' already exists (set overwrite: true to replace it)`
        )
      if (fs.lstatSync(full).isDirectory())
        throw new ConfigFieldError('file-write.path', `'${config.path}' is a directory`)
    }
    writeFileAtomic(full, config.contents, mode)
    fs.chmodSync(full, mode)
    ctx.logger.info(`wrote ${config.path} (${config.permissions})`)
    return succeeded()
  }
})
