import { isTerminalPhase, type State, type WarehouseState } from './types.js'

export interface GcOptions {
  /** Newest freight kept per warehouse, by discoveredAt (default 20). */
  keepPerWarehouse?: number
  /** Newest finished promotions kept (default 100); running and pending ones are always kept. */
  keepPromotions?: number
  /** Newest audit entries kept (default 1000). */
  keepAudit?: number
  /**
   * The warehouses and stages the config defines. When given, the records of ones removed from
   * the config (warehouse discovery results and caches, stage history, their promotions) are
   * pruned, so they no longer pin freight either. Without them nothing is pruned for that reason.
   */
  liveWarehouses?: ReadonlySet<string>
  liveStages?: ReadonlySet<string>
}

export interface GcPruned {
  freight: string[]
  promotions: string[]
  audit: number
  /** Warehouse and stage records of ones no longer in the config. */
  warehouses: string[]
  stages: string[]
  /** Image metadata cache entries of repositories a warehouse no longer subscribes to. */
  imageCache: Array<{ warehouse: string; key: string }>
}

export interface GcResult {
  state: State
  pruned: GcPruned
}

/** The keys of `cache` that belong to none of the repositories in `repoURLs`. */
function staleCacheKeys(cache: Record<string, unknown>, repoURLs: string[]): string[] {
  return Object.keys(cache)
    .filter((key) => !repoURLs.some((r) => key.startsWith(`${r}@`) || key.startsWith(`${r}:`)))
    .sort()
}

/**
 * Prunes old freight, finished promotions and audit entries, the records of warehouses and stages
 * removed from the config (with `liveWarehouses` / `liveStages`) and image metadata cached for
 * repositories a warehouse's last discovery no longer subscribed to (discovery itself bounds each
 * subscription's part). Never pruned: freight in any stage's
 * freight history (current or rollback targets), freight of an unfinished promotion or of an
 * auto-promotion hold, a warehouse's last freight, and the newest `keepPerWarehouse` freight of
 * each warehouse. Returns a new state (the input is not modified) and what was pruned.
 */
export function collectGarbage(state: State, options: GcOptions = {}): GcResult {
  const keepPerWarehouse = options.keepPerWarehouse ?? 20
  const keepPromotions = options.keepPromotions ?? 100
  const keepAudit = options.keepAudit ?? 1000

  const prunedStages = options.liveStages
    ? Object.keys(state.stages)
        .filter((s) => !options.liveStages!.has(s))
        .sort()
    : []
  const prunedWarehouses = options.liveWarehouses
    ? Object.keys(state.warehouses)
        .filter((w) => !options.liveWarehouses!.has(w))
        .sort()
    : []
  const dropStage = new Set(prunedStages)
  const dropWarehouse = new Set(prunedWarehouses)

  const keep = new Set<string>()
  for (const [name, stage] of Object.entries(state.stages)) {
    if (dropStage.has(name)) continue
    for (const collection of stage.freightHistory)
      for (const ref of Object.values(collection.items)) keep.add(ref.name)
    for (const hold of Object.values(stage.autoPromotionHolds ?? {})) keep.add(hold.freightName)
  }
  for (const p of Object.values(state.promotions)) {
    if (isTerminalPhase(p.phase) || dropStage.has(p.stage)) continue
    keep.add(p.freight)
    for (const ref of Object.values(p.freightCollection?.items ?? {})) keep.add(ref.name)
  }
  for (const [name, w] of Object.entries(state.warehouses))
    if (w.lastFreightID && !dropWarehouse.has(name)) keep.add(w.lastFreightID)

  const byWarehouse = new Map<string, Array<{ name: string; at: string }>>()
  for (const f of Object.values(state.freight)) {
    const list = byWarehouse.get(f.origin.name) ?? []
    list.push({ name: f.name, at: f.discoveredAt })
    byWarehouse.set(f.origin.name, list)
  }
  for (const [warehouse, list] of byWarehouse) {
    if (dropWarehouse.has(warehouse)) continue
    list.sort((a, b) => (a.at === b.at ? (a.name < b.name ? 1 : -1) : a.at < b.at ? 1 : -1))
    for (const f of list.slice(0, keepPerWarehouse)) keep.add(f.name)
  }

  const prunedFreight = Object.keys(state.freight)
    .filter((id) => !keep.has(id))
    .sort()
  const pruneFreight = new Set(prunedFreight)

  // Promotion names sort in creation order (ULID); keep the newest finished ones.
  const finished = Object.values(state.promotions)
    .filter((p) => isTerminalPhase(p.phase))
    .sort((a, b) => (a.name < b.name ? 1 : a.name > b.name ? -1 : 0))
  const referenced = new Set<string>()
  for (const [name, s] of Object.entries(state.stages)) {
    if (dropStage.has(name)) continue
    if (s.currentPromotion) referenced.add(s.currentPromotion)
    if (s.lastPromotion) referenced.add(s.lastPromotion.name)
  }
  const prunePromotions = new Set(
    finished
      .slice(keepPromotions)
      .map((p) => p.name)
      .filter((name) => !referenced.has(name))
  )
  for (const p of Object.values(state.promotions))
    if (dropStage.has(p.stage)) prunePromotions.add(p.name)
  const prunedPromotions = [...prunePromotions].sort()

  const prunedCache: GcPruned['imageCache'] = []
  for (const [warehouse, w] of Object.entries(state.warehouses)) {
    if (dropWarehouse.has(warehouse) || !w.imageCache || !w.discovered) continue
    const repos = w.discovered.images.map((i) => i.repoURL)
    for (const key of staleCacheKeys(w.imageCache, repos)) prunedCache.push({ warehouse, key })
  }

  const auditPruned = Math.max(0, state.audit.length - keepAudit)

  const next: State = {
    ...state,
    warehouses: Object.fromEntries(
      Object.entries(state.warehouses)
        .filter(([name]) => !dropWarehouse.has(name))
        .map(([name, w]) => [name, withoutCacheKeys(w, name, prunedCache)])
    ),
    stages: Object.fromEntries(Object.entries(state.stages).filter(([n]) => !dropStage.has(n))),
    freight: Object.fromEntries(
      Object.entries(state.freight).filter(([id]) => !pruneFreight.has(id))
    ),
    promotions: Object.fromEntries(
      Object.entries(state.promotions).filter(([name]) => !prunePromotions.has(name))
    ),
    audit: state.audit.slice(auditPruned)
  }
  // Responses to approval and input steps live as long as their promotion.
  if (state.responses) {
    const kept = Object.entries(state.responses).filter(([name]) => name in next.promotions)
    if (kept.length !== Object.keys(state.responses).length)
      next.responses = Object.fromEntries(kept)
  }
  return {
    state: next,
    pruned: {
      freight: prunedFreight,
      promotions: prunedPromotions,
      audit: auditPruned,
      warehouses: prunedWarehouses,
      stages: prunedStages,
      imageCache: prunedCache
    }
  }
}

function withoutCacheKeys(
  w: WarehouseState,
  name: string,
  pruned: GcPruned['imageCache']
): WarehouseState {
  const keys = new Set(pruned.filter((p) => p.warehouse === name).map((p) => p.key))
  if (!keys.size || !w.imageCache) return w
  return {
    ...w,
    imageCache: Object.fromEntries(Object.entries(w.imageCache).filter(([k]) => !keys.has(k)))
  }
}

/** Applies collectGarbage inside a store mutator; returns a commit message or undefined. */
export function gcMutation(draft: State, options: GcOptions = {}): string | undefined {
  const { pruned } = collectGarbage(draft, options)
  const extra = [
    [pruned.warehouses.length, 'removed warehouses'],
    [pruned.stages.length, 'removed stages'],
    [pruned.imageCache.length, 'stale image cache entries']
  ] as const
  const n =
    pruned.freight.length +
    pruned.promotions.length +
    pruned.audit +
    extra.reduce((sum, [k]) => sum + k, 0)
  if (n === 0) return undefined
  for (const id of pruned.freight) delete draft.freight[id]
  for (const name of pruned.promotions) delete draft.promotions[name]
  if (pruned.audit) draft.audit.splice(0, pruned.audit)
  for (const name of pruned.warehouses) delete draft.warehouses[name]
  for (const name of pruned.stages) delete draft.stages[name]
  for (const { warehouse, key } of pruned.imageCache)
    delete draft.warehouses[warehouse].imageCache![key]
  const more = extra
    .filter(([k]) => k > 0)
    .map(([k, what]) => `, ${k} ${what}`)
    .join('')
  return `gc: prune ${pruned.freight.length} freight, ${pruned.promotions.length} promotions, ${pruned.audit} audit entries${more}`
}
