import { describe, expect, it } from '@jest/globals'
import { collectGarbage, gcMutation } from '../../src/state/gc.js'
import { emptyStageState, emptyState, type Promotion, type State } from '../../src/state/types.js'
import { freightCollectionId } from '../../src/freight/id.js'
import { createDraft, deepFreeze, finishDraft } from '../../src/state/draft.js'
import { addFreight, makeFreight } from '../support/state-fixtures.js'

function promotion(
  stage: string,
  n: number,
  freight: string,
  phase: Promotion['phase']
): Promotion {
  return {
    name: `${stage}.01J${String(n).padStart(3, '0')}.abcdef0`,
    stage,
    freight,
    phase,
    createdAt: '2025-01-01T00:00:00Z',
    steps: [],
    currentStep: 0,
    stepExecutionMetadata: [],
    state: {}
  }
}

function current(state: State, stage: string, freight: string): void {
  const f = state.freight[freight]
  const st = (state.stages[stage] = emptyStageState())
  st.freightHistory.push({
    id: freightCollectionId([freight]),
    items: { [`Warehouse/${f.origin.name}`]: { name: freight, origin: f.origin } },
    verificationHistory: []
  })
}

/** Warehouse `kept` (stage kept-test) stays in the config; `gone` (stage gone-test) was removed. */
function fixture(): { state: State; kept: string; gone: string } {
  const state = emptyState()
  const kept = makeFreight('kept', 1)
  const gone = makeFreight('gone', 1)
  addFreight(state, kept)
  addFreight(state, gone)
  state.warehouses.kept = {
    lastFreightID: kept.name,
    discovered: {
      discoveredAt: '2025-01-01T00:00:00Z',
      git: [],
      charts: [],
      images: [{ repoURL: 'ghcr.io/example/kept', references: [] }]
    },
    imageCache: {
      'ghcr.io/example/kept@sha256:aa': { digest: 'sha256:aa' },
      'ghcr.io/example/kept:v1': { digest: 'sha256:aa' },
      // The warehouse used to subscribe to these (and a repository whose name extends it).
      'ghcr.io/example/old@sha256:bb': { digest: 'sha256:bb' },
      'ghcr.io/example/kept-old@sha256:cc': { digest: 'sha256:cc' }
    }
  }
  state.warehouses.gone = {
    lastFreightID: gone.name,
    imageCache: { 'x@sha256:dd': { digest: 'sha256:dd' } }
  }
  current(state, 'kept-test', kept.name)
  current(state, 'gone-test', gone.name)
  state.promotions = Object.fromEntries(
    [
      promotion('kept-test', 1, kept.name, 'Succeeded'),
      promotion('gone-test', 2, gone.name, 'Succeeded'),
      promotion('gone-test', 3, gone.name, 'Pending')
    ].map((p) => [p.name, p])
  )
  state.stages['gone-test'].currentPromotion = promotion('gone-test', 3, gone.name, 'Pending').name
  return { state, kept: kept.name, gone: gone.name }
}

const live = { liveWarehouses: new Set(['kept']), liveStages: new Set(['kept-test']) }

describe('GC bounds', () => {
  it('prunes the records of warehouses and stages removed from the config, and what only they pinned', () => {
    const { state, kept, gone } = fixture()
    const { state: next, pruned } = collectGarbage(deepFreeze(state), live)
    expect(pruned.warehouses).toEqual(['gone'])
    expect(pruned.stages).toEqual(['gone-test'])
    expect(Object.keys(next.warehouses)).toEqual(['kept'])
    expect(Object.keys(next.stages)).toEqual(['kept-test'])
    // The removed stage's promotions go, even the pending one; its freight is no longer pinned.
    expect(Object.values(next.promotions).map((p) => p.stage)).toEqual(['kept-test'])
    expect(pruned.freight).toEqual([gone])
    expect(next.freight[kept]).toBeDefined()
  })

  it('drops approval and input responses of promotions that are gone', () => {
    const { state } = fixture()
    const names = Object.values(state.promotions).map((p) => p.name)
    const response = { actor: 'octocat', action: 'approve' as const, at: '2025-01-01T00:00:00Z' }
    state.responses = Object.fromEntries(names.map((n) => [n, { approve: [response] }]))
    const { state: next } = collectGarbage(deepFreeze(state), live)
    const left = Object.keys(next.responses ?? {})
    expect(left.length).toBeGreaterThan(0)
    expect(left.every((n) => n in next.promotions)).toBe(true)
    expect(left.length).toBeLessThan(names.length)
  })

  it('without the config it prunes nothing for removal (keeps today’s behaviour)', () => {
    const { state } = fixture()
    const { pruned } = collectGarbage(state)
    expect(pruned.warehouses).toEqual([])
    expect(pruned.stages).toEqual([])
    expect(pruned.freight).toEqual([])
    expect(pruned.promotions).toEqual([])
  })

  it('drops image metadata of repositories the warehouse no longer subscribes to', () => {
    const { state } = fixture()
    const { state: next, pruned } = collectGarbage(state, live)
    expect(pruned.imageCache).toEqual([
      { warehouse: 'kept', key: 'ghcr.io/example/kept-old@sha256:cc' },
      { warehouse: 'kept', key: 'ghcr.io/example/old@sha256:bb' }
    ])
    expect(Object.keys(next.warehouses.kept.imageCache!).sort()).toEqual([
      'ghcr.io/example/kept:v1',
      'ghcr.io/example/kept@sha256:aa'
    ])
    // A warehouse never discovered under its spec keeps its cache: nothing says what is stale.
    delete state.warehouses.kept.discovered
    expect(collectGarbage(state, live).pruned.imageCache).toEqual([])
  })

  it('gcMutation applies the same to a draft, names it in the message, and is idempotent', () => {
    const { state } = fixture()
    const draft = createDraft(deepFreeze(state))
    const message = gcMutation(draft, live)
    expect(message).toBe(
      'gc: prune 1 freight, 2 promotions, 0 audit entries, 1 removed warehouses, 1 removed stages, 2 stale image cache entries'
    )
    const next = finishDraft(draft)
    expect(next).toEqual(collectGarbage(state, live).state)
    expect(gcMutation(createDraft(next), live)).toBeUndefined()
  })
})
