import fs from 'node:fs'
import path from 'node:path'
import picomatch from 'picomatch'
import { z } from 'zod'
import { defineStep } from '../define.js'
import { ConfigFieldError } from '../../util/errors.js'
import { confinedPath } from '../../util/paths.js'
import { exists, nonEmpty, succeeded } from './common.js'

const deleteSchema = z
  .strictObject({
    path: nonEmpty.optional(),
    paths: z.array(nonEmpty).min(1).optional(),
    pathsAreGlobs: z.boolean().default(false),
    strict: z.boolean().default(false)
  })
  .refine((c) => (c.path === undefined) !== (c.paths === undefined), {
    message: "exactly one of 'path' and 'paths' must be set",
    path: ['path']
  })

/** Files and directories under root matching a glob (relative, forward slashes). */
function globMatches(root: string, pattern: string): string[] {
  const isMatch = picomatch(pattern, { dot: true })
  const out: string[] = []
  const walk = (dir: string, rel: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name
      if (isMatch(r)) out.push(r)
      else if (e.isDirectory() && !e.isSymbolicLink()) walk(path.join(dir, e.name), r)
    }
  }
  walk(root, '')
  return out
}

export const del = defineStep({
  name: 'delete',
  schema: deleteSchema,
  async run(config, ctx) {
    const entries =
      config.path !== undefined
        ? [{ rel: config.path, field: 'delete.path' }]
        : (config.paths ?? []).map((rel, i) => ({ rel, field: `delete.paths[${i}]` }))
    let removed = 0
    for (const { rel, field } of entries) {
      let targets: string[]
      if (config.pathsAreGlobs) {
        // Confine the glob's literal prefix, then match inside the working directory only.
        if (path.isAbsolute(rel)) confinedPath(ctx.workDir, rel, field)
        const norm = path.posix.normalize(rel.replace(/\\/g, '/')).replace(/^\.\//, '')
        if (norm === '..' || norm.startsWith('../')) confinedPath(ctx.workDir, rel, field)
        targets = globMatches(ctx.workDir, norm).map((r) =>
          confinedPath(ctx.workDir, r, field, { followFinal: false })
        )
      } else {
        // A link is deleted itself, never what it points to.
        const full = confinedPath(ctx.workDir, rel, field, { followFinal: false })
        if (path.resolve(full) === path.resolve(ctx.workDir))
          throw new ConfigFieldError(field, 'refusing to delete the whole working directory')
        targets = exists(full) ? [full] : []
      }
      if (targets.length === 0) {
        if (config.strict)
          throw new ConfigFieldError(
            field,
            config.pathsAreGlobs ? `'${rel}' matches nothing` : `'${rel}' does not exist`
          )
        continue
      }
      for (const t of targets) {
        fs.rmSync(t, { recursive: true, force: true })
        removed++
      }
    }
    ctx.logger.info(`deleted ${removed} path(s)`)
    return succeeded()
  }
})
