import { stableJson } from '../util/json.js'
import type { Warehouse } from '../config/schema.js'
import { generateAlias } from '../freight/alias.js'
import type { Freight } from '../freight/types.js'
import type { Services } from '../runtime/services.js'
import type { State, WarehouseState } from '../state/types.js'
import { errorMessage, UsageError } from '../util/errors.js'
import type { Logger } from '../util/logger.js'
import { emptyGitStats, GitCloneCache, type GitDiscoveryStats } from './git/index.js'
import { discoverWarehouse, isDue, type Discoverers, type WarehouseDiscovery } from './warehouse.js'
import { imagesFromEvent, warehousesForEvent } from './webhooks.js'

export { discoverWarehouse, isDue, warehouseSpecHash } from './warehouse.js'
export { warehousesForEvent } from './webhooks.js'

/**
 * Branches Waybill itself writes and discovery must never follow: the state branch, and every
 * literal `targetBranch` of a `git-push` step in a stage's promotion template.
 */
export function reservedBranches(
  model: { stages?: Map<string, unknown> },
  stateBranch: string
): string[] {
  const out = new Set([stateBranch])
  for (const stage of model.stages?.values() ?? []) {
    const steps = (stage as { spec?: { promotionTemplate?: { spec?: { steps?: unknown[] } } } })
      .spec?.promotionTemplate?.spec?.steps
    for (const step of steps ?? []) {
      const s = step as { uses?: string; config?: Record<string, unknown> }
      const b = s.config?.targetBranch
      if (s.uses === 'git-push' && typeof b === 'string' && b && !b.includes('${{')) out.add(b)
    }
  }
  return [...out]
}

/** How often an unchanged discovery is still recorded (lastDiscoveredAt), at most. */
export const DISCOVERY_HEARTBEAT_MS = 60 * 60_000

/** The discovery found what the previous one found, and that one is recent. */
function unchangedSince(prev: WarehouseState, next: WarehouseState, now: Date): boolean {
  if (!prev.lastDiscoveredAt || !prev.discovered || prev.lastError) return false
  if (now.getTime() - Date.parse(prev.lastDiscoveredAt) >= DISCOVERY_HEARTBEAT_MS) return false
  const strip = (w: WarehouseState) =>
    stableJson({
      ...w,
      lastDiscoveredAt: undefined,
      discovered: w.discovered && { ...w.discovered, discoveredAt: undefined }
    })
  return strip(prev) === strip(next)
}

/** A GitHub event that triggered discovery (name as in GITHUB_EVENT_NAME, payload as delivered). */
export interface DiscoveryEvent {
  name: string
  payload: unknown
}

/** The part of the state store discovery needs (src/state/store.ts StateStore). */
export interface DiscoveryStateStore {
  read(): Promise<State>
  update(mutator: (draft: State) => string | undefined): Promise<unknown>
}

export interface RunDiscoveryContext {
  model: { warehouses: Map<string, Warehouse> }
  store: DiscoveryStateStore
  services: Services
  logger: Logger
  now: () => Date
  /** Waybill's own branches (state branch, stage branches), never discovery sources. */
  reservedBranches?: readonly string[]
  /** A clone cache to share with other work in this run; default a fresh one, disposed after. */
  gitCache?: GitCloneCache
  discoverers?: Partial<Discoverers>
  gitStats?: GitDiscoveryStats
}

export interface RunDiscoveryOptions {
  /** Only these warehouses (default: all, or those the event selects). */
  warehouses?: string[]
  /**
   * Discover even when the interval has not passed: every explicit ask (the discover command, a
   * chosen warehouse, an event naming what changed, a refresh nudge). Only the schedule waits.
   */
  force?: boolean
  event?: DiscoveryEvent
}

/** A `repository_dispatch` that names no image: a request to look at every warehouse now. */
export function isRefreshNudge(event: DiscoveryEvent | undefined): boolean {
  return (
    event?.name === 'repository_dispatch' && imagesFromEvent(event.name, event.payload).length === 0
  )
}

export interface WarehouseOutcome {
  warehouse: string
  /** Candidates per subscription, by type. */
  candidates: { commits: number; images: number; charts: number }
  problems: string[]
  freight?: Freight
  /** Freight with the same artifacts already existed. */
  existing?: string
}

export interface DiscoveryRun {
  newFreight: Freight[]
  errors: Array<{ warehouse: string; message: string }>
  outcomes: WarehouseOutcome[]
  /** Warehouses not due (interval not passed, spec unchanged). */
  skipped: string[]
  reason: string
  stats: GitDiscoveryStats
}

/**
 * Discovers the selected warehouses and records every result, and any new freight, in ONE state
 * update (`discovery: brave-otter (guestbook)`). Creation is idempotent: freight whose ID is
 * already in the state is not added again. A failing warehouse is recorded (lastError) and
 * reported; the others proceed.
 */
export async function runDiscovery(
  ctx: RunDiscoveryContext,
  options: RunDiscoveryOptions = {}
): Promise<DiscoveryRun> {
  const { model, logger } = ctx
  const all = [...model.warehouses.keys()].sort()
  let names = all
  let reason = options.force ? 'forced' : 'schedule'
  let force = !!options.force
  if (options.warehouses?.length) {
    const unknown = options.warehouses.filter((w) => !model.warehouses.has(w))
    if (unknown.length)
      throw new UsageError(
        `unknown warehouse${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`,
        all.length ? `warehouses: ${all.join(', ')}` : 'no warehouses are configured'
      )
    names = [...new Set(options.warehouses)].sort()
    reason = 'requested'
    force = true
  }
  if (isRefreshNudge(options.event)) {
    // The documented manual refresh (`event_type: waybill-discover`, no image): every
    // warehouse, now.
    reason = 'repository_dispatch without an image: refresh every warehouse now'
    force = true
  } else if (options.event && !['schedule', 'workflow_dispatch', ''].includes(options.event.name)) {
    const routed = warehousesForEvent(model, options.event.name, options.event.payload)
    reason = routed.reason
    names = names.filter((n) => routed.warehouses.includes(n))
    // The event says something changed: do not wait for the interval.
    force = true
  }
  logger.info(`discovery: ${reason}`)

  const state = await ctx.store.read()
  const now = ctx.now()
  const due = force
    ? names
    : names.filter((n) => isDue(model.warehouses.get(n)!, state.warehouses[n], now))
  const skipped = names.filter((n) => !due.includes(n))
  if (skipped.length) logger.info(`not due yet: ${skipped.join(', ')}`)

  const cache = ctx.gitCache ?? new GitCloneCache({ logger })
  const stats = ctx.gitStats ?? emptyGitStats()
  const taken = new Set(Object.values(state.freight).map((f) => f.alias))
  const results = new Map<string, WarehouseDiscovery>()
  const errors: DiscoveryRun['errors'] = []
  try {
    // Up to 4 warehouses at a time (Kargo's MAX_CONCURRENT_WAREHOUSE_RECONCILES default).
    const queue = [...due]
    const worker = async () => {
      for (let name = queue.shift(); name; name = queue.shift()) {
        const wh = model.warehouses.get(name)!
        try {
          const r = await logger.group(`Warehouse ${name}`, () =>
            discoverWarehouse(wh, state.warehouses[name], {
              services: ctx.services,
              logger,
              gitCache: cache,
              now,
              takenAliases: taken,
              reservedBranches: ctx.reservedBranches,
              gitStats: stats,
              discoverers: ctx.discoverers
            })
          )
          results.set(name, r)
          for (const p of r.problems) logger.info(`${name}: ${p}`)
        } catch (err) {
          const message = errorMessage(err)
          logger.error(message)
          errors.push({ warehouse: name, message })
        }
      }
    }
    await Promise.all(Array.from({ length: Math.min(4, due.length) }, worker))
  } finally {
    if (!ctx.gitCache) await cache.dispose()
  }

  let newFreight: Freight[] = []
  let outcomes: WarehouseOutcome[] = []
  if (due.length) {
    await ctx.store.update((draft) => {
      newFreight = []
      outcomes = []
      const aliases = new Set(Object.values(draft.freight).map((f) => f.alias))
      for (const name of due) {
        const r = results.get(name)
        const prev: WarehouseState = draft.warehouses[name] ?? {}
        if (!r) {
          const e = errors.find((x) => x.warehouse === name)
          draft.warehouses[name] = { ...prev, lastError: e?.message ?? 'discovery failed' }
          continue
        }
        const next: WarehouseState = {
          ...prev,
          lastDiscoveredAt: r.discovered.discoveredAt,
          specHash: r.specHash,
          discovered: r.discovered,
          imageCache: r.imageCache
        }
        delete next.lastError
        const outcome: WarehouseOutcome = {
          warehouse: name,
          candidates: {
            commits: r.discovered.git.reduce((n, g) => n + g.commits.length, 0),
            images: r.discovered.images.reduce((n, i) => n + i.references.length, 0),
            charts: r.discovered.charts.reduce((n, c) => n + c.versions.length, 0)
          },
          problems: r.problems
        }
        const cand = r.candidateFreight
        if (cand) {
          const existing = draft.freight[cand.name]
          if (existing) outcome.existing = existing.name
          else {
            // Re-derive the alias against this draft: another writer may have taken it.
            const f = { ...cand, alias: generateAlias(cand.name, aliases) }
            draft.freight[f.name] = f
            aliases.add(f.alias)
            newFreight.push(f)
            outcome.freight = f
          }
          next.lastFreightID = cand.name
        }
        if (!outcome.freight && unchangedSince(prev, next, now)) {
          // Same candidates as last time: no commit just to move lastDiscoveredAt, so that the
          // state branch's history stays an audit trail (a heartbeat write at most hourly).
          outcomes.push(outcome)
          continue
        }
        draft.warehouses[name] = next
        outcomes.push(outcome)
      }
      const made = newFreight.map((f) => `${f.alias} (${f.origin.name})`)
      const failed = errors.map((e) => e.warehouse)
      return (
        `discovery: ${made.length ? made.join(', ') : `${due.join(', ')} (no new freight)`}` +
        (failed.length ? `; failed: ${failed.join(', ')}` : '')
      )
    })
  }
  for (const f of newFreight)
    logger.notice(`new freight ${f.alias} (${f.name.slice(0, 7)}) from ${f.origin.name}`)
  return { newFreight, errors, outcomes, skipped, reason, stats }
}
