import { describe, expect, it } from '@jest/globals'
import { availableFreight } from '../../src/pipeline/availability.js'
import type { Stage } from '../../src/config/schema.js'
import { createDraft, deepFreeze, finishDraft } from '../../src/state/draft.js'
import { emptyState, type State } from '../../src/state/types.js'
import { addFreight, makeFreight } from '../support/state-fixtures.js'

const NOW = new Date('2025-06-01T00:00:00Z')
const at = (minutes: number) => new Date(NOW.getTime() - minutes * 60_000).toISOString()

function stage(sources: Record<string, unknown>): Stage {
  return {
    apiVersion: 'kargo.akuity.io/v1alpha1',
    kind: 'Stage',
    metadata: { name: 'x' },
    spec: { requestedFreight: [{ origin: { kind: 'Warehouse', name: 'a' }, sources }] }
  } as unknown as Stage
}
const direct = stage({ direct: true })
const fromTest = stage({ stages: ['test'] })
const origin = { kind: 'Warehouse', name: 'a' } as const

/** Freight of two warehouses, discovered at different times (some at the same time). */
function state(): State {
  const s = emptyState()
  for (let i = 0; i < 8; i++) addFreight(s, makeFreight(i % 2 ? 'a' : 'b', i, at(i % 3)))
  return s
}
const names = (fs: Array<{ name: string }>) => fs.map((f) => f.name)

describe('availableFreight over frozen states and drafts', () => {
  it('gives the same answer for a plain, a frozen and an unchanged draft of a state', () => {
    const plain = state()
    const expected = names(availableFreight(plain, 'x', direct, origin, NOW))
    expect(expected).toHaveLength(4)
    const frozen = deepFreeze(state())
    expect(names(availableFreight(frozen, 'x', direct, origin, NOW))).toEqual(expected)
    const draft = createDraft(frozen)
    const fromDraft = availableFreight(draft, 'x', direct, origin, NOW)
    expect(names(fromDraft)).toEqual(expected)
    // The draft's own records come back: writing through them changes the draft only.
    fromDraft[0].status.verifiedIn.x = { verifiedAt: NOW.toISOString() }
    const next = finishDraft(draft)
    expect(next.freight[expected[0]].status.verifiedIn.x).toBeDefined()
    expect(frozen.freight[expected[0]].status.verifiedIn.x).toBeUndefined()
  })

  it('sees changes a mutator makes to its draft (added, removed and newly verified freight)', () => {
    const frozen = deepFreeze(state())
    const draft = createDraft(frozen)
    expect(availableFreight(draft, 'x', fromTest, origin, NOW)).toEqual([])
    const [first, second] = names(availableFreight(frozen, 'x', direct, origin, NOW))
    draft.freight[second].status.verifiedIn.test = { verifiedAt: NOW.toISOString() }
    expect(names(availableFreight(draft, 'x', fromTest, origin, NOW))).toEqual([second])
    delete draft.freight[first]
    expect(names(availableFreight(draft, 'x', direct, origin, NOW))).not.toContain(first)
    const added = makeFreight('a', 100, at(-5))
    draft.freight[added.name] = added
    expect(names(availableFreight(draft, 'x', direct, origin, NOW))[0]).toBe(added.name)
  })
})
