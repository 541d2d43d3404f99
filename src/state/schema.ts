import { z } from 'zod'
import { hasControlCharacter } from '../util/text.js'
import { fieldPath } from '../util/zod.js'
import { PROMOTION_PHASES } from './types.js'
import { schemaAcceptor } from './schema-acceptor.js'
import { WAREHOUSE_NAME } from './freight-files.js'

/**
 * The shape `state.json` must have to be trusted. Objects are loose (unknown keys are kept, so a
 * field added by a newer minor release survives a round trip) and the store keeps the parsed
 * document, not zod's output: validation only decides whether the document is usable.
 */
const str = z.string()
const optStr = z.string().optional()
const record = <T extends z.ZodType>(v: T) => z.record(z.string(), v)

const warehouseName = z.string().regex(WAREHOUSE_NAME, 'must be a warehouse name (a DNS label)')
const origin = z.looseObject({ kind: z.literal('Warehouse'), name: warehouseName })

const freight = z.looseObject({
  name: z.string().regex(/^[0-9a-f]{40}$/, 'must be a 40-character lowercase hex sha1'),
  alias: str,
  origin,
  discoveredAt: str,
  commits: z.array(
    z.looseObject({
      repoURL: str,
      id: str,
      branch: optStr,
      tag: optStr,
      message: optStr,
      author: optStr,
      committer: optStr,
      subscriptionName: optStr
    })
  ),
  images: z.array(
    z.looseObject({
      repoURL: str,
      tag: str,
      digest: str,
      annotations: record(str).optional(),
      subscriptionName: optStr
    })
  ),
  charts: z.array(
    z.looseObject({ repoURL: str, name: optStr, version: str, subscriptionName: optStr })
  ),
  status: z.looseObject({
    currentlyIn: record(z.looseObject({ since: str })),
    verifiedIn: record(z.looseObject({ verifiedAt: str, longestSoak: z.number().optional() })),
    approvedFor: record(z.looseObject({ approvedAt: str, actor: optStr })),
    metadata: record(z.unknown())
  })
})

const freightReference = z.looseObject({ name: str, origin })

const freightCollection = z.looseObject({
  id: str,
  items: record(freightReference),
  verificationHistory: z.array(z.looseObject({ id: str, phase: str, startTime: str })),
  promotion: optStr
})

const promotionPhase = z.enum(PROMOTION_PHASES)

const stage = z.looseObject({
  freightHistory: z.array(freightCollection),
  currentPromotion: optStr,
  lastPromotion: z
    .looseObject({ name: str, freight: str, phase: promotionPhase, finishedAt: optStr })
    .optional(),
  health: z.looseObject({ status: str }).optional(),
  metadata: record(z.unknown()),
  autoPromotionHolds: record(z.looseObject({ freightName: str, promotionName: str }))
})

const promotion = z.looseObject({
  name: str,
  stage: str,
  freight: str,
  phase: promotionPhase,
  createdAt: str,
  steps: z.array(z.unknown()),
  currentStep: z.number().int(),
  stepExecutionMetadata: z.array(z.looseObject({ alias: str, errorCount: z.number() })),
  state: record(z.unknown())
})

const warehouse = z.looseObject({
  lastDiscoveredAt: optStr,
  specHash: optStr,
  lastFreightID: optStr,
  lastError: optStr
})

const auditEntry = z.looseObject({ at: str, action: str })

export const stateSchema = z.looseObject({
  schemaVersion: z.number().int().nonnegative(),
  warehouses: record(warehouse),
  freight: record(freight),
  stages: record(stage),
  promotions: record(promotion),
  audit: z.array(auditEntry)
})

/** Schemas of the records inside each top-level map or list, for validating only what changed. */
export const recordSchemas = {
  warehouses: warehouse,
  freight,
  stages: stage,
  promotions: promotion,
  audit: auditEntry
} as const

export type StateSection = keyof typeof recordSchemas

/** Fast checks that accept what the schemas accept (zod runs, and words problems, otherwise). */
const acceptsState = schemaAcceptor(stateSchema)
const acceptsRecord = Object.fromEntries(
  Object.entries(recordSchemas).map(([section, schema]) => [section, schemaAcceptor(schema)])
) as Record<StateSection, ((value: unknown) => boolean) | undefined>

const issues = (res: z.ZodSafeParseResult<unknown>, prefix: string) =>
  res.success
    ? []
    : res.error.issues.map((i) => {
        const p = fieldPath(i.path)
        return `${prefix}${p ? (p.startsWith('[') ? p : `.${p}`) : ''}: ${i.message}`
      })

/**
 * Problems with a state document, each `path: message`; empty when it is valid. `rawTexts`, the
 * JSON the document was parsed from, lets the control-character walk be skipped when no text
 * can hold one (freight parsed from texts not given must have been checked before).
 */
export function validateState(doc: unknown, rawTexts?: readonly string[]): string[] {
  const problems = acceptsState?.(doc)
    ? []
    : issues(stateSchema.safeParse(doc), '').map((p) => p.replace(/^\./, ''))
  if (problems.length) return problems
  const d = doc as { freight: Record<string, { name: string }> }
  for (const [key, f] of Object.entries(d.freight)) problems.push(...freightKeyProblems(key, f))
  // Control characters can only be in the text as JSON escapes, or raw DEL and C1 characters.
  if (rawTexts === undefined || rawTexts.some((t) => MAYBE_CONTROL_IN_JSON.test(t)))
    problems.push(...controlCharacterProblems(d.freight, 'freight'))
  return problems
}

/** Problems with one record of a section (`freight`, `stages`, ...), for incremental checks. */
export function validateRecord(section: StateSection, key: string, value: unknown): string[] {
  const prefix = section === 'audit' ? `audit[${key}]` : `${section}.${key}`
  const problems = acceptsRecord[section]?.(value)
    ? []
    : issues(recordSchemas[section].safeParse(value), prefix)
  if (problems.length === 0 && section === 'freight') {
    problems.push(...freightKeyProblems(key, value as { name: string }))
    problems.push(...controlCharacterProblems(value, prefix))
  }
  return problems
}

function freightKeyProblems(key: string, f: { name: string }): string[] {
  return f.name === key ? [] : [`freight.${key}.name: does not match its key (${f.name})`]
}

const MAYBE_CONTROL_IN_JSON = /\\[nrtbf]|\\u00[0-1]|\\u007[fF]|\\u00[89]|[\u007f-\u009f]/

/** Every string (keys too) under `value` that holds a control character, as `path: message`. */
export function controlCharacterProblems(value: unknown, path: string): string[] {
  const out: string[] = []
  const walk = (v: unknown, p: string) => {
    if (typeof v === 'string') {
      if (hasControlCharacter(v)) out.push(`${p}: contains a control character`)
    } else if (Array.isArray(v)) {
      v.forEach((x, i) => walk(x, `${p}[${i}]`))
    } else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (hasControlCharacter(k))
          out.push(`${p}: key ${JSON.stringify(k)} contains a control character`)
        walk(x, `${p}.${k}`)
      }
    }
  }
  walk(value, path)
  return out
}
