import { Document, isMap, isScalar, isSeq, Scalar, type Node } from 'yaml'
import { ConfigFieldError } from '../util/errors.js'

/**
 * Key paths in the sjson dot syntax Kargo's *-update steps use: `image.tag`, `containers.0.image`,
 * `-1` to append to a list, and `\` to escape a character (`example\.com/x` is one key).
 */
export function parseKeyPath(key: string, field = 'key'): string[] {
  if (typeof key !== 'string' || key === '') throw new ConfigFieldError(field, 'must not be empty')
  const parts: string[] = []
  let cur = ''
  for (let i = 0; i < key.length; i++) {
    const c = key[i]
    if (c === '\\') {
      if (i + 1 >= key.length)
        throw new ConfigFieldError(field, `'${key}' ends with an unfinished escape '\\'`)
      cur += key[++i]
    } else if (c === '.') {
      parts.push(cur)
      cur = ''
    } else cur += c
  }
  parts.push(cur)
  if (parts.some((p) => p === ''))
    throw new ConfigFieldError(field, `'${key}' has an empty path component`)
  return parts
}

/** `0`, `12` (an index) or `-1` (append). */
function arrayIndex(part: string): number | undefined {
  if (part === '-1') return -1
  return /^(0|[1-9][0-9]*)$/.test(part) ? Number(part) : undefined
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/**
 * Sets an own property, so that a key such as `__proto__` stays an ordinary key of the document
 * (plain assignment would change the object's prototype and the key would vanish on output).
 */
function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true })
}

/**
 * Sets a value in a plain JSON-like tree (JSON/TOML documents), creating missing maps (or lists
 * for a numeric/`-1` component). Returns the new root.
 */
export function setInPlain(
  root: unknown,
  parts: string[],
  value: unknown,
  key: string,
  field = 'key'
): unknown {
  const make = (next: string): unknown => (arrayIndex(next) !== undefined ? [] : {})
  const top = root === undefined || root === null ? make(parts[0]) : root
  let node: unknown = top
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]
    const last = i === parts.length - 1
    const where = parts.slice(0, i).join('.') || '(root)'
    if (Array.isArray(node)) {
      const idx = arrayIndex(part)
      if (idx === undefined)
        throw new ConfigFieldError(
          field,
          `'${key}': '${where}' is a list; '${part}' is not an index`
        )
      const at = idx === -1 ? node.length : idx
      if (at > node.length)
        throw new ConfigFieldError(
          field,
          `'${key}': index ${at} is past the end of '${where}' (length ${node.length})`
        )
      if (last) node[at] = value
      else {
        if (!isPlainObject(node[at]) && !Array.isArray(node[at])) node[at] = make(parts[i + 1])
        node = node[at]
      }
    } else if (isPlainObject(node)) {
      const own = Object.prototype.hasOwnProperty.call(node, part)
      if (last) setOwn(node, part, value)
      else {
        const child = own ? node[part] : undefined
        if (child === undefined || child === null) setOwn(node, part, make(parts[i + 1]))
        else if (!isPlainObject(child) && !Array.isArray(child))
          throw new ConfigFieldError(
            field,
            `'${key}': '${[...parts.slice(0, i), part].join('.')}' holds a scalar, not a map or list`
          )
        node = node[part]
      }
    } else {
      throw new ConfigFieldError(field, `'${key}': '${where}' holds a scalar, not a map or list`)
    }
  }
  return top
}

function keyString(k: unknown): string {
  return isScalar(k) ? String(k.value) : String(k)
}

function isScalarValue(v: unknown): boolean {
  return v === null || ['string', 'number', 'boolean'].includes(typeof v)
}

/** Replaces a scalar's value in place, keeping its comments and (for strings) its quoting style. */
function assignScalar(s: Scalar, value: unknown): void {
  s.value = value
  // Quoted strings stay quoted; plain strings are re-quoted by the stringifier only if needed.
  if (typeof value !== 'string') s.type = undefined
  delete s.format
  delete (s as { minFractionDigits?: number }).minFractionDigits
}

/**
 * Sets a value in a YAML Document through the Document API, so comments, key order and the
 * quoting of replaced scalars are kept. Missing maps/lists are created.
 */
export function setInDocument(
  doc: Document,
  parts: string[],
  value: unknown,
  key: string,
  field = 'key'
): void {
  const make = (next: string): Node => doc.createNode(arrayIndex(next) !== undefined ? [] : {})
  const valueNode = (): Node => doc.createNode(value)
  if (doc.contents === null || doc.contents === undefined || isScalar(doc.contents)) {
    if (isScalar(doc.contents) && doc.contents.value !== null)
      throw new ConfigFieldError(field, `'${key}': the document is a scalar, not a map or list`)
    doc.contents = make(parts[0])
  }
  let node: unknown = doc.contents
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]
    const last = i === parts.length - 1
    const where = parts.slice(0, i).join('.') || '(root)'
    if (isSeq(node)) {
      const idx = arrayIndex(part)
      if (idx === undefined)
        throw new ConfigFieldError(
          field,
          `'${key}': '${where}' is a list; '${part}' is not an index`
        )
      const at = idx === -1 ? node.items.length : idx
      if (at > node.items.length)
        throw new ConfigFieldError(
          field,
          `'${key}': index ${at} is past the end of '${where}' (length ${node.items.length})`
        )
      const cur = node.items[at]
      if (last) {
        if (isScalar(cur) && isScalarValue(value)) assignScalar(cur, value)
        else node.items[at] = valueNode()
      } else {
        if (!isMap(cur) && !isSeq(cur)) {
          if (cur !== undefined && !(isScalar(cur) && cur.value === null))
            throw new ConfigFieldError(
              field,
              `'${key}': '${[...parts.slice(0, i), part].join('.')}' holds a scalar, not a map or list`
            )
          node.items[at] = make(parts[i + 1])
        }
        node = node.items[at]
      }
    } else if (isMap(node)) {
      const pair = node.items.find((p) => keyString(p.key) === part)
      if (last) {
        if (pair && isScalar(pair.value) && isScalarValue(value)) assignScalar(pair.value, value)
        else if (pair) pair.value = valueNode()
        else node.add(doc.createPair(part, value))
      } else {
        let child = pair?.value
        if (!isMap(child) && !isSeq(child)) {
          if (child !== undefined && child !== null && !(isScalar(child) && child.value === null))
            throw new ConfigFieldError(
              field,
              `'${key}': '${[...parts.slice(0, i), part].join('.')}' holds a scalar, not a map or list`
            )
          child = make(parts[i + 1])
          if (pair) pair.value = child
          else node.add(doc.createPair(part, child))
        }
        node = child
      }
    } else {
      throw new ConfigFieldError(field, `'${key}': '${where}' holds a scalar, not a map or list`)
    }
  }
}
