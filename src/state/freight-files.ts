import type { Freight } from '../freight/types.js'
import { isJsonObject } from '../util/json.js'
import { StateSerializer, jsonKeyProblem } from './serialize.js'

/**
 * Freight on the state branch (schema version 2 and later): one file per warehouse,
 * `freight/<warehouse>.json`, beside `state.json` (which holds everything else). A write hashes
 * and sends only the files of the warehouses whose freight changed, and a record there leaves out
 * its origin, which the file's name gives.
 */
export const FREIGHT_DIR = 'freight'

/** Warehouse names are Kubernetes DNS labels (the config enforces it), so they are safe file names as they are. */
export const WAREHOUSE_NAME = /^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$/
const FILE_SUFFIX = '.json'

/** The file (relative to FREIGHT_DIR) holding a warehouse's freight, or undefined for a name that cannot be one. */
export function freightFileName(warehouse: string): string | undefined {
  return WAREHOUSE_NAME.test(warehouse) ? warehouse + FILE_SUFFIX : undefined
}

/** The warehouse a file under FREIGHT_DIR belongs to, or undefined when the name is not one Waybill writes. */
export function warehouseOfFile(fileName: string): string | undefined {
  if (!fileName.endsWith(FILE_SUFFIX)) return undefined
  const warehouse = fileName.slice(0, -FILE_SUFFIX.length)
  return WAREHOUSE_NAME.test(warehouse) ? warehouse : undefined
}

/** Freight keys by the name of their origin warehouse. */
export function freightByWarehouse(freight: Record<string, Freight>): Map<string, string[]> {
  const groups = new Map<string, string[]>()
  for (const [key, f] of Object.entries(freight)) {
    const w = String(f?.origin?.name)
    const group = groups.get(w)
    if (group) group.push(key)
    else groups.set(w, [key])
  }
  return groups
}

/**
 * Warehouses whose freight records differ between two states, compared by identity: a draft
 * hands back the very same (frozen) record for everything a mutator did not touch.
 */
export function changedWarehouses(
  before: Record<string, Freight>,
  after: Record<string, Freight>
): Set<string> {
  const changed = new Set<string>()
  if (before === after) return changed
  for (const [key, f] of Object.entries(after)) {
    const old = before[key]
    if (old === f) continue
    changed.add(String(f?.origin?.name))
    if (old) changed.add(String(old.origin?.name))
  }
  for (const [key, old] of Object.entries(before))
    if (!Object.hasOwn(after, key)) changed.add(String(old?.origin?.name))
  return changed
}

/**
 * Reads and writes warehouse freight files in the state's one-record-per-line layout. Remembers
 * the line of every record it has seen, like StateSerializer.
 */
export class FreightFileSerializer {
  private readonly serializer = new StateSerializer({ impliedOrigin: true })

  serialize(warehouse: string, freight: Record<string, Freight>, keys: string[]): string {
    const records: Record<string, Freight> = {}
    for (const key of keys) records[key] = freight[key]
    return this.serializer.serialize({
      origin: { kind: 'Warehouse', name: warehouse },
      freight: records
    })
  }

  /**
   * The freight records of one warehouse's file (defaults and origin filled in). Throws an Error
   * naming what is wrong when the text is not such a file.
   */
  parse(warehouse: string, text: string): Record<string, unknown> {
    let doc: unknown
    try {
      doc = this.serializer.parse(text)
    } catch (err) {
      throw new Error(`not valid JSON: ${(err as Error).message}`, { cause: err })
    }
    const keyProblem = jsonKeyProblem(text)
    if (keyProblem) throw new Error(keyProblem)
    if (!isJsonObject(doc)) throw new Error('not a JSON object')
    const origin = doc.origin
    if (!isJsonObject(origin) || origin.kind !== 'Warehouse' || origin.name !== warehouse)
      throw new Error(`origin must be {"kind":"Warehouse","name":${JSON.stringify(warehouse)}}`)
    const unexpected = Object.keys(doc).filter((k) => k !== 'origin' && k !== 'freight')
    if (unexpected.length) throw new Error(`unexpected member ${JSON.stringify(unexpected[0])}`)
    const freight = doc.freight ?? {}
    if (!isJsonObject(freight)) throw new Error('freight must be an object')
    for (const [key, f] of Object.entries(freight)) {
      if (!isJsonObject(f)) continue // the state schema words this one
      f.origin ??= { kind: 'Warehouse', name: warehouse }
      const o = f.origin
      if (!isJsonObject(o) || o.name !== warehouse)
        throw new Error(`freight ${key} names another origin than warehouse ${warehouse}`)
    }
    return freight
  }
}
