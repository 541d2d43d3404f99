import type { Freight } from '../freight/types.js'
import { originKey } from '../freight/types.js'
import { freightCollectionId } from '../freight/id.js'
import type { FreightCollection, State, StageState } from '../state/types.js'
import { emptyStageState } from '../state/types.js'

export const MAX_FREIGHT_HISTORY = 10
export const MAX_VERIFICATIONS = 10

export function stageState(draft: State, stage: string): StageState {
  return (draft.stages[stage] ??= emptyStageState())
}

export function currentCollection(state: State, stage: string): FreightCollection | undefined {
  return state.stages[stage]?.freightHistory[0]
}

/** Freight of the stage's current collection, resolved from the state. */
export function currentFreight(state: State, stage: string): Freight[] {
  const c = currentCollection(state, stage)
  if (!c) return []
  return Object.values(c.items)
    .map((ref) => state.freight[ref.name])
    .filter((f): f is Freight => Boolean(f))
}

/** The collection a promotion deploys: the stage's current items with this freight's origin replaced. */
export function collectionWith(state: State, stage: string, freight: Freight): FreightCollection {
  const items = { ...(currentCollection(state, stage)?.items ?? {}) }
  items[originKey(freight.origin)] = { name: freight.name, origin: freight.origin }
  return {
    id: freightCollectionId(Object.values(items).map((i) => i.name)),
    items,
    verificationHistory: []
  }
}

/**
 * Makes `collection` the stage's current collection: history gets it on top (bounded), freight
 * that leaves the stage records its soak, freight that enters is marked currentlyIn.
 */
export function pushCollection(
  draft: State,
  stage: string,
  collection: FreightCollection,
  now: Date
): void {
  const st = stageState(draft, stage)
  const previous = st.freightHistory[0]
  const entering = new Set(Object.values(collection.items).map((i) => i.name))
  if (previous) {
    for (const ref of Object.values(previous.items)) {
      if (entering.has(ref.name)) continue
      const f = draft.freight[ref.name]
      const since = f?.status.currentlyIn[stage]?.since
      if (!f) continue
      if (since && f.status.verifiedIn[stage]) {
        const soak = now.getTime() - Date.parse(since)
        f.status.verifiedIn[stage].longestSoak = Math.max(
          f.status.verifiedIn[stage].longestSoak ?? 0,
          soak
        )
      }
      delete f.status.currentlyIn[stage]
    }
  }
  markCurrentlyIn(draft, stage, collection, now)
  st.freightHistory.unshift(collection)
  if (st.freightHistory.length > MAX_FREIGHT_HISTORY) st.freightHistory.length = MAX_FREIGHT_HISTORY
}

/** Marks the collection's freight currentlyIn the stage (from now) unless it already is; returns how many. */
export function markCurrentlyIn(
  draft: State,
  stage: string,
  collection: FreightCollection,
  now: Date
): number {
  let marked = 0
  for (const ref of Object.values(collection.items)) {
    const f = draft.freight[ref.name]
    if (f && !f.status.currentlyIn[stage]) {
      f.status.currentlyIn[stage] = { since: now.toISOString() }
      marked++
    }
  }
  return marked
}

/** Marks every freight of the collection verified in the stage. */
export function markCollectionVerified(
  draft: State,
  stage: string,
  collection: FreightCollection,
  now: Date
): string[] {
  const marked: string[] = []
  for (const ref of Object.values(collection.items)) {
    const f = draft.freight[ref.name]
    if (f && !f.status.verifiedIn[stage]) {
      f.status.verifiedIn[stage] = { verifiedAt: now.toISOString() }
      marked.push(f.alias)
    }
  }
  return marked
}
