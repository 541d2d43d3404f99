/**
 * Which Kargo era a resource was written for. Kargo 0.x fields and kinds are not unknown to
 * users: they were valid once, so a config that uses them gets one message that names the era
 * and the way forward (`waybill migrate`) instead of schema errors about what replaced them.
 */
import type { Problem } from './problems.js'
import { position, type Source } from './yaml-source.js'

interface EraField {
  /** Path under the resource. */
  path: string[]
  what: string
}

/** Kargo 0.x fields, by kind: still recognisable, gone from Kargo 1.0. */
const PRE_1_0_FIELDS: Record<string, EraField[]> = {
  Stage: [
    {
      path: ['spec', 'subscriptions'],
      what: 'subscriptions, replaced by requestedFreight'
    },
    {
      path: ['spec', 'promotionMechanisms'],
      what: 'promotionMechanisms, removed in 1.0'
    }
  ]
}

/** Kargo 0.x kinds. */
const PRE_1_0_KINDS: Record<string, string> = {
  PromotionPolicy: 'PromotionPolicy, removed in 1.0'
}

const MIGRATE =
  'it rewrites the config into the current format in place, keeping comments (dry run by default; --write applies it)'

function has(obj: unknown, path: string[]): boolean {
  let v: unknown = obj
  for (const seg of path) {
    if (!v || typeof v !== 'object' || Array.isArray(v)) return false
    v = (v as Record<string, unknown>)[seg]
    if (v === undefined) return false
  }
  return true
}

/** An error for a 0.x kind (`PromotionPolicy`), located at its kind; undefined otherwise. */
export function legacyKindProblem(
  kind: string,
  at: Pick<Problem, 'file' | 'line' | 'column'> & { name?: string }
): Problem | undefined {
  const what = PRE_1_0_KINDS[kind]
  if (!what) return undefined
  return {
    severity: 'error',
    ...at,
    kind,
    field: 'kind',
    message: `this is a Kargo 0.x resource (${what}): run \`waybill migrate\``,
    hint: MIGRATE
  }
}

/**
 * For a resource that failed validation: when it uses Kargo 0.x fields, one located error per
 * such field replaces the schema problems they cause (the "unknown field" for the old field
 * and the "is required" for the field that replaced it); other problems are kept.
 */
export function withEra(
  doc: { kind: string; name?: string; obj: unknown; src: Source },
  problems: Problem[]
): Problem[] {
  const found = (PRE_1_0_FIELDS[doc.kind] ?? []).filter((f) => has(doc.obj, f.path))
  if (found.length === 0) return problems
  const eraProblems: Problem[] = found.map((f) => ({
    severity: 'error',
    ...position(doc.src, f.path, true),
    kind: doc.kind,
    name: doc.name,
    field: f.path.join('.'),
    message: `this is a Kargo 0.x config (${f.what}): run \`waybill migrate\``,
    hint: MIGRATE
  }))
  const consequences = new Set([...found.map((f) => f.path.join('.')), 'spec.requestedFreight'])
  return [
    ...eraProblems,
    ...problems.filter((p) => !(p.field && consequences.has(p.field) && p.kind === doc.kind))
  ]
}
