import fs from 'node:fs'
import path from 'node:path'
import picomatch from 'picomatch'
import { isMap, isScalar, parseDocument, YAMLMap, type Document } from 'yaml'
import { z } from 'zod'
import type { StepDefinition } from '../types.js'
import { ConfigFieldError, WaybillError } from '../../util/errors.js'
import { confinedPath } from '../../util/paths.js'
import {
  exists,
  gitignoreMatcher,
  nonEmpty,
  parser,
  stepPath,
  succeeded,
  writeFileAtomic
} from './common.js'

// ---------------------------------------------------------------- yaml-merge

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

export const yamlMerge: StepDefinition<z.output<typeof mergeSchema>> = {
  name: 'yaml-merge',
  parse: parser('yaml-merge', mergeSchema),
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
      const doc = parseDocument(fs.readFileSync(full, 'utf8'))
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
}

// ---------------------------------------------------------------- copy

const copySchema = z.strictObject({
  inPath: nonEmpty,
  outPath: nonEmpty,
  ignore: nonEmpty.optional()
})

/** Copies a file or directory tree, skipping ignored paths; symlinks are refused (never followed). */
function copyTree(
  src: string,
  dst: string,
  rel: string,
  ignored: (rel: string, isDir: boolean) => boolean,
  field: string
): number {
  const st = fs.lstatSync(src)
  if (st.isSymbolicLink())
    throw new ConfigFieldError(
      field,
      `'${rel || path.basename(src)}' is a symbolic link; copy does not follow links`
    )
  if (st.isDirectory()) {
    if (rel && ignored(rel, true)) return 0
    fs.mkdirSync(dst, { recursive: true })
    let n = 0
    for (const e of fs.readdirSync(src)) {
      n += copyTree(path.join(src, e), path.join(dst, e), rel ? `${rel}/${e}` : e, ignored, field)
    }
    return n
  }
  if (rel && ignored(rel, false)) return 0
  fs.mkdirSync(path.dirname(dst), { recursive: true })
  fs.copyFileSync(src, dst)
  fs.chmodSync(dst, st.mode & 0o777)
  return 1
}

export const copy: StepDefinition<z.output<typeof copySchema>> = {
  name: 'copy',
  parse: parser('copy', copySchema),
  async run(config, ctx) {
    const src = stepPath(ctx, 'copy', 'inPath', config.inPath)
    const dst = stepPath(ctx, 'copy', 'outPath', config.outPath)
    if (!exists(src)) throw new ConfigFieldError('copy.inPath', `'${config.inPath}' does not exist`)
    const ignored = gitignoreMatcher(config.ignore)
    const n = copyTree(src, dst, '', ignored, 'copy.inPath')
    ctx.logger.info(`copied ${n} file(s) from ${config.inPath} to ${config.outPath}`)
    return succeeded()
  }
}

// ---------------------------------------------------------------- delete

const deleteSchema = z
  .strictObject({
    path: nonEmpty.optional(),
    paths: z.array(nonEmpty).min(1).optional(),
    pathsAreGlobs: z.boolean().default(false),
    strict: z.boolean().default(false)
  })
  .refine((c) => (c.path === undefined) !== (c.paths === undefined), {
    message: "exactly one of 'path' and 'paths' must be set"
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

export const del: StepDefinition<z.output<typeof deleteSchema>> = {
  name: 'delete',
  parse: parser('delete', deleteSchema),
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
        targets = globMatches(ctx.workDir, norm).map((r) => confinedPath(ctx.workDir, r, field))
      } else {
        const full = confinedPath(ctx.workDir, rel, field)
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
}

// ---------------------------------------------------------------- file-write

const writeSchema = z.strictObject({
  path: nonEmpty,
  contents: z.string(),
  permissions: z
    .string()
    .regex(/^0[0-7]{3}$/, 'must be an octal mode like 0644')
    .default('0600'),
  overwrite: z.boolean().default(false)
})

export const fileWrite: StepDefinition<z.output<typeof writeSchema>> = {
  name: 'file-write',
  parse: parser('file-write', writeSchema),
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
}
