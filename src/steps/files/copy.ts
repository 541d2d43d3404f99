import fs from 'node:fs'
import path from 'node:path'
import { z } from 'zod'
import { defineStep } from '../define.js'
import { ConfigFieldError } from '../../util/errors.js'
import { copyFileNoFollow, isWithin, mkdirInside, reresolve } from '../../util/fs-confined.js'
import { exists, gitignoreMatcher, nonEmpty, stepPath, succeeded } from './common.js'

const copySchema = z.strictObject({
  inPath: nonEmpty,
  outPath: nonEmpty,
  ignore: nonEmpty.optional()
})

/**
 * Always ignored, at any depth, as Kargo's copy does: copying a checkout must not copy its `.git`
 * (a worktree's `.git` file would make the copy a second checkout of the source repository).
 */
const ALWAYS_IGNORED = '.git'

interface CopyJob {
  workDir: string
  ignored: (rel: string, isDir: boolean) => boolean
}

/**
 * Copies a file or directory tree, skipping ignored paths; symlinks in the source are refused
 * (never followed). Every destination is resolved inside the working directory at the moment
 * it is written, so a link already in the destination cannot redirect the copy.
 */
function copyTree(job: CopyJob, src: string, dst: string, rel: string): number {
  const st = fs.lstatSync(src)
  if (st.isSymbolicLink())
    throw new ConfigFieldError(
      'copy.inPath',
      `'${rel || path.basename(src)}' is a symbolic link; copy does not follow links`
    )
  if (st.isDirectory()) {
    if (rel && job.ignored(rel, true)) return 0
    const dir = mkdirInside(job.workDir, path.relative(job.workDir, dst), 'copy.outPath')
    let n = 0
    for (const e of fs.readdirSync(src).sort()) {
      n += copyTree(job, path.join(src, e), path.join(dir, e), rel ? `${rel}/${e}` : e)
    }
    return n
  }
  if (!st.isFile()) return 0
  if (rel && job.ignored(rel, false)) return 0
  const parent = mkdirInside(
    job.workDir,
    path.relative(job.workDir, path.dirname(dst)),
    'copy.outPath'
  )
  const target = reresolve(job.workDir, path.join(parent, path.basename(dst)), 'copy.outPath')
  copyFileNoFollow(src, target, st.mode & 0o777)
  return 1
}

export const copy = defineStep({
  name: 'copy',
  schema: copySchema,
  async run(config, ctx) {
    const src = stepPath(ctx, 'copy', 'inPath', config.inPath)
    const dst = stepPath(ctx, 'copy', 'outPath', config.outPath)
    if (!exists(src)) throw new ConfigFieldError('copy.inPath', `'${config.inPath}' does not exist`)
    if (fs.statSync(src).isDirectory() && isWithin(src, dst))
      throw new ConfigFieldError(
        'copy.outPath',
        `'${config.outPath}' is inside inPath '${config.inPath}'; copying a directory into itself never ends`
      )
    const ignored = gitignoreMatcher(`${ALWAYS_IGNORED}\n${config.ignore ?? ''}`)
    const n = copyTree({ workDir: ctx.workDir, ignored }, src, dst, '')
    ctx.logger.info(`copied ${n} file(s) from ${config.inPath} to ${config.outPath}`)
    return succeeded()
  }
})
