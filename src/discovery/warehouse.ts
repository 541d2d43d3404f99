import { createHash } from 'node:crypto'
import { stableJson } from '../util/json.js'
import type { ChartSubscription, ImageSubscription, Warehouse } from '../config/schema.js'
import { bestArtifacts, buildFreight } from '../freight/create.js'
import type { Freight } from '../freight/types.js'
import { evaluateExpression, freightFunctions } from '../expressions/index.js'
import { parseDuration } from '../util/duration.js'
import type { Services } from '../runtime/services.js'
import type {
  DiscoveredArtifacts,
  DiscoveredCharts,
  DiscoveredCommits,
  DiscoveredImages,
  ImageMetadataCacheEntry,
  WarehouseState
} from '../state/types.js'
import { errorMessage, WaybillError } from '../util/errors.js'
import type { Logger } from '../util/logger.js'
import { discoverCommits, GitCloneCache, type GitDiscoveryStats } from './git/index.js'
import { truthy } from './git/expression.js'
import { discoverImages } from './image/index.js'
import { discoverCharts } from './chart.js'

/** Image and chart discovery, injectable so tests and benchmarks can count or replace them. */
export interface Discoverers {
  images: (
    sub: ImageSubscription,
    opts: {
      services: Services
      logger: Logger
      cache: Record<string, ImageMetadataCacheEntry>
      subscriptionName?: string
    }
  ) => Promise<DiscoveredImages>
  charts: (
    sub: ChartSubscription,
    opts: { services: Services; logger: Logger; subscriptionName?: string }
  ) => Promise<DiscoveredCharts>
}

export interface DiscoverWarehouseOptions {
  services: Services
  logger: Logger
  gitCache: GitCloneCache
  now: Date
  /** Aliases already used in the project (the new freight's alias avoids them). */
  takenAliases?: ReadonlySet<string>
  /** Branches Waybill writes (state branch, stage branches): never discovery sources. */
  reservedBranches?: readonly string[]
  gitStats?: GitDiscoveryStats
  discoverers?: Partial<Discoverers>
}

export interface WarehouseDiscovery {
  discovered: DiscoveredArtifacts
  imageCache: Record<string, ImageMetadataCacheEntry>
  /** The freight automatic creation would make now (it may already exist: same ID). */
  candidateFreight?: Freight
  /** Why no freight was made (no candidates, criteria not met, Manual policy notes). */
  problems: string[]
  specHash: string
}

/** A stable hash of the warehouse spec: a change forces rediscovery (Kargo's generation). */
export function warehouseSpecHash(warehouse: Warehouse): string {
  return createHash('sha1').update(stableJson(warehouse.spec)).digest('hex')
}

/** Kargo's discovery schedule: never discovered, spec changed, or the interval has passed. */
export function isDue(warehouse: Warehouse, state: WarehouseState | undefined, now: Date): boolean {
  if (!state?.lastDiscoveredAt || !state.discovered) return true
  if (state.specHash !== warehouseSpecHash(warehouse)) return true
  const interval = parseDuration(warehouse.spec.interval ?? '5m0s')
  return Date.parse(state.lastDiscoveredAt) + interval <= now.getTime()
}

function subscriptionLabel(sub: Warehouse['spec']['subscriptions'][number], index: number): string {
  const type = sub.git ? 'git' : sub.image ? 'image' : 'chart'
  const url = sub.git?.repoURL ?? sub.image?.repoURL ?? sub.chart?.repoURL ?? ''
  const name = sub.name ? `'${sub.name}' ` : ''
  return `subscription ${name}(${type} ${url}${sub.chart?.name ? ` ${sub.chart.name}` : ''}, spec.subscriptions[${index}])`
}

/**
 * Runs every subscription of a warehouse and decides on freight, as Kargo's warehouse reconciler
 * does: any subscription erroring fails the whole discovery; a subscription with no candidate
 * means no freight; Automatic builds freight from the best candidate of each subscription (gated by
 * freightCreationCriteria); Manual only records candidates.
 */
export async function discoverWarehouse(
  warehouse: Warehouse,
  state: WarehouseState | undefined,
  opts: DiscoverWarehouseOptions
): Promise<WarehouseDiscovery> {
  const name = warehouse.metadata.name
  const specHash = warehouseSpecHash(warehouse)
  // Results of the last discovery are only reusable under the same spec (Kargo's generation).
  const previous = state?.specHash === specHash ? state.discovered : undefined
  const imageCache: Record<string, ImageMetadataCacheEntry> = { ...(state?.imageCache ?? {}) }
  const images = opts.discoverers?.images ?? discoverImages
  const charts = opts.discoverers?.charts ?? discoverCharts
  const subs = warehouse.spec.subscriptions

  const settled = await Promise.allSettled(
    subs.map(async (sub, index) => {
      const field = `spec.subscriptions[${index}]`
      if (sub.git) {
        const prev = previous?.git.find(
          (g) => g.repoURL === sub.git!.repoURL && (g.subscriptionName ?? '') === (sub.name ?? '')
        )
        return {
          git: await discoverCommits(sub.git, {
            services: opts.services,
            logger: opts.logger,
            cache: opts.gitCache,
            previous: prev,
            stats: opts.gitStats,
            subscriptionName: sub.name,
            reservedBranches: opts.reservedBranches,
            field: `${field}.git`
          })
        }
      }
      if (sub.image)
        return {
          image: await images(sub.image, {
            services: opts.services,
            logger: opts.logger,
            cache: imageCache,
            subscriptionName: sub.name
          })
        }
      if (sub.chart) {
        return {
          chart: await charts(sub.chart, {
            services: opts.services,
            logger: opts.logger,
            subscriptionName: sub.name
          })
        }
      }
      throw new WaybillError(`${field} sets none of git, image or chart`)
    })
  )

  const failures: string[] = []
  const discovered: DiscoveredArtifacts = {
    discoveredAt: opts.now.toISOString(),
    git: [],
    images: [],
    charts: []
  }
  const problems: string[] = []
  settled.forEach((r, i) => {
    if (r.status === 'rejected') {
      failures.push(`${subscriptionLabel(subs[i], i)}: ${errorMessage(r.reason)}`)
      return
    }
    const v = r.value as {
      git?: DiscoveredCommits
      image?: DiscoveredImages
      chart?: DiscoveredCharts
    }
    if (v.git) {
      discovered.git.push(v.git)
      if (!v.git.commits.length)
        problems.push(`no commits discovered for ${subscriptionLabel(subs[i], i)}`)
    } else if (v.image) {
      discovered.images.push(v.image)
      if (!v.image.references.length)
        problems.push(`no image references discovered for ${subscriptionLabel(subs[i], i)}`)
    } else if (v.chart) {
      discovered.charts.push(v.chart)
      if (!v.chart.versions.length)
        problems.push(`no chart versions discovered for ${subscriptionLabel(subs[i], i)}`)
    }
  })
  if (failures.length)
    throw new WaybillError(
      `discovery of warehouse '${name}' failed: ${failures.join('; ')}`,
      failures.length === 1 ? undefined : `${failures.length} subscriptions failed`
    )

  const result: WarehouseDiscovery = { discovered, imageCache, problems, specHash }
  if (problems.length) return result
  if ((warehouse.spec.freightCreationPolicy ?? 'Automatic') === 'Manual') {
    problems.push('freightCreationPolicy is Manual: candidates recorded, no freight created')
    return result
  }
  const artifacts = bestArtifacts(discovered)
  if (!artifacts) return result
  const origin = { kind: 'Warehouse' as const, name }
  const candidate = buildFreight(origin, artifacts, opts.now, opts.takenAliases ?? new Set())
  const expression = warehouse.spec.freightCreationCriteria?.expression?.trim()
  if (expression) {
    const field = `Warehouse '${name}' spec.freightCreationCriteria.expression`
    let ok: boolean
    try {
      const value = evaluateExpression(expression, {
        vars: {},
        functions: freightFunctions([candidate])
      })
      ok = truthy(value, expression, field)
    } catch (err) {
      problems.push(
        `freight creation criteria could not be evaluated (CriteriaEvaluationFailed): ${errorMessage(err)}`
      )
      return result
    }
    if (!ok) {
      problems.push(`freight creation criteria not satisfied: ${expression}`)
      return result
    }
  }
  result.candidateFreight = candidate
  return result
}
