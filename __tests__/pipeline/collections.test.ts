import { describe, expect, it } from '@jest/globals'
import {
  collectionWith,
  currentCollection,
  markCurrentlyIn,
  pushCollection
} from '../../src/pipeline/collections.js'
import { soakTimeMs } from '../../src/pipeline/availability.js'
import { emptyFreightStatus, type Freight } from '../../src/freight/types.js'
import { emptyState, type State } from '../../src/state/types.js'

const T0 = Date.parse('2025-01-01T00:00:00Z')
const at = (minutes: number) => new Date(T0 + minutes * 60_000)

function freight(name: string): Freight {
  return {
    name,
    alias: `alias-${name}`,
    origin: { kind: 'Warehouse', name: 'app' },
    discoveredAt: at(0).toISOString(),
    commits: [],
    images: [],
    charts: [],
    status: emptyFreightStatus()
  }
}

function stateWith(...names: string[]): State {
  const s = emptyState()
  for (const n of names) s.freight[n] = freight(n)
  return s
}

describe('freight collections and soak bookkeeping', () => {
  it('freight entering a stage is currentlyIn it; leaving, a verified one keeps its soak', () => {
    const s = stateWith('a', 'b')
    pushCollection(s, 'gate', collectionWith(s, 'gate', s.freight.a), at(0))
    expect(s.freight.a.status.currentlyIn.gate).toEqual({ since: at(0).toISOString() })
    s.freight.a.status.verifiedIn.gate = { verifiedAt: at(0).toISOString() }
    expect(soakTimeMs(s.freight.a, 'gate', at(30))).toBe(30 * 60_000)

    pushCollection(s, 'gate', collectionWith(s, 'gate', s.freight.b), at(45))
    expect(currentCollection(s, 'gate')?.items['Warehouse/app'].name).toBe('b')
    expect(s.freight.a.status.currentlyIn.gate).toBeUndefined()
    expect(s.freight.a.status.verifiedIn.gate.longestSoak).toBe(45 * 60_000)
    expect(soakTimeMs(s.freight.a, 'gate', at(600))).toBe(45 * 60_000)
    expect(s.freight.b.status.currentlyIn.gate).toEqual({ since: at(45).toISOString() })
  })

  it('markCurrentlyIn starts the stay of current freight that has none, once', () => {
    const s = stateWith('a')
    const c = collectionWith(s, 'gate', s.freight.a)
    expect(markCurrentlyIn(s, 'gate', c, at(5))).toBe(1)
    expect(markCurrentlyIn(s, 'gate', c, at(9))).toBe(0)
    expect(s.freight.a.status.currentlyIn.gate).toEqual({ since: at(5).toISOString() })
  })
})
