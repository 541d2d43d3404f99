import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from '@jest/globals'
import { STEP_SCHEMA_DIR, stepSchemaFiles } from '../../src/steps/json-schema.js'
import { stepRegistry } from '../../src/steps/registry.js'

describe('schema/steps/<step>.json', () => {
  const expected = stepSchemaFiles()

  it('has one schema per registered step', () => {
    expect(expected.size).toBe(stepRegistry.size)
    expect(expected.size).toBeGreaterThan(0)
  })

  it('is up to date with the zod schemas (run `npm run schema`)', () => {
    const dir = path.join(process.cwd(), STEP_SCHEMA_DIR)
    const committed = fs.existsSync(dir)
      ? fs.readdirSync(dir).filter((f) => f.endsWith('.json'))
      : []
    expect(committed.map((f) => `${STEP_SCHEMA_DIR}/${f}`).sort()).toEqual(
      [...expected.keys()].sort()
    )
    for (const [rel, text] of expected) {
      expect({ file: rel, text: fs.readFileSync(path.join(process.cwd(), rel), 'utf8') }).toEqual({
        file: rel,
        text
      })
    }
  })
})
