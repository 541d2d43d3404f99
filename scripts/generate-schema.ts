// Writes schema/waybill.schema.json and schema/steps/<step>.json from the zod schemas (npm run schema).
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { JSON_SCHEMA_PATH, jsonSchemaText } from '../src/config/json-schema.js'
import { STEP_SCHEMA_DIR, stepSchemaFiles } from '../src/steps/json-schema.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const out = path.join(root, JSON_SCHEMA_PATH)
fs.mkdirSync(path.dirname(out), { recursive: true })
fs.writeFileSync(out, jsonSchemaText())
process.stdout.write(`wrote ${JSON_SCHEMA_PATH}\n`)

// Step configs: one file per step; files of steps that no longer exist are removed.
const stepFiles = stepSchemaFiles()
const stepDir = path.join(root, STEP_SCHEMA_DIR)
fs.mkdirSync(stepDir, { recursive: true })
for (const name of fs.readdirSync(stepDir)) {
  if (name.endsWith('.json') && !stepFiles.has(`${STEP_SCHEMA_DIR}/${name}`))
    fs.rmSync(path.join(stepDir, name))
}
for (const [rel, text] of stepFiles) fs.writeFileSync(path.join(root, rel), text)
process.stdout.write(`wrote ${stepFiles.size} step schemas in ${STEP_SCHEMA_DIR}/\n`)
