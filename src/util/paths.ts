import { resolveInside, type ResolveOptions } from './fs-confined.js'
import { ConfigFieldError } from './errors.js'

/**
 * Resolves a path from step config inside the promotion's working directory, component by
 * component (src/util/fs-confined.ts): absolute paths, `..` escapes and symlinks that lead
 * outside are refused with an error naming the field; symlinks inside are followed, so the
 * result names no symlink that exists (except the last component when `followFinal` is false).
 */
export function confinedPath(
  workDir: string,
  rel: string,
  field: string,
  opts?: ResolveOptions
): string {
  return resolveInside(workDir, rel, field, opts)
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
