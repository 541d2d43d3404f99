/**
 * Step configs checked when the config is loaded, not at promotion time: every literal `config`
 * of a Stage's promotionTemplate step and of a (Cluster)PromotionTask step against the step's
 * schema from the catalogue. Values that hold `${{ }}` expressions are known only when the
 * promotion runs, so checks on them are skipped, except the one the text itself decides: text
 * around an expression makes a string, which a number, boolean, list or mapping field refuses.
 */
import type { z } from 'zod'
import { stepRegistry } from '../steps/registry.js'
import { splitTemplate } from '../expressions/template.js'
import { fieldPath } from '../util/zod.js'
import type { KargoDocument } from './classify.js'
import type { Problem } from './problems.js'
import { fieldIssues, type FieldIssue } from './schema-issues.js'
import { withoutEmptyOptionals } from './null-fields.js'
import { removedStepField } from './removed-step-fields.js'
import { position } from './yaml-source.js'

interface ConfiguredStep {
  uses?: string
  config?: Record<string, unknown>
}

function isContainer(v: unknown): v is object {
  return typeof v === 'object' && v !== null
}

/** Whether a config value holds an expression anywhere. */
export function containsExpression(v: unknown): boolean {
  if (typeof v === 'string') return v.includes('${{') || v.includes('${%')
  if (Array.isArray(v)) return v.some(containsExpression)
  if (isContainer(v)) return Object.values(v).some(containsExpression)
  return false
}

/**
 * Whether a template always evaluates to a string. Kargo turns an evaluated string that reads as
 * a number, a boolean or JSON into that value, so this holds only when the template starts with
 * text that none of those can start with (`stage/${{ ctx.stage }}`).
 */
export function alwaysString(template: string): boolean {
  let segments
  try {
    segments = splitTemplate(template)
  } catch {
    return false
  }
  const first = segments?.[0]?.text
  return first !== undefined && /^[A-Za-z_/]/.test(first) && !/^[tfnTF]/.test(first)
}

function valueAt(root: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let v = root
  for (const seg of path) {
    if (!isContainer(v)) return undefined
    v = (v as Record<PropertyKey, unknown>)[seg]
  }
  return v
}

/** Whether a zod issue is about a value that expressions decide at promotion time. */
function decidedByExpressions(issue: z.core.$ZodIssue, config: unknown): boolean {
  if (issue.code === 'unrecognized_keys') return false
  const value = valueAt(config, issue.path)
  if (issue.code === 'custom' || issue.code === 'invalid_union') {
    // a rule across fields: skipped when any field of the mapping it checks is an expression
    const holder = isContainer(value) ? value : valueAt(config, issue.path.slice(0, -1))
    return containsExpression(holder) || containsExpression(value)
  }
  if (!containsExpression(value)) return false
  const knownString =
    issue.code === 'invalid_type' &&
    issue.expected !== 'string' &&
    typeof value === 'string' &&
    alwaysString(value)
  return !knownString
}

/** The problems of one step config, paths relative to the config; the config without nulls. */
export function checkStepConfig(
  step: string,
  schema: z.ZodType,
  raw: Record<string, unknown> | undefined
): { config: Record<string, unknown>; issues: FieldIssue[] } {
  const config = withoutEmptyOptionals(raw ?? {}, schema) as Record<string, unknown>
  let res
  try {
    res = schema.safeParse(config, { reportInput: true })
  } catch {
    // a transform that cannot take an unevaluated expression: the promotion will tell
    return { config, issues: [] }
  }
  if (res.success) return { config, issues: [] }
  const issues: FieldIssue[] = []
  /** Fields a removed Kargo 1.0 field stands in for: their "is required" says nothing new. */
  const replaced = new Set<string>()
  for (const issue of res.error.issues) {
    if (decidedByExpressions(issue, config)) continue
    for (const found of fieldIssues(issue, schema)) {
      const removed =
        issue.code === 'unrecognized_keys' && removedStepField(step, found.path, config)
      if (removed) {
        issues.push({ ...found, message: removed.message, hint: removed.hint })
        replaced.add(fieldPath([...found.path.slice(0, -1), removed.replacement]))
      } else if (issue.code === 'invalid_type' && typeof valueAt(config, found.path) === 'string')
        issues.push({
          ...found,
          hint: containsExpression(valueAt(config, found.path))
            ? 'text around ${{ }} makes the value a string: make the whole value one expression'
            : found.hint
        })
      else issues.push(found)
    }
  }
  return {
    config,
    issues: issues.filter((i) => !(i.message === 'is required' && replaced.has(fieldPath(i.path))))
  }
}

/** Where a kind keeps its steps. */
function stepsOf(
  kind: KargoDocument['kind'],
  resource: unknown
): { base: PropertyKey[]; steps: ConfiguredStep[] } | undefined {
  const spec = (resource as { spec?: Record<string, unknown> }).spec
  if (kind === 'Stage') {
    const template = spec?.promotionTemplate as { spec: { steps?: ConfiguredStep[] } } | undefined
    return {
      base: ['spec', 'promotionTemplate', 'spec', 'steps'],
      steps: template?.spec.steps ?? []
    }
  }
  if (kind === 'PromotionTask' || kind === 'ClusterPromotionTask')
    return { base: ['spec', 'steps'], steps: (spec?.steps as ConfiguredStep[] | undefined) ?? [] }
  return undefined
}

/**
 * Phase: every step config of a valid Stage or (Cluster)PromotionTask checked against its step's
 * schema, located in the resource's own file. Empty optional fields are dropped from the
 * resource's configs, as Kubernetes would.
 */
export function stepConfigProblems(
  { kind, name, src }: KargoDocument,
  resource: unknown
): Problem[] {
  const found = stepsOf(kind, resource)
  if (!found) return []
  const problems: Problem[] = []
  found.steps.forEach((step, i) => {
    const def = step.uses === undefined ? undefined : stepRegistry.get(step.uses)
    if (!def) return
    const { config, issues } = checkStepConfig(def.name, def.schema, step.config)
    if (step.config !== undefined) step.config = config
    for (const issue of issues) {
      // no config at all: the step itself is where the missing fields belong
      const at =
        step.config === undefined ? [...found.base, i] : [...found.base, i, 'config', ...issue.path]
      const field = fieldPath(issue.path)
      problems.push({
        severity: 'error',
        ...position(src, at, step.config !== undefined && issue.preferKey),
        kind,
        name,
        field: field ? `${def.name}.${field}` : def.name,
        message: issue.message,
        hint: issue.hint
      })
    }
  })
  return problems
}
