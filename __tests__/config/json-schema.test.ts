import { describe, expect, it } from '@jest/globals'
import fs from 'node:fs'
import path from 'node:path'
import { Ajv } from 'ajv'
import { JSON_SCHEMA_PATH, buildJsonSchema, jsonSchemaText } from '../../src/config/json-schema.js'
import { BASE } from './support.js'
import { parseAllDocuments } from 'yaml'

describe('JSON Schema for editors', () => {
  it('the committed schema/waybill.schema.json is up to date (run `npm run schema`)', () => {
    const committed = fs.readFileSync(path.join(process.cwd(), JSON_SCHEMA_PATH), 'utf8')
    expect(committed).toBe(jsonSchemaText())
  })

  it('dispatches on kind and rejects unknown fields, removed fields and bad durations', () => {
    const ajv = new Ajv({ allErrors: true, strict: false })
    const validate = ajv.compile(buildJsonSchema())
    for (const doc of parseAllDocuments(BASE)) expect(validate(doc.toJS())).toBe(true)
    const warehouse = {
      apiVersion: 'kargo.akuity.io/v1alpha1',
      kind: 'Warehouse',
      metadata: { name: 'w', namespace: 'ignored-but-accepted' },
      spec: { interval: '10m', subscriptions: [{ image: { repoURL: 'ghcr.io/a/b' } }] }
    }
    expect(validate(warehouse)).toBe(true)
    const bad = (spec: unknown) => validate({ ...warehouse, spec })
    expect(bad({ ...warehouse.spec, interval: '5 minutes' })).toBe(false)
    expect(bad({ ...warehouse.spec, intervall: '5m' })).toBe(false)
    expect(bad({ subscriptions: [{ image: { repoURL: 'ghcr.io/a/b', allowTags: ['x'] } }] })).toBe(
      false
    )
    // a deprecated field Waybill still reads validates (editors mark it deprecated)
    expect(bad({ subscriptions: [{ image: { repoURL: 'ghcr.io/a/b', allowTags: 'x' } }] })).toBe(
      true
    )
    expect(bad({ subscriptions: [{ name: 'only-a-name' }] })).toBe(false)
    expect(validate({ ...warehouse, kind: 'Stage' })).toBe(false)
  })
})
