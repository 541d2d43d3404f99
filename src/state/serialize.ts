import { createHash } from 'node:crypto'
import { isJsonObject } from '../util/json.js'

/**
 * Deterministic serialization of state.json.
 *
 * Layout: keys sorted at every level (schemaVersion first) and one record per line inside the
 * top-level maps (`freight`, `stages`, `promotions`, `warehouses`) and the `audit` list. The same
 * state always gives the same bytes, a change touches only the lines of the records it changes
 * (small Git deltas, a readable `git log -p`), and a serializer can reuse the line of every record
 * object it has seen before, so writing one change into 10,000 freight costs one record.
 *
 * Freight is most of the state, so on disk a freight record leaves out its `name` (it is the key),
 * empty artifact lists and empty status maps (and, in a warehouse's freight file, its origin);
 * fillFreightDefaults() puts them back on read.
 */

type Json = Record<string, unknown>

/** An object with no members (JSON `{}`). */
export const isEmptyObject = (v: unknown) => isJsonObject(v) && Object.keys(v).length === 0
const isEmptyArray = (v: unknown) => Array.isArray(v) && v.length === 0

export const FREIGHT_LISTS = ['commits', 'images', 'charts'] as const
export type FreightList = (typeof FREIGHT_LISTS)[number]
/** The repository URL a warehouse file's artifacts of each kind have unless they name another. */
export type ImpliedRepoURLs = Partial<Record<FreightList, string>>
const FREIGHT_STATUS_MAPS = ['currentlyIn', 'verifiedIn', 'approvedFor', 'metadata'] as const
/** Top-level members written one record per line. */
const RECORD_MAPS = new Set(['freight', 'stages', 'promotions', 'warehouses'])
const RECORD_LISTS = new Set(['audit'])

/** An origin that holds only what a warehouse file's name already says. */
function isPlainWarehouseOrigin(v: unknown): boolean {
  if (!isJsonObject(v)) return false
  const keys = Object.keys(v)
  return keys.length === 2 && v.kind === 'Warehouse' && typeof v.name === 'string'
}

function withoutRepoURL(item: unknown, implied: string | undefined): unknown {
  if (implied === undefined || !isJsonObject(item) || item.repoURL !== implied) return item
  const { repoURL: _implied, ...rest } = item
  return rest
}

function trimFreight(
  key: string,
  v: unknown,
  impliedOrigin: boolean,
  impliedRepoURLs: ImpliedRepoURLs
): unknown {
  if (!isJsonObject(v)) return v
  const f = { ...v }
  if (f.name === key) delete f.name
  if (impliedOrigin && isPlainWarehouseOrigin(f.origin)) delete f.origin
  for (const k of FREIGHT_LISTS) {
    const list = f[k]
    if (isEmptyArray(list)) delete f[k]
    else if (impliedRepoURLs[k] !== undefined && Array.isArray(list))
      f[k] = list.map((item) => withoutRepoURL(item, impliedRepoURLs[k]))
  }
  if (isJsonObject(f.status)) {
    const status = { ...f.status }
    for (const k of FREIGHT_STATUS_MAPS) if (isEmptyObject(status[k])) delete status[k]
    if (Object.keys(status).length === 0) delete f.status
    else f.status = status
  }
  return f
}

function fillFreight(key: string, f: unknown): void {
  if (!isJsonObject(f)) return
  f.name ??= key
  for (const k of FREIGHT_LISTS) f[k] ??= []
  const status = (f.status ??= {})
  if (isJsonObject(status)) for (const k of FREIGHT_STATUS_MAPS) status[k] ??= {}
}

/** Restores what the on-disk form of freight leaves out; mutates and returns `doc`. */
export function fillFreightDefaults<T>(doc: T): T {
  if (!isJsonObject(doc) || !isJsonObject(doc.freight)) return doc
  for (const [key, f] of Object.entries(doc.freight)) fillFreight(key, f)
  return doc
}

function compareTopKeys(a: string, b: string): number {
  if (a === b) return 0
  if (a === 'schemaVersion') return -1
  if (b === 'schemaVersion') return 1
  return a < b ? -1 : 1
}

/**
 * Serializes and parses state.json, remembering the line of every record object it wrote or
 * read. Only valid for objects that are not mutated afterwards (the store's documents are frozen).
 */
export class StateSerializer {
  private lines = new WeakMap<object, string>()
  private impliedRepoURLs: ImpliedRepoURLs | undefined

  /**
   * `impliedOrigin`: freight records leave out their origin (a warehouse file's records all share
   * the one its name gives; the reader puts it back).
   */
  constructor(private readonly options: { impliedOrigin?: boolean } = {}) {}

  /**
   * From now on freight artifacts whose repoURL is the one given for their kind leave it out
   * (a warehouse file names them once; the reader puts them back). Lines remembered under other
   * URLs are forgotten; the first call keeps the lines of the text this serializer parsed, which
   * was written under these URLs.
   */
  useImpliedRepoURLs(urls: ImpliedRepoURLs): void {
    const before = this.impliedRepoURLs
    if (before && FREIGHT_LISTS.every((k) => before[k] === urls[k])) return
    if (before) this.lines = new WeakMap()
    this.impliedRepoURLs = { ...urls }
  }

  private line(section: string, key: string, value: unknown): string {
    if (value === null || typeof value !== 'object') return compact(value ?? null)
    let line = this.lines.get(value)
    if (line === undefined) {
      line = compact(
        section === 'freight'
          ? trimFreight(key, value, !!this.options.impliedOrigin, this.impliedRepoURLs ?? {})
          : value
      )
      this.lines.set(value, line)
    }
    return line
  }

  serialize(state: object): string {
    const doc = state as Json
    const keys = Object.keys(doc)
      .filter((k) => doc[k] !== undefined)
      .sort(compareTopKeys)
    const parts: string[] = ['{\n']
    keys.forEach((key, i) => {
      parts.push(`  ${JSON.stringify(key)}: `)
      const value = doc[key]
      if (RECORD_MAPS.has(key) && isJsonObject(value)) {
        const ks = Object.keys(value)
          .filter((k) => value[k] !== undefined)
          .sort()
        if (ks.length === 0) parts.push('{}')
        else {
          parts.push('{\n')
          ks.forEach((k, j) => {
            parts.push(`    ${JSON.stringify(k)}: `, this.line(key, k, value[k]))
            parts.push(j < ks.length - 1 ? ',\n' : '\n')
          })
          parts.push('  }')
        }
      } else if (RECORD_LISTS.has(key) && Array.isArray(value)) {
        if (value.length === 0) parts.push('[]')
        else {
          parts.push('[\n')
          value.forEach((v, j) => {
            parts.push('    ', this.line(key, String(j), v))
            parts.push(j < value.length - 1 ? ',\n' : '\n')
          })
          parts.push('  ]')
        }
      } else parts.push(compact(value))
      parts.push(i < keys.length - 1 ? ',\n' : '\n')
    })
    parts.push('}\n')
    return parts.join('')
  }

  /**
   * Parses state.json (freight defaults restored). Text in the store's layout is parsed record by
   * record and each record's line remembered; anything else (a hand-formatted file) goes through
   * JSON.parse. Throws SyntaxError like JSON.parse.
   */
  parse(text: string): unknown {
    const doc = this.parseLayout(text)
    return doc ?? fillFreightDefaults(JSON.parse(text))
  }

  private parseLayout(text: string): Json | undefined {
    const lines = text.split('\n')
    if (lines[0] !== '{') return undefined
    let end = lines.length - 1
    while (end > 0 && lines[end] === '') end--
    if (lines[end] !== '}') return undefined
    const doc: Json = {}
    const seen: Array<[object, string]> = []
    try {
      for (let i = 1; i < end; i++) {
        const m = /^ {2}("(?:[^"\\]|\\.)*"): (.*?),?$/.exec(lines[i])
        if (!m) return undefined
        const key = JSON.parse(m[1]) as string
        const rest = m[2]
        if (rest === '{' || rest === '[') {
          const isMap = rest === '{'
          const close = isMap ? '  }' : '  ]'
          const container: Json | unknown[] = isMap ? {} : []
          for (i++; ; i++) {
            if (i >= end) return undefined
            const l = lines[i]
            if (l === close || l === close + ',') break
            let recKey = ''
            let body: string
            if (isMap) {
              const mm = /^ {4}("(?:[^"\\]|\\.)*"): (.*)$/.exec(l)
              if (!mm) return undefined
              recKey = JSON.parse(mm[1]) as string
              body = mm[2]
            } else {
              if (!l.startsWith('    ')) return undefined
              body = l.slice(4)
            }
            if (body.endsWith(',')) body = body.slice(0, -1)
            const value: unknown = JSON.parse(body)
            if (isMap) {
              if (key === 'freight') fillFreight(recKey, value)
              ;(container as Json)[recKey] = value
            } else (container as unknown[]).push(value)
            if (value && typeof value === 'object') seen.push([value, body])
          }
          doc[key] = container
        } else doc[key] = JSON.parse(rest)
      }
    } catch {
      return undefined
    }
    for (const [obj, line] of seen) this.lines.set(obj, line)
    return doc
  }
}

/** state.json text for a state (a fresh serializer: no cached lines). */
export function serializeState(state: object): string {
  return new StateSerializer().serialize(state)
}

/** Parses state.json text into a document with freight defaults restored. */
export function parseStateText(text: string): unknown {
  return new StateSerializer().parse(text)
}

/** Compact JSON with sorted keys; undefined object members are dropped as JSON.stringify does. */
export function compact(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    const s = JSON.stringify(value)
    return s === undefined ? 'null' : s
  }
  if (Array.isArray(value)) {
    let out = '['
    for (let i = 0; i < value.length; i++) {
      if (i) out += ','
      const v: unknown = value[i]
      out += v === undefined || typeof v === 'function' ? 'null' : compact(v)
    }
    return out + ']'
  }
  const toJSON = (value as { toJSON?: () => unknown }).toJSON
  if (typeof toJSON === 'function') return compact(toJSON.call(value))
  const obj = value as Json
  const keys = Object.keys(obj).sort()
  let out = '{'
  let first = true
  for (const k of keys) {
    const v = obj[k]
    if (v === undefined || typeof v === 'function') continue
    if (!first) out += ','
    first = false
    out += JSON.stringify(k) + ':' + compact(v)
  }
  return out + '}'
}

/** The object ID Git gives a blob with this content (to skip rewriting unchanged files). */
export function gitBlobId(content: string | Buffer): string {
  const buf = typeof content === 'string' ? Buffer.from(content, 'utf8') : content
  return createHash('sha1').update(`blob ${buf.length}\0`).update(buf).digest('hex')
}

/**
 * The first duplicate or `__proto__` key in JSON text, as `path: message`, or undefined. JSON.parse
 * keeps the last of duplicate keys and makes `__proto__` an own key that a later spread or
 * Object.assign turns into a prototype: a state.json with either was written by something other
 * than Waybill and is refused rather than silently collapsed. Expects text JSON.parse accepts.
 */
export function jsonKeyProblem(text: string): string | undefined {
  // One pass of charCodeAt over the text (a 5 MB state has millions of tokens: no regex match
  // objects, no path strings until there is something to report).
  const stack: KeyFrame[] = []
  let expectKey = false
  const n = text.length
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i)
    if (c === QUOTE) {
      const end = stringEnd(text, i)
      const top = stack[stack.length - 1]
      if (expectKey && top?.keys) {
        const raw = text.slice(i + 1, end)
        const key = raw.includes('\\') ? (JSON.parse(`"${raw}"`) as string) : raw
        if (key === '__proto__') return `${framePath(stack)}: key "__proto__" is not allowed`
        if (top.keys.has(key)) return `${framePath(stack)}: duplicate key ${JSON.stringify(key)}`
        top.keys.add(key)
        top.key = key
        expectKey = false
      }
      i = end
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      stack.push({ index: 0, keys: c === OPEN_BRACE ? new Set() : undefined })
      expectKey = c === OPEN_BRACE
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      stack.pop()
      expectKey = false
    } else if (c === COMMA) {
      const top = stack[stack.length - 1]
      if (top?.keys) expectKey = true
      else if (top) top.index++
    } else if (c === COLON) expectKey = false
  }
  return undefined
}

/** An open object (its keys so far, the current one) or array (the current index). */
interface KeyFrame {
  keys?: Set<string>
  key?: string
  index: number
}

const QUOTE = 0x22
const BACKSLASH = 0x5c
const OPEN_BRACE = 0x7b
const CLOSE_BRACE = 0x7d
const OPEN_BRACKET = 0x5b
const CLOSE_BRACKET = 0x5d
const COMMA = 0x2c
const COLON = 0x3a

/** Index of the quote that closes the string opening at `start` (text JSON.parse accepts). */
function stringEnd(text: string, start: number): number {
  for (let q = text.indexOf('"', start + 1); q !== -1; q = text.indexOf('"', q + 1)) {
    let backslashes = 0
    while (text.charCodeAt(q - 1 - backslashes) === BACKSLASH) backslashes++
    if (backslashes % 2 === 0) return q
  }
  return text.length
}

/** The path of the innermost open object or array: `a.b[2].c`, or "(top level)". */
function framePath(stack: KeyFrame[]): string {
  let path = ''
  for (let d = 0; d < stack.length - 1; d++) {
    const f = stack[d]
    path = f.keys ? `${path ? `${path}.` : ''}${f.key}` : `${path}[${f.index}]`
  }
  return path || '(top level)'
}
