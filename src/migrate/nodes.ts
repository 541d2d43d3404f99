/** Small helpers over the `yaml` Document API, so migrations edit nodes in place (comments kept). */
import { isMap, isScalar, isSeq, Pair, Scalar, type Document, type Node, type YAMLMap } from 'yaml'
import { scalarText as valueText } from '../util/text.js'

/** The value node under `key` of a mapping node (undefined when absent or not a mapping). */
export function child(node: unknown, key: string): unknown {
  return isMap(node) ? node.get(key, true) : undefined
}

export function mapChild(node: unknown, key: string): YAMLMap | undefined {
  const c = child(node, key)
  return isMap(c) ? c : undefined
}

/** Items of the sequence under `key`, or none. */
export function seqItems(node: unknown, key: string): unknown[] {
  const c = child(node, key)
  return isSeq(c) ? c.items : []
}

/** A scalar's value as a string (numbers and booleans too), else undefined. */
export function scalarText(node: unknown): string | undefined {
  if (!isScalar(node) || node.value === null || node.value === undefined) return undefined
  return valueText(node.value)
}

export function text(node: unknown, key: string): string | undefined {
  return scalarText(child(node, key))
}

export function flag(node: unknown, key: string): boolean {
  const c = child(node, key)
  return isScalar(c) && (c.value === true || c.value === 'true')
}

/** The plain JavaScript value of a node (for reading, never to write back). */
export function plain(node: unknown): unknown {
  return node && typeof node === 'object' && 'toJSON' in node
    ? (node as { toJSON(): unknown }).toJSON()
    : node
}

/**
 * Replaces the pair `oldKey` of a mapping with `newKey: value`, in the same place, keeping the
 * comments that were on the old key. Returns false when `oldKey` is absent.
 */
export function replacePair(
  doc: Document,
  map: YAMLMap,
  oldKey: string,
  newKey: string,
  value: unknown
): boolean {
  const i = map.items.findIndex((p) => scalarText(p.key) === oldKey)
  if (i < 0) return false
  const old = map.items[i]
  const key = new Scalar(newKey)
  if (isScalar(old.key)) {
    key.commentBefore = old.key.commentBefore
    key.spaceBefore = old.key.spaceBefore
  }
  const node = isNode(value) ? value : doc.createNode(value)
  map.items[i] = new Pair(key, node)
  return true
}

/** Removes the pair `key` from a mapping; true when it was there. */
export function removePair(map: YAMLMap, key: string): boolean {
  return map.delete(key)
}

function isNode(v: unknown): v is Node {
  return isMap(v) || isSeq(v) || isScalar(v)
}

/** 1-based line of a node in its file, when it has a range. */
export function lineOf(node: unknown, lineAt: (offset: number) => number): number | undefined {
  const range = (node as { range?: [number, number, number] } | null)?.range
  return range ? lineAt(range[0]) : undefined
}
