import { describe, expect, it } from '@jest/globals'
import fc from 'fast-check'
import { nextPromotion, stagePromotions } from '../../src/pipeline/promotions.js'
import {
  cloneJson,
  createDraft,
  deepFreeze,
  draftOverlay,
  finishDraft
} from '../../src/state/draft.js'
import {
  emptyState,
  type Promotion,
  type PromotionPhase,
  type State
} from '../../src/state/types.js'

const STAGES = ['a', 'b', 'c']
// Integer-like keys come first in a map's key order, whatever the order they were added in.
const KEYS = ['p0', 'p1', 'p2', 'p3', 'p4', 'p5', '7', '12']
const NAMES = ['n0', 'n1', 'n2', 'n3', 'p3', '7']
const PHASES: PromotionPhase[] = ['Pending', 'Running', 'Succeeded', 'Failed']

function promotion(name: string, stage: string, phase: PromotionPhase): Promotion {
  return {
    name,
    stage,
    freight: 'f',
    phase,
    createdAt: '2025-06-01T00:00:00Z',
    steps: [],
    currentStep: 0,
    stepExecutionMetadata: [],
    state: {}
  }
}

/** stagePromotions before the index: every promotion, filtered and sorted. */
function scanned(state: State, stage: string): Promotion[] {
  return Object.values(state.promotions)
    .filter((p) => p.stage === stage)
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
}

function expectSameAsScan(state: State): void {
  for (const stage of [...STAGES, 'none']) {
    const indexed = stagePromotions(state, stage)
    const expected = scanned(state, stage)
    expect(indexed.length).toBe(expected.length)
    // The very records (a draft's own), in the same order.
    indexed.forEach((p, i) => expect(p).toBe(expected[i]))
    expect(nextPromotion(state, stage)).toBe(
      expected.find((p) => p.phase === 'Running') ?? expected.find((p) => p.phase === 'Pending')
    )
  }
}

const key = fc.constantFrom(...KEYS)
const stage = fc.constantFrom(...STAGES)
const phase = fc.constantFrom(...PHASES)
/** Mostly the key itself (as in real states), sometimes another, possibly repeated, name. */
const nameFor = fc.option(fc.constantFrom(...NAMES), { freq: 2 })

const record = fc.record({ key, name: nameFor, stage, phase })
type RecordSpec = { key: string; name: string | null; stage: string; phase: PromotionPhase }
const promotionOf = (r: RecordSpec) => promotion(r.name ?? r.key, r.stage, r.phase)

type Op =
  | { kind: 'put'; record: RecordSpec }
  | { kind: 'delete'; key: string }
  | { kind: 'set-stage'; key: string; stage: string }
  | { kind: 'set-phase'; key: string; phase: PromotionPhase }
  | { kind: 'rename'; key: string; name: string }
  | { kind: 'copy'; from: string; to: string }
  | { kind: 'base-record'; from: string; to: string }
  | { kind: 'replace-map' }
  | { kind: 'check' }

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: record.map((r) => ({ kind: 'put' as const, record: r })) },
  { weight: 2, arbitrary: key.map((k) => ({ kind: 'delete' as const, key: k })) },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('set-stage' as const), key, stage })
  },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('set-phase' as const), key, phase })
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('rename' as const),
      key,
      name: fc.constantFrom(...NAMES)
    })
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('copy' as const), from: key, to: key }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('base-record' as const), from: key, to: key })
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'replace-map' as const }) },
  { weight: 3, arbitrary: fc.constant({ kind: 'check' as const }) }
)

/** A record a mutator can write: a draft, or a new object (not a base record put elsewhere). */
const writable = (p: Promotion | undefined): p is Promotion =>
  p !== undefined && !Object.isFrozen(p)

/** Applies one mutation to a draft of `base` (reads through the draft, as mutators do). */
function apply(draft: State, base: State, o: Op): void {
  const promotions = draft.promotions
  switch (o.kind) {
    case 'put':
      promotions[o.record.key] = promotionOf(o.record)
      break
    case 'delete':
      delete promotions[o.key]
      break
    case 'set-stage':
      if (writable(promotions[o.key])) promotions[o.key].stage = o.stage
      break
    case 'set-phase':
      if (writable(promotions[o.key])) promotions[o.key].phase = o.phase
      break
    case 'rename':
      if (writable(promotions[o.key])) promotions[o.key].name = o.name
      break
    case 'copy':
      // The same record (a draft, or a new plain object) under a second key.
      if (promotions[o.from]) promotions[o.to] = promotions[o.from]
      break
    case 'base-record':
      if (base.promotions[o.from]) promotions[o.to] = base.promotions[o.from]
      break
    case 'replace-map':
      draft.promotions = cloneJson(promotions)
      break
    case 'check':
      expectSameAsScan(draft)
  }
}

function frozenState(records: RecordSpec[]): State {
  const state = emptyState()
  for (const r of records) state.promotions[r.key] = promotionOf(r)
  return deepFreeze(state)
}

/** Runs `ops` in a draft of `base`, checking along the way; returns the finished state. */
function mutate(base: State, ops: Op[]): State {
  expectSameAsScan(base)
  const draft = createDraft(base)
  expectSameAsScan(draft)
  for (const o of ops) apply(draft, base, o)
  expectSameAsScan(draft)
  const next = finishDraft(draft)
  expectSameAsScan(next)
  expectSameAsScan(draft)
  return next
}

describe('stagePromotions with the index by stage', () => {
  it('gives the same records in the same order as a scan, over random drafts', () => {
    fc.assert(
      fc.property(
        fc.array(record, { maxLength: 10 }),
        fc.array(op, { maxLength: 25 }),
        fc.array(op, { maxLength: 25 }),
        (records, first, second) => {
          // A second draft starts from the first one's result (a new frozen map, indexed anew).
          mutate(mutate(frozenState(records), first), second)
        }
      ),
      { numRuns: 300 }
    )
  })

  it('gives a plain (not frozen) state the same answer as a scan', () => {
    const state = emptyState()
    state.promotions.x = promotion('x', 'a', 'Pending')
    state.promotions.w = promotion('w', 'a', 'Running')
    expectSameAsScan(state)
    state.promotions.w.stage = 'b'
    expectSameAsScan(state)
  })

  it('reads each record of a frozen map once, however many drafts and changes read it', () => {
    let stageReads = 0
    const promotions: Record<string, Promotion> = {}
    for (let i = 0; i < 50; i++) {
      const name = `p${String(i).padStart(2, '0')}`
      const p = deepFreeze(promotion(name, STAGES[i % 3], i % 5 ? 'Succeeded' : 'Pending'))
      promotions[name] = new Proxy(p, {
        get(target, prop, receiver) {
          if (prop === 'stage') stageReads++
          return Reflect.get(target, prop, receiver) as unknown
        }
      })
    }
    const base = deepFreeze({ ...emptyState(), promotions })
    const queryAll = (state: State) => STAGES.forEach((s) => nextPromotion(state, s))
    queryAll(base)
    expect(stageReads).toBe(50)
    queryAll(base)
    queryAll(createDraft(base))
    expect(stageReads).toBe(50)
    for (let round = 0; round < 3; round++) {
      const draft = createDraft(base)
      draft.promotions.new = promotion('new', 'a', 'Pending')
      delete draft.promotions.p07
      for (const s of STAGES) {
        const next = nextPromotion(draft, s)
        if (next) next.phase = 'Running'
      }
    }
    // Only changed records are read again: far fewer reads than one scan of the map (50).
    expect(stageReads - 50).toBeLessThan(50)
  })
})

describe('draftOverlay', () => {
  it('is the base and the keys written at or below a level of a draft', () => {
    const base = deepFreeze({ a: { x: 1 }, b: { x: 2 }, c: { x: 3 } })
    expect(draftOverlay(base)).toEqual({ base, changedKeys: new Set() })
    expect(draftOverlay({ a: 1 })).toBeUndefined()
    expect(draftOverlay(createDraft(deepFreeze({ list: [1] })).list)).toBeUndefined()
    const root = createDraft(deepFreeze({ map: base }))
    const draft = root.map
    expect(draftOverlay(draft)?.base).toBe(base)
    void draft.c.x
    expect([...draftOverlay(draft)!.changedKeys]).toEqual([])
    draft.b.x = 5
    delete (draft as Partial<typeof base>).a
    ;(draft as Record<string, unknown>).d = { x: 4 }
    expect(draftOverlay(draft)?.changedKeys).toEqual(new Set(['b', 'a', 'd']))
    expect(draftOverlay(root)?.changedKeys).toEqual(new Set(['map']))
    const finished = finishDraft(root)
    expect(draftOverlay(draft)).toEqual({ base: finished.map, changedKeys: new Set() })
  })
})
