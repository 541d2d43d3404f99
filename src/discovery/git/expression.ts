import { evaluateExpression } from '../../expressions/evaluate.js'
import { timeValue } from '../../expressions/values.js'
import { ConfigFieldError } from '../../util/errors.js'

/** Decides whether one commit or tag passes a subscription's expressionFilter. */
export type CommitFilter = (vars: Record<string, unknown>, what: string) => boolean

/**
 * Compiles an expressionFilter. Variables are Kargo's (commits: id, commitDate, author,
 * committer, subject; tags add tag, creatorDate, tagger, annotation); Date values become Go-style
 * times (`commitDate.Year()`, `creatorDate.After(...)`). The result must be a boolean or a string
 * Go's strconv.ParseBool accepts.
 */
export function compileCommitFilter(
  expr: string | undefined,
  field: string
): CommitFilter | undefined {
  const source = expr?.trim()
  if (!source) return undefined
  return (vars, what) => {
    const env: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(vars)) env[k] = v instanceof Date ? timeValue(v) : v
    let value: unknown
    try {
      value = evaluateExpression(source, { vars: env })
    } catch (err) {
      throw new ConfigFieldError(
        field,
        `evaluating '${source}' for ${what}: ${(err as Error).message}`
      )
    }
    return truthy(value, source, field)
  }
}

/** Go's strconv.ParseBool over an expression result. */
export function truthy(value: unknown, source: string, field: string): boolean {
  if (typeof value === 'boolean') return value
  if (typeof value === 'string') {
    if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true
    if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false
  }
  throw new ConfigFieldError(
    field,
    `'${source}' must evaluate to a boolean, got ${JSON.stringify(value)}`
  )
}
