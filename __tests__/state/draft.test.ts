import { describe, expect, it } from '@jest/globals'
import { cloneJson, createDraft, deepFreeze, finishDraft } from '../../src/state/draft.js'
import { StateSerializer, parseStateText, serializeState } from '../../src/state/serialize.js'
import { emptyState, STATE_SCHEMA_VERSION, type State } from '../../src/state/types.js'
import { addFreight, makeFreight } from '../support/state-fixtures.js'

function base(): State {
  const s = emptyState()
  for (let i = 0; i < 5; i++) addFreight(s, makeFreight('w', i))
  s.audit.push({ at: '1', action: 'a' })
  return deepFreeze(s)
}

describe('copy-on-write drafts', () => {
  it('shares untouched records and copies the changed path only', () => {
    const b = base()
    const ids = Object.keys(b.freight)
    const d = createDraft(b)
    d.freight[ids[0]].status.verifiedIn.test = { verifiedAt: 'now' }
    d.audit.push({ at: '2', action: 'b' })
    const next = finishDraft(d)
    expect(next).not.toBe(b)
    expect(next.freight[ids[0]].status.verifiedIn).toEqual({ test: { verifiedAt: 'now' } })
    expect(b.freight[ids[0]].status.verifiedIn).toEqual({})
    expect(next.freight[ids[1]]).toBe(b.freight[ids[1]])
    expect(next.stages).toBe(b.stages)
    expect(next.audit.map((e) => e.at)).toEqual(['1', '2'])
    expect(Object.isFrozen(next.audit[1])).toBe(true)
  })

  it('returns the base itself when nothing changed, even after reads and same-value writes', () => {
    const b = base()
    const d = createDraft(b)
    const id = Object.keys(d.freight)[0]
    void Object.values(d.freight).map((f) => f.alias)
    d.freight[id].alias = b.freight[id].alias
    expect(finishDraft(d)).toBe(b)
  })

  it('supports the usual mutations: delete, splice, sort, length, moving subtrees, spreading', () => {
    const b = base()
    const ids = Object.keys(b.freight)
    const d = createDraft(b)
    delete d.freight[ids[0]]
    d.audit.push({ at: '0', action: 'z' }, { at: '3', action: 'c' })
    d.audit.sort((x, y) => x.at.localeCompare(y.at))
    d.audit.splice(0, 1)
    d.stages.dev = { freightHistory: [], metadata: {}, autoPromotionHolds: {} }
    d.stages.dev.metadata.copied = d.freight[ids[1]].origin
    d.freight[ids[2]] = { ...d.freight[ids[2]], alias: 'new-alias' }
    expect(Array.isArray(d.audit)).toBe(true)
    expect(JSON.parse(JSON.stringify(d.stages.dev.metadata))).toEqual({
      copied: { kind: 'Warehouse', name: 'w' }
    })
    const next = finishDraft(d)
    expect(Object.keys(next.freight)).toHaveLength(4)
    expect(next.audit.map((e) => e.at)).toEqual(['1', '3'])
    expect(next.stages.dev.metadata.copied).toEqual({ kind: 'Warehouse', name: 'w' })
    expect(next.freight[ids[2]].alias).toBe('new-alias')
    expect(next.freight[ids[2]].images).toBe(b.freight[ids[2]].images)
    // No proxies left in the result: structuredClone works on it.
    expect(structuredClone(next)).toEqual(JSON.parse(JSON.stringify(next)))
  })

  it('can be read but not written after it finished; cloneJson copies a draft', () => {
    const b = base()
    const d = createDraft(b)
    const audit = d.audit
    audit.push({ at: '9', action: 'x' })
    expect(cloneJson(audit)).toEqual([
      { at: '1', action: 'a' },
      { at: '9', action: 'x' }
    ])
    finishDraft(d)
    expect(audit).toHaveLength(2)
    expect(() => audit.push({ at: '10', action: 'y' })).toThrow(
      /cannot be changed after the update/
    )
  })
})

describe('state.json serialization', () => {
  it('is deterministic whatever the key order, one record per line, schemaVersion first', () => {
    const s = emptyState()
    const f = makeFreight('w', 1)
    addFreight(s, f)
    const shuffled = JSON.parse(JSON.stringify(s, Object.keys(s).reverse())) as State
    shuffled.freight = {
      [f.name]: Object.fromEntries(Object.entries(s.freight[f.name]).reverse()) as never
    }
    const text = serializeState(s)
    expect(serializeState(shuffled)).toBe(text)
    const lines = text.split('\n')
    expect(lines[1]).toBe(`  "schemaVersion": ${STATE_SCHEMA_VERSION},`)
    expect(lines.filter((l) => l.startsWith(`    "${f.name}": {`))).toHaveLength(1)
    // Name, empty lists and empty status maps are left out on disk and restored on read.
    expect(text).not.toContain('"name":"' + f.name)
    expect(text).not.toContain('"charts":[]')
    expect(parseStateText(text)).toEqual(s)
  })

  it('parses hand-formatted JSON too', () => {
    const s = emptyState()
    addFreight(s, makeFreight('w', 1))
    expect(parseStateText(JSON.stringify(s, null, 4))).toEqual(s)
  })

  it('reuses lines of records it has seen, and reserializes replaced ones', () => {
    const ser = new StateSerializer()
    const b = deepFreeze(ser.parse(serializeState(base())) as State)
    const d = createDraft(b)
    const id = Object.keys(d.freight)[0]
    d.freight[id].alias = 'renamed-alias'
    const text = ser.serialize(finishDraft(d))
    expect(text).toBe(serializeState(JSON.parse(JSON.stringify(finishDraft(d)))))
    expect(text).toContain('"alias":"renamed-alias"')
  })
})
