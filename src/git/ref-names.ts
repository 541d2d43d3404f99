import { ConfigFieldError } from '../util/errors.js'

/**
 * Git's own grammar for ref names (`git check-ref-format`), checked where a branch, tag or commit
 * ID enters from config or an event, before it reaches a git argument list: a value that git
 * would refuse, or that starts with `-` and would read as an option, is refused with the field
 * named instead.
 */

/** Why `name` (a branch or tag name, without refs/heads/ or refs/tags/) is not valid, or undefined. */
export function refNameProblem(name: string): string | undefined {
  if (!name) return 'is empty'
  if (name.startsWith('-')) return "must not start with '-'"
  if (name === '@') return "must not be '@'"
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(name))
    return 'must not contain spaces, control characters or any of ~ ^ : ? * [ \\'
  if (name.includes('..')) return "must not contain '..'"
  if (name.includes('@{')) return "must not contain '@{'"
  if (name.startsWith('/') || name.endsWith('/') || name.includes('//'))
    return "must not start or end with '/' or contain '//'"
  if (name.endsWith('.')) return "must not end with '.'"
  for (const part of name.split('/')) {
    if (part.startsWith('.')) return "must not have a component starting with '.'"
    if (part.endsWith('.lock')) return "must not have a component ending with '.lock'"
  }
  return undefined
}

/** Throws ConfigFieldError naming `field` unless `name` is a valid branch or tag name. */
export function checkRefName(name: string, field: string, what = 'branch'): string {
  const problem = refNameProblem(name)
  if (problem)
    throw new ConfigFieldError(
      field,
      `invalid ${what} name '${name}': ${problem}`,
      'see git check-ref-format'
    )
  return name
}

const COMMIT_ID = /^[0-9a-f]{4,64}$/i

/** True for a full or abbreviated hexadecimal commit ID (4 to 64 digits: SHA-1 or SHA-256). */
export function isCommitId(id: string): boolean {
  return COMMIT_ID.test(id)
}

/** Throws ConfigFieldError naming `field` unless `id` is a hexadecimal commit ID. */
export function checkCommitId(id: string, field: string): string {
  if (!isCommitId(id))
    throw new ConfigFieldError(
      field,
      `invalid commit ID '${id}': expected 4 to 64 hexadecimal digits`
    )
  return id
}

/** A full object ID as git prints it (SHA-1 or SHA-256). */
export function isObjectId(id: string): boolean {
  return /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/.test(id)
}
