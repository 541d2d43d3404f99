import { describe, expect, it } from '@jest/globals'
import { z } from 'zod'
import { schemaAcceptor } from '../../src/state/schema-acceptor.js'
import { stateSchema, validateState } from '../../src/state/schema.js'
import { emptyStageState, emptyState } from '../../src/state/types.js'
import { addFreight, makeFreight } from '../support/state-fixtures.js'

function sampleState(): Record<string, unknown> {
  const s = emptyState()
  for (let i = 0; i < 3; i++) addFreight(s, makeFreight('w', i))
  s.stages.test = emptyStageState()
  s.audit.push({ at: '2025-01-01T00:00:00Z', action: 'promote' })
  return JSON.parse(JSON.stringify(s)) as Record<string, unknown>
}

/** Every way to break one value somewhere in the document: drop it, or swap in another type. */
function* mutations(doc: unknown): Generator<unknown> {
  const replacements: unknown[] = [undefined, null, 1.5, -1, 'x', [], {}, true, Infinity]
  function* at(node: unknown, rebuild: (v: unknown) => unknown): Generator<unknown> {
    for (const r of replacements) yield rebuild(r)
    if (Array.isArray(node))
      for (let i = 0; i < node.length; i++)
        yield* at(node[i], (v) => rebuild(node.map((x, j) => (j === i ? v : x))))
    else if (node && typeof node === 'object')
      for (const key of Object.keys(node))
        yield* at((node as Record<string, unknown>)[key], (v) => rebuild({ ...node, [key]: v }))
  }
  yield* at(doc, (v) => v)
}

describe('the state schema acceptor', () => {
  it('compiles the state schema', () => {
    expect(schemaAcceptor(stateSchema)).toBeDefined()
  })

  it('never accepts what zod rejects (every one-value change of a sample state)', () => {
    const accepts = schemaAcceptor(stateSchema)!
    let rejected = 0
    for (const doc of mutations(sampleState())) {
      const zodAccepts = stateSchema.safeParse(doc).success
      if (accepts(doc)) expect(zodAccepts).toBe(true)
      if (!zodAccepts) rejected++
    }
    expect(rejected).toBeGreaterThan(100)
    expect(accepts(sampleState())).toBe(true)
  })

  it('leaves schemas it does not know to zod', () => {
    expect(schemaAcceptor(z.object({ a: z.string().min(2) }))).toBeUndefined()
    expect(schemaAcceptor(z.strictObject({ a: z.string() }))).toBeUndefined()
    expect(schemaAcceptor(z.union([z.string(), z.number()]))).toBeUndefined()
  })

  it('validateState still words problems through zod', () => {
    const doc = sampleState()
    ;(doc.audit as unknown[]).push({ at: 1, action: 'x' })
    expect(validateState(doc)).toEqual([
      'audit[1].at: Invalid input: expected string, received number'
    ])
  })
})
