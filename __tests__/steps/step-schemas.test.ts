import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from '@jest/globals'
import { stepRegistry } from '../../src/steps/registry.js'
import { stepJsonSchema } from '../../src/steps/json-schema.js'

/**
 * Conformance with Kargo's step config schemas, pinned in vendor/kargo/step-schemas/ (see
 * vendor/README.md): every Kargo step has a Waybill step; each accepts a config built from the
 * required fields of Kargo's schema and rejects an unknown property and a missing required
 * field; every field Kargo's schema declares is a field of ours.
 */
const SCHEMA_DIR = path.resolve(process.cwd(), 'vendor', 'kargo', 'step-schemas')
const SUFFIX = '-config.json'

type Schema = {
  $ref?: string
  type?: string | string[]
  properties?: Record<string, Schema>
  required?: string[]
  additionalProperties?: boolean | Schema
  items?: Schema
  minItems?: number
  minProperties?: number
  enum?: unknown[]
  const?: unknown
  pattern?: string
  minLength?: number
  minimum?: number
  oneOf?: Schema[]
  anyOf?: Schema[]
  allOf?: Schema[]
  definitions?: Record<string, Schema>
  $defs?: Record<string, Schema>
}

function loadJson(file: string): Schema {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Schema
}

/** Resolves `$ref` against `root`, or against a sibling file of the vendored schemas. */
function resolveRef(ref: string, root: Schema): Schema {
  const [file, pointer = ''] = ref.split('#')
  const doc = file ? loadJson(path.join(SCHEMA_DIR, file)) : root
  let node: unknown = doc
  for (const part of pointer.split('/').filter(Boolean))
    node = (node as Record<string, unknown>)[part]
  return node as Schema
}

const STRING_SAMPLES = [
  'ghcr.io/example/app:v1',
  'x',
  'example',
  '10s',
  'https://example.com/x',
  '0644',
  'GET',
  'application/json',
  'a.b'
]

function sampleString(s: Schema): string {
  if (!s.pattern) return 'x'.repeat(Math.max(1, s.minLength ?? 1))
  const re = new RegExp(s.pattern, 'u')
  const hit = STRING_SAMPLES.find((c) => re.test(c))
  if (!hit) throw new Error(`no sample string for pattern ${s.pattern}`)
  return hit
}

/** A minimal valid value: required fields only, first branch of oneOf/anyOf. */
function sample(schema: Schema, root: Schema, depth = 0): unknown {
  if (depth > 20) throw new Error('schema too deep')
  if (schema.$ref) return sample(resolveRef(schema.$ref, root), root, depth + 1)
  if (schema.const !== undefined) return schema.const
  if (schema.enum) return schema.enum.find((e) => e !== '' && e !== null) ?? schema.enum[0]
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type
  const branch = schema.oneOf?.[0] ?? schema.anyOf?.[0]
  if (type === 'object' || schema.properties || schema.required) {
    const out: Record<string, unknown> = {}
    const required = new Set([...(schema.required ?? []), ...(branch?.required ?? [])])
    for (const name of required) {
      const prop = branch?.properties?.[name]?.type
        ? branch.properties[name]
        : schema.properties?.[name]
      out[name] = sample(prop ?? {}, root, depth + 1)
    }
    if (Object.keys(out).length < (schema.minProperties ?? 0)) out.key = 'value'
    return out
  }
  if (type === 'array') {
    const n = Math.max(schema.minItems ?? 0, 1)
    return Array.from({ length: n }, () => sample(schema.items ?? {}, root, depth + 1))
  }
  if (type === 'boolean') return false
  if (type === 'integer' || type === 'number') return Math.max(schema.minimum ?? 1, 1)
  if (type === 'string') return sampleString(schema)
  if (branch) return sample(branch, root, depth + 1)
  return 'x'
}

/** The properties a schema node declares, across $ref and its oneOf/anyOf/allOf branches. */
function declared(node: Schema, root: Schema, depth = 0): Map<string, Schema> {
  const out = new Map<string, Schema>()
  if (depth > 20) return out
  if (node.$ref) return declared(resolveRef(node.$ref, root), root, depth + 1)
  for (const [k, v] of Object.entries(node.properties ?? {})) out.set(k, v)
  for (const b of [...(node.oneOf ?? []), ...(node.anyOf ?? []), ...(node.allOf ?? [])]) {
    for (const [k, v] of declared(b, root, depth + 1)) if (!out.has(k)) out.set(k, v)
  }
  return out
}

/** The schema of array items (through $ref and branches), if the node is an array. */
function itemsOf(node: Schema, root: Schema, depth = 0): Schema | undefined {
  if (depth > 20) return undefined
  if (node.$ref) return itemsOf(resolveRef(node.$ref, root), root, depth + 1)
  if (node.items) return node.items
  for (const b of [...(node.oneOf ?? []), ...(node.anyOf ?? [])]) {
    const items = itemsOf(b, root, depth + 1)
    if (items) return items
  }
  return undefined
}

/** Paths of fields Kargo's schema declares that ours does not (`apps[].sources[].helm`). */
function unknownFields(
  kargo: Schema,
  kargoRoot: Schema,
  ours: Schema,
  oursRoot: Schema,
  at = ''
): string[] {
  const missing: string[] = []
  const theirs = declared(kargo, kargoRoot)
  const mine = declared(ours, oursRoot)
  for (const [name, k] of theirs) {
    const field = at ? `${at}.${name}` : name
    const o = mine.get(name)
    if (!o) {
      missing.push(field)
      continue
    }
    missing.push(...unknownFields(k, kargoRoot, o, oursRoot, field))
    const kItems = itemsOf(k, kargoRoot)
    const oItems = itemsOf(o, oursRoot)
    if (kItems && oItems)
      missing.push(...unknownFields(kItems, kargoRoot, oItems, oursRoot, `${field}[]`))
  }
  return missing
}

const kargoSteps = fs
  .readdirSync(SCHEMA_DIR)
  .filter((f) => f.endsWith(SUFFIX))
  .map((f) => f.slice(0, -SUFFIX.length))
  .sort()

describe('step config schemas match Kargo (vendor/kargo/step-schemas)', () => {
  it('the pinned schemas are there, and every Kargo step has a Waybill step', () => {
    expect(kargoSteps.length).toBeGreaterThanOrEqual(30)
    expect(kargoSteps.filter((n) => !stepRegistry.has(n))).toEqual([])
  })

  it('the field check sees nested fields (so a pass means something)', () => {
    const kargo: Schema = {
      properties: { apps: { type: 'array', items: { properties: { name: {}, extra: {} } } } }
    }
    const ours: Schema = {
      properties: { apps: { type: 'array', items: { properties: { name: {} } } } }
    }
    expect(unknownFields(kargo, kargo, ours, ours)).toEqual(['apps[].extra'])
  })

  for (const name of kargoSteps) {
    describe(name, () => {
      const def = stepRegistry.get(name)!
      const schema = loadJson(path.join(SCHEMA_DIR, `${name}${SUFFIX}`))
      const valid = sample(schema, schema) as Record<string, unknown>

      it('accepts a config of the required fields', () => {
        expect(() => def.parse(structuredClone(valid))).not.toThrow()
      })

      it('knows every field Kargo declares', () => {
        const ours = stepJsonSchema(def) as Schema
        expect(unknownFields(schema, schema, ours, ours)).toEqual([])
      })

      if (schema.additionalProperties === false) {
        it('rejects an unknown property', () => {
          expect(() => def.parse({ ...structuredClone(valid), notAKargoField: 'x' })).toThrow(
            /notAKargoField/
          )
        })
      }

      for (const field of schema.required ?? []) {
        it(`rejects a config without ${field}`, () => {
          const c = structuredClone(valid)
          delete c[field]
          expect(() => def.parse(c)).toThrow()
        })
      }
    })
  }
})
