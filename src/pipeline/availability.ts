import type { Stage } from '../config/schema.js'
import type { Freight, FreightOrigin } from '../freight/types.js'
import { originKey } from '../freight/types.js'
import { unchangedBase } from '../state/draft.js'
import type { State } from '../state/types.js'
import { formatDurationShort, parseDuration } from '../util/duration.js'

/** One `requestedFreight` entry of a stage, with Kargo's defaults applied. */
export interface FreightRequest {
  origin: FreightOrigin
  direct: boolean
  stages: string[]
  requiredSoakTimeMs: number
  availabilityStrategy: 'OneOf' | 'All'
  selectionPolicy: 'NewestFreight' | 'MatchUpstream'
}

export function freightRequests(stage: Stage): FreightRequest[] {
  return stage.spec.requestedFreight.map((r) => ({
    origin: { kind: 'Warehouse', name: r.origin.name },
    direct: Boolean(r.sources.direct),
    stages: r.sources.stages ?? [],
    requiredSoakTimeMs: r.sources.requiredSoakTime ? parseDuration(r.sources.requiredSoakTime) : 0,
    availabilityStrategy: r.sources.availabilityStrategy === 'All' ? 'All' : 'OneOf',
    selectionPolicy:
      r.sources.autoPromotionOptions?.selectionPolicy === 'MatchUpstream'
        ? 'MatchUpstream'
        : 'NewestFreight'
  }))
}

export function requestFor(stage: Stage, origin: FreightOrigin): FreightRequest | undefined {
  return freightRequests(stage).find((r) => originKey(r.origin) === originKey(origin))
}

/** Continuous time (ms) the freight has spent in a stage: its longest past soak or its current stay. */
export function soakTimeMs(freight: Freight, stage: string, now: Date): number {
  const past = freight.status.verifiedIn[stage]?.longestSoak ?? 0
  const since = freight.status.currentlyIn[stage]?.since
  const current = since ? now.getTime() - Date.parse(since) : 0
  return Math.max(past, current)
}

/** Why a freight is or is not available to a stage: the answer and a reason users can read. */
export interface Availability {
  available: boolean
  reason: string
}

/**
 * Kargo's `IsFreightAvailable`: same origin AND (approved for this stage OR direct OR verified
 * (and soaked) in one/all of the upstream stages).
 */
export function freightAvailability(
  stageName: string,
  stage: Stage,
  freight: Freight,
  now: Date
): Availability {
  const req = requestFor(stage, freight.origin)
  if (!req)
    return {
      available: false,
      reason: `stage ${stageName} does not request freight from ${originKey(freight.origin)}`
    }
  if (freight.status.approvedFor[stageName])
    return { available: true, reason: 'approved for this stage' }
  if (req.direct)
    return { available: true, reason: `comes directly from warehouse ${req.origin.name}` }
  const ok: string[] = []
  const missing: string[] = []
  for (const upstream of req.stages) {
    const verified = freight.status.verifiedIn[upstream]
    if (!verified) {
      missing.push(`not verified in ${upstream}`)
      continue
    }
    if (req.requiredSoakTimeMs > 0) {
      const soaked = soakTimeMs(freight, upstream, now)
      if (soaked < req.requiredSoakTimeMs) {
        missing.push(
          `soaked ${formatDurationShort(soaked, 1000)} of ${formatDurationShort(req.requiredSoakTimeMs, 1000)} in ${upstream}`
        )
        continue
      }
    }
    ok.push(upstream)
  }
  const available =
    req.availabilityStrategy === 'All' ? missing.length === 0 && ok.length > 0 : ok.length > 0
  return available
    ? { available, reason: `verified in ${ok.join(', ')}` }
    : { available, reason: missing.join('; ') || 'no upstream stage' }
}

/** Newest first: by discoveredAt, then ID descending (Kargo's ordering). */
export function compareNewestFirst(a: Freight, b: Freight): number {
  const t = Date.parse(b.discoveredAt) - Date.parse(a.discoveredAt)
  if (t !== 0) return t
  return a.name < b.name ? 1 : a.name > b.name ? -1 : 0
}

/** Freight of each origin (by originKey), newest first, as [key in the freight map, freight]. */
type FreightByOrigin = Map<string, Array<[string, Freight]>>

/** Per frozen freight map: its records never change, so neither does their grouping. */
const byOriginCache = new WeakMap<object, FreightByOrigin>()

function groupByOrigin(freight: Record<string, Freight>): FreightByOrigin {
  const groups: FreightByOrigin = new Map()
  for (const [key, f] of Object.entries(freight)) {
    const k = originKey(f.origin)
    const group = groups.get(k)
    if (group) group.push([key, f])
    else groups.set(k, [[key, f]])
  }
  for (const group of groups.values()) group.sort(([, a], [, b]) => compareNewestFirst(a, b))
  return groups
}

/** The grouping of a freight map that is (or is an unchanged draft of) a deep-frozen map. */
function frozenGroups(freight: Record<string, Freight>): FreightByOrigin | undefined {
  const base = unchangedBase(freight)
  if (!base) return undefined
  let groups = byOriginCache.get(base)
  if (!groups) {
    const records = Object.values(base)
    if (!records.every((f) => Object.isFrozen(f) && Object.isFrozen(f.origin))) return undefined
    groups = groupByOrigin(base)
    byOriginCache.set(base, groups)
  }
  return groups
}

/** Every freight of one origin available to the stage, newest first. */
export function availableFreight(
  state: State,
  stageName: string,
  stage: Stage,
  origin: FreightOrigin,
  now: Date
): Freight[] {
  const key = originKey(origin)
  const isAvailable = (f: Freight) => freightAvailability(stageName, stage, f, now).available
  const groups = frozenGroups(state.freight)
  if (groups) {
    // Read through state.freight so that a draft hands out its own (writable) records.
    return (groups.get(key) ?? [])
      .filter(([, f]) => isAvailable(f))
      .map(([name]) => state.freight[name])
  }
  return Object.values(state.freight)
    .filter((f) => originKey(f.origin) === key && isAvailable(f))
    .sort(compareNewestFirst)
}
