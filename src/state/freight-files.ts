import type { Freight } from '../freight/types.js'
import { isJsonObject } from '../util/json.js'
import {
  FREIGHT_LISTS,
  StateSerializer,
  jsonKeyProblem,
  type ImpliedRepoURLs
} from './serialize.js'

/**
 * Freight on the state branch (schema version 2 and later): one file per warehouse,
 * `freight/<warehouse>.json`, beside `state.json` (which holds everything else). A write hashes
 * and sends only the files of the warehouses whose freight changed. A record there leaves out its
 * origin, which the file's name gives, and the repoURL of each artifact that has its kind's most
 * common one, which the file's `repoURLs` member names once.
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

/** The records of `keys` in a freight map (the same objects). */
export function pickFreight(
  freight: Record<string, Freight>,
  keys: readonly string[]
): Record<string, Freight> {
  const out: Record<string, Freight> = {}
  for (const key of keys) out[key] = freight[key]
  return out
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
 * The most common repoURL of each artifact kind among records (ties go to the first in sort
 * order, so the choice is stable as a warehouse's freight grows).
 */
export function commonRepoURLs(records: Iterable<Freight>): ImpliedRepoURLs {
  const out: ImpliedRepoURLs = {}
  for (const kind of FREIGHT_LISTS) {
    const counts = new Map<string, number>()
    for (const f of records)
      for (const item of f[kind] ?? [])
        if (typeof item?.repoURL === 'string')
          counts.set(item.repoURL, (counts.get(item.repoURL) ?? 0) + 1)
    let best: string | undefined
    let bestCount = 0
    for (const [url, n] of counts)
      if (n > bestCount || (n === bestCount && best !== undefined && url < best)) {
        best = url
        bestCount = n
      }
    if (best !== undefined) out[kind] = best
  }
  return out
}

/** A file's `repoURLs` member, checked: only artifact kinds, each a non-empty string. */
function readRepoURLs(v: unknown): ImpliedRepoURLs {
  if (v === undefined) return {}
  if (!isJsonObject(v)) throw new Error('repoURLs must be an object')
  const out: ImpliedRepoURLs = {}
  for (const [kind, url] of Object.entries(v)) {
    if (!(FREIGHT_LISTS as readonly string[]).includes(kind))
      throw new Error(`repoURLs has an unexpected member ${JSON.stringify(kind)}`)
    if (typeof url !== 'string' || url === '')
      throw new Error(`repoURLs.${kind} must be a non-empty string`)
    out[kind as keyof ImpliedRepoURLs] = url
  }
  return out
}

/** Puts back the repoURL of every artifact that leaves it out. */
function fillRepoURLs(f: Record<string, unknown>, urls: ImpliedRepoURLs): void {
  for (const kind of FREIGHT_LISTS) {
    const url = urls[kind]
    const list = f[kind]
    if (url === undefined || !Array.isArray(list)) continue
    f[kind] = list.map((item: unknown) =>
      isJsonObject(item) && !Object.hasOwn(item, 'repoURL') ? { repoURL: url, ...item } : item
    )
  }
}

/**
 * Reads and writes warehouse freight files in the state's one-record-per-line layout. Remembers
 * the line of every record it has seen, like StateSerializer, per warehouse: a line leaves out
 * the repoURLs its file names, so it is only reused under the same ones.
 */
export class FreightFileSerializer {
  private readonly serializers = new Map<string, StateSerializer>()

  serialize(warehouse: string, freight: Record<string, Freight>, keys: string[]): string {
    const records = pickFreight(freight, keys)
    const repoURLs = commonRepoURLs(Object.values(records))
    let serializer = this.serializers.get(warehouse)
    if (!serializer) {
      serializer = new StateSerializer({ impliedOrigin: true })
      this.serializers.set(warehouse, serializer)
    }
    serializer.useImpliedRepoURLs(repoURLs)
    return serializer.serialize({
      origin: { kind: 'Warehouse', name: warehouse },
      repoURLs: Object.keys(repoURLs).length ? repoURLs : undefined,
      freight: records
    })
  }

  /**
   * The freight records of one warehouse's file (defaults, origin and repoURLs filled in). Throws
   * an Error naming what is wrong when the text is not such a file.
   */
  parse(warehouse: string, text: string): Record<string, unknown> {
    const serializer = new StateSerializer({ impliedOrigin: true })
    let doc: unknown
    try {
      doc = serializer.parse(text)
    } catch (err) {
      throw new Error(`not valid JSON: ${(err as Error).message}`, { cause: err })
    }
    const keyProblem = jsonKeyProblem(text)
    if (keyProblem) throw new Error(keyProblem)
    if (!isJsonObject(doc)) throw new Error('not a JSON object')
    const origin = doc.origin
    if (!isJsonObject(origin) || origin.kind !== 'Warehouse' || origin.name !== warehouse)
      throw new Error(`origin must be {"kind":"Warehouse","name":${JSON.stringify(warehouse)}}`)
    const unexpected = Object.keys(doc).filter(
      (k) => k !== 'origin' && k !== 'freight' && k !== 'repoURLs'
    )
    if (unexpected.length) throw new Error(`unexpected member ${JSON.stringify(unexpected[0])}`)
    const repoURLs = readRepoURLs(doc.repoURLs)
    const freight = doc.freight ?? {}
    if (!isJsonObject(freight)) throw new Error('freight must be an object')
    for (const [key, f] of Object.entries(freight)) {
      if (!isJsonObject(f)) continue // the state schema words this one
      f.origin ??= { kind: 'Warehouse', name: warehouse }
      const o = f.origin
      if (!isJsonObject(o) || o.name !== warehouse)
        throw new Error(`freight ${key} names another origin than warehouse ${warehouse}`)
      fillRepoURLs(f, repoURLs)
    }
    serializer.useImpliedRepoURLs(repoURLs)
    this.serializers.set(warehouse, serializer)
    return freight
  }
}
