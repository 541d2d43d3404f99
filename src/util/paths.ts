import fs from 'node:fs'
import path from 'node:path'
import { ConfigFieldError } from './errors.js'

/**
 * Resolves a path from step config inside the promotion's working directory. Absolute paths,
 * `..` escapes and symlinks that lead outside are refused with an error naming the field.
 */
export function confinedPath(workDir: string, rel: string, field: string): string {
  if (typeof rel !== 'string' || rel === '')
    throw new ConfigFieldError(field, 'must be a non-empty path')
  if (path.isAbsolute(rel))
    throw new ConfigFieldError(
      field,
      `'${rel}' is absolute; paths are relative to the promotion's working directory`
    )
  const root = path.resolve(workDir)
  const full = path.resolve(root, rel)
  if (full !== root && !full.startsWith(root + path.sep)) {
    throw new ConfigFieldError(field, `'${rel}' leaves the promotion's working directory`)
  }
  // Follow symlinks on the part of the path that exists.
  let existing = full
  while (!fs.existsSync(existing) && existing !== root) existing = path.dirname(existing)
  const real = fs.realpathSync(existing)
  const realRoot = fs.realpathSync(root)
  if (real !== realRoot && !real.startsWith(realRoot + path.sep)) {
    throw new ConfigFieldError(
      field,
      `'${rel}' resolves through a symlink outside the promotion's working directory`
    )
  }
  return full
}

/** Checks a name used as a path component (stage, warehouse): no separators, no dots-only. */
export function safeName(name: string, what: string): string {
  if (!/^[a-zA-Z0-9]([a-zA-Z0-9._-]*[a-zA-Z0-9])?$/.test(name) || name.includes('..')) {
    throw new ConfigFieldError(
      what,
      `'${name}' is not a valid name (letters, digits, '.', '_', '-')`
    )
  }
  return name
}
