/** YAML files parsed into documents that remember where each field is (for file:line:column). */
import {
  LineCounter,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  parseAllDocuments,
  visit,
  type Document,
  type Node
} from 'yaml'
import type { Location } from './model.js'
import type { Problem } from './problems.js'
import { templateLeftovers } from './template-leftovers.js'

export type FieldPath = ReadonlyArray<PropertyKey>

/** One parsed YAML document, kept to locate fields in it. */
export interface Source {
  /** Path relative to the repository (posix separators). */
  file: string
  doc: Document
  lc: LineCounter
}

/** A document that parsed cleanly and is not empty, with its plain value. */
export interface YamlDocument {
  src: Source
  value: unknown
}

function keyString(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value)
  return typeof key === 'string' ? key : undefined
}

/** Offset of the node at `path` (the key's when preferKey), or of the deepest ancestor found. */
function offsetOf(src: Source, fieldPath: FieldPath, preferKey = false): number {
  let node: unknown = src.doc.contents
  let keyNode: Node | undefined
  let best = (node as Node | null)?.range?.[0] ?? 0
  let found = 0
  for (let i = 0; i < fieldPath.length; i++) {
    const seg = fieldPath[i]
    if (isAlias(node)) node = node.resolve(src.doc)
    let next: unknown
    let nextKey: Node | undefined
    if (isMap(node) && typeof seg === 'string') {
      const pair = [...node.items].reverse().find((p) => keyString(p.key) === seg)
      if (!pair) break
      next = pair.value
      nextKey = pair.key as Node
    } else if (isSeq(node) && typeof seg === 'number') {
      next = node.items[seg]
      if (next === undefined) break
    } else break
    node = next
    keyNode = nextKey
    found = i + 1
    const isLast = i === fieldPath.length - 1
    const valueStart = (node as Node | null)?.range?.[0]
    if (isLast && preferKey && keyNode?.range) best = keyNode.range[0]
    else if (valueStart !== undefined && !(isLast && preferKey)) best = valueStart
    else if (keyNode?.range) best = keyNode.range[0]
    // an empty value (`sources:`) has no node: point at its key
    if (node === null && keyNode?.range) best = keyNode.range[0]
  }
  // a missing field: point at the key of the mapping that should hold it
  if (found < fieldPath.length && found > 0 && keyNode?.range) return keyNode.range[0]
  return best
}

/** Where the field at `fieldPath` is (its key's position when preferKey), or its nearest ancestor. */
export function position(src: Source, fieldPath: FieldPath, preferKey = false): Location {
  const { line, col } = src.lc.linePos(offsetOf(src, fieldPath, preferKey))
  return { file: src.file, line: Math.max(line, 1), column: col }
}

/**
 * Every document of one file (multi-document YAML), with the problems YAML itself finds: syntax
 * errors (the document is dropped), warnings, duplicate keys, unresolvable aliases. Empty
 * documents are dropped silently.
 */
export function parseYamlFile(
  file: string,
  text: string
): { documents: YamlDocument[]; problems: Problem[] } {
  const documents: YamlDocument[] = []
  const problems: Problem[] = []
  const lc = new LineCounter()
  const docs = parseAllDocuments(text, {
    lineCounter: lc,
    uniqueKeys: false,
    merge: true,
    prettyErrors: true
  }) as Document.Parsed[]
  for (const doc of docs) {
    const src: Source = { file, doc, lc }
    if (doc.errors.length > 0) {
      // the first error only: the ones after it are usually its consequences
      const { line, col } = lc.linePos(doc.errors[0].pos[0])
      problems.push({
        severity: 'error',
        file,
        line: Math.max(line, 1),
        column: col,
        message: `YAML syntax error: ${doc.errors[0].message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`,
        hint: 'check indentation and closing brackets or quotes near this line'
      })
      continue
    }
    for (const w of doc.warnings) {
      const { line, col } = lc.linePos(w.pos[0])
      problems.push({
        severity: 'warning',
        file,
        line,
        column: col,
        message: `YAML: ${w.message.split('\n')[0]}`
      })
    }
    problems.push(...duplicateKeyWarnings(src))
    const leftovers = templateLeftovers(src, text)
    if (leftovers.length > 0) {
      problems.push(...leftovers)
      continue
    }
    let value: unknown
    try {
      value = doc.toJS({ maxAliasCount: 1000 })
    } catch (err) {
      problems.push({
        severity: 'error',
        ...position(src, []),
        message: `YAML: ${(err as Error).message}`
      })
      continue
    }
    if (value === null || value === undefined) continue
    documents.push({ src, value })
  }
  return { documents, problems }
}

/** Kubernetes decoders reject or warn on duplicate keys; YAML keeps the last one. */
function duplicateKeyWarnings(src: Source): Problem[] {
  const out: Problem[] = []
  visit(src.doc, {
    Map(_, map) {
      const firstAt = new Map<string, number>()
      for (const pair of map.items) {
        const k = keyString(pair.key)
        const offset = (pair.key as Node | null)?.range?.[0]
        if (k === undefined || offset === undefined) continue
        const prev = firstAt.get(k)
        if (prev !== undefined) {
          const { line, col } = src.lc.linePos(offset)
          out.push({
            severity: 'warning',
            file: src.file,
            line,
            column: col,
            message: `duplicate key '${k}' (also at line ${src.lc.linePos(prev).line}); the last one is used`,
            hint: 'remove one of them'
          })
        } else firstAt.set(k, offset)
      }
    }
  })
  return out
}
