// Writes schema/waybill.schema.json from the zod schemas (npm run schema).
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { JSON_SCHEMA_PATH, jsonSchemaText } from '../src/config/json-schema.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const out = path.join(root, JSON_SCHEMA_PATH)
fs.mkdirSync(path.dirname(out), { recursive: true })
fs.writeFileSync(out, jsonSchemaText())
process.stdout.write(`wrote ${JSON_SCHEMA_PATH}\n`)
