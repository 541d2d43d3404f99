import { describe, expect, it } from '@jest/globals'
import { collectGarbage, gcMutation } from '../../src/state/gc.js'
import { emptyStageState, emptyState, type Promotion, type State } from '../../src/state/types.js'
import { freightCollectionId } from '../../src/freight/id.js'
import { createDraft, deepFreeze, finishDraft } from '../../src/state/draft.js'
import { addFreight, makeFreight } from '../support/state-fixtures.js'

function promotion(name: string, freight: string, phase: Promotion['phase']): Promotion {
  return {
    name,
    stage: name.split('.')[0],
    freight,
    phase,
    createdAt: '2025-01-01T00:00:00Z',
    steps: [],
    currentStep: 0,
    stepExecutionMetadata: [],
    state: {}
  }
}

/** 30 freight in warehouse a (a-0 oldest), 5 in b. */
function fixture(): { state: State; a: string[]; b: string[] } {
  const state = emptyState()
  const a: string[] = []
  const b: string[] = []
  for (let i = 0; i < 30; i++) {
    const f = makeFreight('a', i)
    addFreight(state, f)
    a.push(f.name)
  }
  for (let i = 0; i < 5; i++) {
    const f = makeFreight('b', i)
    addFreight(state, f)
    b.push(f.name)
  }
  return { state, a, b }
}

describe('collectGarbage', () => {
  it('keeps the newest N per warehouse and prunes the rest', () => {
    const { state, a, b } = fixture()
    const { state: next, pruned } = collectGarbage(state, { keepPerWarehouse: 20 })
    expect(pruned.freight).toEqual([...a.slice(0, 10)].sort())
    for (const id of [...a.slice(10), ...b]) expect(next.freight[id]).toBeDefined()
    for (const id of a.slice(0, 10)) expect(next.freight[id]).toBeUndefined()
    // Input untouched.
    expect(Object.keys(state.freight)).toHaveLength(35)
  })

  it('never prunes freight current or in history in a stage, in an unfinished promotion, or held', () => {
    const { state, a } = fixture()
    const stage = emptyStageState()
    const ref = (id: string) => ({
      id: freightCollectionId([id]),
      items: { 'Warehouse/a': { name: id, origin: { kind: 'Warehouse' as const, name: 'a' } } },
      verificationHistory: []
    })
    stage.freightHistory = [ref(a[0]), ref(a[1])]
    stage.autoPromotionHolds['Warehouse/a'] = {
      freightName: a[2],
      origin: { kind: 'Warehouse', name: 'a' },
      promotionName: 'p',
      createdAt: 'x'
    }
    state.stages.prod = stage
    state.promotions['prod.01a.x'] = promotion('prod.01a.x', a[3], 'Running')
    state.promotions['prod.01b.x'] = promotion('prod.01b.x', a[4], 'Pending')
    state.promotions['prod.01c.x'] = promotion('prod.01c.x', a[5], 'Failed')
    state.warehouses.a = { lastFreightID: a[6] }
    const { pruned } = collectGarbage(state, { keepPerWarehouse: 1 })
    for (const i of [0, 1, 2, 3, 4, 6, 29]) expect(pruned.freight).not.toContain(a[i])
    expect(pruned.freight).toContain(a[5])
    expect(pruned.freight).toHaveLength(30 - 7 + 4) // a minus kept, plus b's 4 oldest
  })

  it('prunes old finished promotions and audit entries, never unfinished or referenced ones', () => {
    const state = emptyState()
    for (let i = 0; i < 10; i++) {
      const name = `dev.01j${String(i).padStart(3, '0')}.abcdefg`
      state.promotions[name] = promotion(name, 'f', i === 1 ? 'Running' : 'Succeeded')
    }
    state.stages.dev = {
      ...emptyStageState(),
      lastPromotion: { name: 'dev.01j000.abcdefg', freight: 'f', phase: 'Succeeded' }
    }
    for (let i = 0; i < 12; i++) state.audit.push({ at: String(i), action: 'promote' })
    const { state: next, pruned } = collectGarbage(state, { keepPromotions: 3, keepAudit: 5 })
    // Newest 3 finished kept (009, 008, 007); 001 running, 000 referenced by the stage.
    expect(pruned.promotions).toEqual([
      'dev.01j002.abcdefg',
      'dev.01j003.abcdefg',
      'dev.01j004.abcdefg',
      'dev.01j005.abcdefg',
      'dev.01j006.abcdefg'
    ])
    expect(Object.keys(next.promotions).sort()).toEqual([
      'dev.01j000.abcdefg',
      'dev.01j001.abcdefg',
      'dev.01j007.abcdefg',
      'dev.01j008.abcdefg',
      'dev.01j009.abcdefg'
    ])
    expect(pruned.audit).toBe(7)
    expect(next.audit.map((e) => e.at)).toEqual(['7', '8', '9', '10', '11'])
  })

  it('gcMutation prunes a draft and says what it pruned; undefined when nothing to do', () => {
    const { state, a } = fixture()
    const base = deepFreeze(state)
    const draft = createDraft(base)
    const message = gcMutation(draft, { keepPerWarehouse: 25 })
    const next = finishDraft(draft)
    expect(message).toBe('gc: prune 5 freight, 0 promotions, 0 audit entries')
    expect(Object.keys(next.freight)).toHaveLength(30)
    expect(next.freight[a[0]]).toBeUndefined()
    expect(next.freight[a[29]]).toBe(base.freight[a[29]])
    expect(gcMutation(createDraft(next), { keepPerWarehouse: 25 })).toBeUndefined()
  })
})
