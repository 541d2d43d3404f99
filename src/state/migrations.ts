import { STATE_SCHEMA_VERSION } from './types.js'
import { WaybillError } from '../util/errors.js'
import { isJsonObject } from '../util/json.js'

/**
 * Upgrades of the state document, one per schema version. A migration takes the parsed document
 * of version `from` (plain JSON, already a private copy) and returns the document of `from + 1`.
 * The store migrates on read and writes the result with the next real change; it never writes
 * a version it does not know.
 */
export interface Migration {
  from: number
  description: string
  migrate(doc: Record<string, unknown>): Record<string, unknown>
}

type Json = Record<string, unknown>

export const MIGRATIONS: readonly Migration[] = [
  {
    // Version 0 is the pre-release layout: no schemaVersion, freight as a list, stages without
    // metadata or auto-promotion holds, no audit trail.
    from: 0,
    description: 'freight list → map by ID; stage metadata, holds and audit trail added',
    migrate(doc) {
      const freight: Json = {}
      const old = doc.freight
      if (Array.isArray(old)) {
        for (const f of old) if (isJsonObject(f) && typeof f.name === 'string') freight[f.name] = f
      } else if (isJsonObject(old)) Object.assign(freight, old)
      for (const f of Object.values(freight)) {
        if (!isJsonObject(f)) continue
        f.commits ??= []
        f.images ??= []
        f.charts ??= []
        const status = isJsonObject(f.status) ? f.status : (f.status = {})
        status.currentlyIn ??= {}
        status.verifiedIn ??= {}
        status.approvedFor ??= {}
        status.metadata ??= {}
      }
      const stages: Json = isJsonObject(doc.stages) ? doc.stages : {}
      for (const s of Object.values(stages)) {
        if (!isJsonObject(s)) continue
        s.freightHistory ??= []
        s.metadata ??= {}
        s.autoPromotionHolds ??= {}
      }
      return {
        ...doc,
        schemaVersion: 1,
        warehouses: isJsonObject(doc.warehouses) ? doc.warehouses : {},
        freight,
        stages,
        promotions: isJsonObject(doc.promotions) ? doc.promotions : {},
        audit: Array.isArray(doc.audit) ? doc.audit : []
      }
    }
  },
  {
    // The document is the same; the store writes its freight as freight/<warehouse>.json.
    from: 1,
    description:
      'freight moves from state.json to one file per warehouse (freight/<warehouse>.json)',
    migrate: (doc) => ({ ...doc, schemaVersion: 2 })
  }
]

/** The version a parsed document declares (0 when it has none). */
export function documentVersion(doc: Json): number {
  const v = doc.schemaVersion
  if (v === undefined) return 0
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
    throw new WaybillError(
      `state.json has an invalid schemaVersion (${JSON.stringify(v)})`,
      'fix or revert the last commit on the state branch'
    )
  return v
}

/**
 * Brings a document up to `target` (default STATE_SCHEMA_VERSION). Returns the migrated document
 * and the versions it went through; throws when a migration is missing.
 */
export function migrateState(
  doc: Json,
  migrations: readonly Migration[] = MIGRATIONS,
  target = STATE_SCHEMA_VERSION
): { doc: Json; applied: Migration[] } {
  let current = doc
  let version = documentVersion(current)
  const applied: Migration[] = []
  while (version < target) {
    const m = migrations.find((x) => x.from === version)
    if (!m)
      throw new WaybillError(
        `no migration from state schema version ${version} to ${target}`,
        'this state was written by a Waybill release this one cannot read; use a release in between'
      )
    current = m.migrate(current)
    const next = documentVersion(current)
    if (next !== version + 1)
      throw new WaybillError(
        `state migration from version ${version} produced version ${next} (expected ${version + 1})`
      )
    version = next
    applied.push(m)
  }
  return { doc: current, applied }
}
