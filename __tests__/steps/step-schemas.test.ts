import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from '@jest/globals'
import { stepRegistry } from '../../src/steps/index.js'

/**
 * Every registered step that has a Kargo config schema in ../shared must accept a config made of
 * the schema's required fields, and reject an unknown property and a missing required field.
 * Skips when ../shared is absent (a user's clone).
 */
const SCHEMA_DIR = path.resolve(process.cwd(), '..', 'shared', 'spec', 'kargo', 'step-schemas')
const present = fs.existsSync(SCHEMA_DIR)

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

const cases = present
  ? [...stepRegistry.values()]
      .filter((s) => fs.existsSync(path.join(SCHEMA_DIR, `${s.name}-config.json`)))
      .map((s) => [s.name, s] as const)
  : []

;(present ? describe : describe.skip)('step config schemas match Kargo', () => {
  it('covers the control steps at least', () => {
    const names = cases.map(([n]) => n)
    for (const n of ['http', 'compose-output', 'set-metadata', 'set-freight-alias', 'fail']) {
      expect(names).toContain(n)
    }
  })

  describe.each(cases)('%s', (name, def) => {
    const schema = loadJson(path.join(SCHEMA_DIR, `${name}-config.json`))
    const valid = sample(schema, schema) as Record<string, unknown>

    it('accepts a config of the required fields', () => {
      expect(() => def.parse(structuredClone(valid))).not.toThrow()
    })

    if (schema.additionalProperties === false) {
      it('rejects an unknown property', () => {
        expect(() => def.parse({ ...structuredClone(valid), notAKargoField: 'x' })).toThrow(
          /notAKargoField|unrecognized|unknown/i
        )
      })
    }

    const required = schema.required ?? []
    if (required.length) {
      it.each(required)('rejects a config without %s', (field) => {
        const c = structuredClone(valid)
        delete c[field]
        expect(() => def.parse(c)).toThrow()
      })
    }
  })
})
