import type { PromotionPhase, State } from './types.js'

export interface GcOptions {
  /** Newest freight kept per warehouse, by discoveredAt (default 20). */
  keepPerWarehouse?: number
  /** Newest finished promotions kept (default 100); running and pending ones are always kept. */
  keepPromotions?: number
  /** Newest audit entries kept (default 1000). */
  keepAudit?: number
}

export interface GcResult {
  state: State
  pruned: { freight: string[]; promotions: string[]; audit: number }
}

export const TERMINAL_PHASES: ReadonlySet<PromotionPhase> = new Set([
  'Succeeded',
  'Failed',
  'Errored',
  'Aborted'
])

/**
 * Prunes old freight, finished promotions and audit entries. Never pruned: freight in any stage's
 * freight history (current or rollback targets), freight of an unfinished promotion or of an
 * auto-promotion hold, a warehouse's last freight, and the newest `keepPerWarehouse` freight of
 * each warehouse. Returns a new state (the input is not modified) and what was pruned.
 */
export function collectGarbage(state: State, options: GcOptions = {}): GcResult {
  const keepPerWarehouse = options.keepPerWarehouse ?? 20
  const keepPromotions = options.keepPromotions ?? 100
  const keepAudit = options.keepAudit ?? 1000

  const keep = new Set<string>()
  for (const stage of Object.values(state.stages)) {
    for (const collection of stage.freightHistory)
      for (const ref of Object.values(collection.items)) keep.add(ref.name)
    for (const hold of Object.values(stage.autoPromotionHolds ?? {})) keep.add(hold.freightName)
  }
  for (const p of Object.values(state.promotions)) {
    if (TERMINAL_PHASES.has(p.phase)) continue
    keep.add(p.freight)
    for (const ref of Object.values(p.freightCollection?.items ?? {})) keep.add(ref.name)
  }
  for (const w of Object.values(state.warehouses)) if (w.lastFreightID) keep.add(w.lastFreightID)

  const byWarehouse = new Map<string, Array<{ name: string; at: string }>>()
  for (const f of Object.values(state.freight)) {
    const list = byWarehouse.get(f.origin.name) ?? []
    list.push({ name: f.name, at: f.discoveredAt })
    byWarehouse.set(f.origin.name, list)
  }
  for (const list of byWarehouse.values()) {
    list.sort((a, b) => (a.at === b.at ? (a.name < b.name ? 1 : -1) : a.at < b.at ? 1 : -1))
    for (const f of list.slice(0, keepPerWarehouse)) keep.add(f.name)
  }

  const prunedFreight = Object.keys(state.freight)
    .filter((id) => !keep.has(id))
    .sort()
  const pruneFreight = new Set(prunedFreight)

  // Promotion names sort in creation order (ULID); keep the newest finished ones.
  const finished = Object.values(state.promotions)
    .filter((p) => TERMINAL_PHASES.has(p.phase))
    .sort((a, b) => (a.name < b.name ? 1 : a.name > b.name ? -1 : 0))
  const referenced = new Set<string>()
  for (const s of Object.values(state.stages)) {
    if (s.currentPromotion) referenced.add(s.currentPromotion)
    if (s.lastPromotion) referenced.add(s.lastPromotion.name)
  }
  const prunedPromotions = finished
    .slice(keepPromotions)
    .map((p) => p.name)
    .filter((name) => !referenced.has(name))
    .sort()
  const prunePromotions = new Set(prunedPromotions)

  const auditPruned = Math.max(0, state.audit.length - keepAudit)

  const next: State = {
    ...state,
    freight: Object.fromEntries(
      Object.entries(state.freight).filter(([id]) => !pruneFreight.has(id))
    ),
    promotions: Object.fromEntries(
      Object.entries(state.promotions).filter(([name]) => !prunePromotions.has(name))
    ),
    audit: state.audit.slice(auditPruned)
  }
  return {
    state: next,
    pruned: { freight: prunedFreight, promotions: prunedPromotions, audit: auditPruned }
  }
}

/** Applies collectGarbage inside a store mutator; returns a commit message or undefined. */
export function gcMutation(draft: State, options: GcOptions = {}): string | undefined {
  const { pruned } = collectGarbage(draft, options)
  const n = pruned.freight.length + pruned.promotions.length + pruned.audit
  if (n === 0) return undefined
  for (const id of pruned.freight) delete draft.freight[id]
  for (const name of pruned.promotions) delete draft.promotions[name]
  if (pruned.audit) draft.audit.splice(0, pruned.audit)
  return `gc: prune ${pruned.freight.length} freight, ${pruned.promotions.length} promotions, ${pruned.audit} audit entries`
}
