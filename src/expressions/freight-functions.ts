import type { Freight, FreightOrigin } from '../freight/types.js'
import type { State } from '../state/types.js'
import {
  goPathJoin,
  normalizeChartUrl,
  normalizeGitUrl,
  normalizeImageUrl
} from '../freight/urls.js'
import { registerSecret } from '../util/logger.js'
import type { ExprFunction } from './evaluate.js'
import { isPlainObject } from './evaluate.js'
import { HostValue, originValue, typeName } from './values.js'

export interface FreightFunctionOptions {
  /** For freightMetadata / stageMetadata. */
  state?: State
  /** Values for secret(name) (services.secrets). */
  secrets?: Record<string, string>
  /** Called with every secret value handed out, so it is masked in logs (default registerSecret). */
  mask?: (value: string) => void
}

/** Reads an origin argument: warehouse('x'), a {kind, name} map, or a warehouse name string. */
function toOrigin(v: unknown, fn: string): FreightOrigin | undefined {
  if (v === undefined || v === null) return undefined
  if (v instanceof HostValue && v.kind === 'FreightOrigin') {
    return { kind: 'Warehouse', name: String(v.field('Name')) }
  }
  if (isPlainObject(v) && typeof v.name === 'string') {
    if (v.kind !== undefined && v.kind !== 'Warehouse') {
      throw new Error(`${fn}: origin kind must be Warehouse, got ${JSON.stringify(v.kind)}`)
    }
    return { kind: 'Warehouse', name: v.name }
  }
  throw new Error(`${fn}: origin must be warehouse(name), got ${typeName(v)}`)
}

function candidates(collection: Freight[], origin: FreightOrigin | undefined): Freight[] {
  return origin ? collection.filter((f) => f.origin.name === origin.name) : collection
}

/**
 * Picks the one match across the collection. Like Kargo, several pieces of freight that could
 * provide the artifact without an origin to choose between them is an error.
 */
function pickOne<T>(
  matches: Array<{ freight: Freight; item: T }>,
  fn: string,
  what: string
): T | undefined {
  if (matches.length === 0) return undefined
  const origins = new Set(matches.map((m) => m.freight.origin.name))
  if (origins.size > 1) {
    throw new Error(
      `${fn}: freight from several warehouses (${[...origins].sort().join(', ')}) provides ${what}; ` +
        `pass an origin, e.g. ${fn}(…, warehouse('${[...origins].sort()[0]}'))`
    )
  }
  return matches[0].item
}

interface GenericArtifact {
  subscriptionName: string
  artifactType?: string
  version?: string
  metadata?: unknown
}

/** Kargo's `artifacts` (generic subscriptions), when a freight record carries them. */
function genericArtifacts(f: Freight): GenericArtifact[] {
  const list = (f as { artifacts?: unknown }).artifacts
  if (!Array.isArray(list)) return []
  return list.filter(
    (a): a is GenericArtifact => isPlainObject(a) && typeof a.subscriptionName === 'string'
  )
}

function str(v: unknown, fn: string, what: string): string {
  if (typeof v !== 'string' || v === '') {
    throw new Error(`${fn}: ${what} must be a non-empty string, got ${typeName(v)}`)
  }
  return v
}

/**
 * Kargo's freight-aware expression functions over the promotion's FreightCollection, plus
 * secret() and the metadata readers. Each returns nil when the artifact is not in the collection.
 */
export function freightFunctions(
  collection: Freight[],
  opts: FreightFunctionOptions = {}
): Record<string, ExprFunction> {
  const mask = opts.mask ?? registerSecret
  const fns: Record<string, ExprFunction> = {
    warehouse: (name: unknown) => originValue(str(name, 'warehouse', 'name')),

    imageFrom: (repoURL: unknown, origin?: unknown) => {
      const want = normalizeImageUrl(str(repoURL, 'imageFrom', 'repoURL'))
      const o = toOrigin(origin, 'imageFrom')
      const matches = candidates(collection, o).flatMap((freight) =>
        freight.images
          .filter((i) => normalizeImageUrl(i.repoURL) === want)
          .map((item) => ({ freight, item }))
      )
      const img = pickOne(matches, 'imageFrom', `image ${String(repoURL)}`)
      if (!img) return null
      return new HostValue(
        'Image',
        {
          RepoURL: img.repoURL,
          Tag: img.tag,
          Digest: img.digest,
          Annotations: img.annotations ?? {}
        },
        {},
        {
          repoURL: img.repoURL,
          tag: img.tag,
          digest: img.digest,
          ...(img.annotations ? { annotations: img.annotations } : {})
        }
      )
    },

    commitFrom: (repoURL: unknown, origin?: unknown) => {
      const want = normalizeGitUrl(str(repoURL, 'commitFrom', 'repoURL'))
      const o = toOrigin(origin, 'commitFrom')
      const matches = candidates(collection, o).flatMap((freight) =>
        freight.commits
          .filter((c) => normalizeGitUrl(c.repoURL) === want)
          .map((item) => ({ freight, item }))
      )
      const c = pickOne(matches, 'commitFrom', `commits of ${String(repoURL)}`)
      if (!c) return null
      return new HostValue(
        'GitCommit',
        {
          RepoURL: c.repoURL,
          ID: c.id,
          Branch: c.branch ?? '',
          Tag: c.tag ?? '',
          Message: c.message ?? '',
          Author: c.author ?? '',
          Committer: c.committer ?? ''
        },
        {},
        {
          repoURL: c.repoURL,
          id: c.id,
          ...(c.branch ? { branch: c.branch } : {}),
          ...(c.tag ? { tag: c.tag } : {}),
          ...(c.message ? { message: c.message } : {}),
          ...(c.author ? { author: c.author } : {}),
          ...(c.committer ? { committer: c.committer } : {})
        }
      )
    },

    chartFrom: (repoURL: unknown, nameOrOrigin?: unknown, origin?: unknown) => {
      const repo = str(repoURL, 'chartFrom', 'repoURL')
      let name = ''
      let o: FreightOrigin | undefined
      if (typeof nameOrOrigin === 'string') {
        name = nameOrOrigin
        o = toOrigin(origin, 'chartFrom')
      } else {
        o = toOrigin(nameOrOrigin, 'chartFrom')
      }
      const want = goPathJoin(normalizeChartUrl(repo), name)
      const matches = candidates(collection, o).flatMap((freight) =>
        freight.charts
          .filter((c) => goPathJoin(normalizeChartUrl(c.repoURL), c.name ?? '') === want)
          .map((item) => ({ freight, item }))
      )
      const ch = pickOne(matches, 'chartFrom', `chart ${want}`)
      if (!ch) return null
      return new HostValue(
        'Chart',
        { RepoURL: ch.repoURL, Name: ch.name ?? '', Version: ch.version },
        {},
        { repoURL: ch.repoURL, ...(ch.name ? { name: ch.name } : {}), version: ch.version }
      )
    },

    artifactFrom: (subscription: unknown, origin?: unknown) => {
      const sub = str(subscription, 'artifactFrom', 'subscription name')
      const o = toOrigin(origin, 'artifactFrom')
      const matches = candidates(collection, o).flatMap((freight) =>
        genericArtifacts(freight)
          .filter((a) => a.subscriptionName === sub)
          .map((item) => ({ freight, item }))
      )
      const a = pickOne(matches, 'artifactFrom', `artifacts of subscription ${sub}`)
      if (!a) return null
      const metadata = isPlainObject(a.metadata) ? a.metadata : {}
      return new HostValue(
        'ArtifactReference',
        {
          ArtifactType: a.artifactType ?? '',
          SubscriptionName: a.subscriptionName,
          Version: a.version ?? '',
          Metadata: metadata
        },
        {},
        {
          ArtifactType: a.artifactType ?? '',
          SubscriptionName: a.subscriptionName,
          Version: a.version ?? '',
          Metadata: metadata
        }
      )
    },

    // Kargo: nil when the freight does not exist or carries no metadata.
    freightMetadata: (name: unknown, key?: unknown) => {
      const f = opts.state?.freight[str(name, 'freightMetadata', 'freight name')]
      const md = f?.status?.metadata
      if (key === undefined) return md && Object.keys(md).length ? md : null
      const k = str(key, 'freightMetadata', 'key')
      return md && Object.prototype.hasOwnProperty.call(md, k) ? md[k] : null
    },

    // Kargo: the whole status as JSON (empty fields omitted), nil for unknown freight.
    freightStatus: (name: unknown) => {
      const f = opts.state?.freight[str(name, 'freightStatus', 'freight name')]
      if (!f) return null
      const out: Record<string, unknown> = {}
      for (const [k, v] of Object.entries(f.status ?? {}) as Array<[string, unknown]>) {
        if (v && typeof v === 'object' && Object.keys(v).length) out[k] = v
      }
      return out
    },

    stageMetadata: (name: unknown, key?: unknown) => {
      const s = opts.state?.stages[str(name, 'stageMetadata', 'stage name')]
      const md = s?.metadata
      if (key === undefined) return md && Object.keys(md).length ? md : null
      const k = str(key, 'stageMetadata', 'key')
      return md && Object.prototype.hasOwnProperty.call(md, k) ? md[k] : null
    },

    configMap: (name: unknown) => noConfigMaps('configMap', name),
    sharedConfigMap: (name: unknown) => noConfigMaps('sharedConfigMap', name),

    secret: (name: unknown) => {
      const n = str(name, 'secret', 'name')
      const secrets = opts.secrets ?? {}
      if (!Object.prototype.hasOwnProperty.call(secrets, n)) {
        throw new Error(
          `secret '${n}' is not defined (pass it in the 'secrets' input as ${n}=<value>)`
        )
      }
      const value = secrets[n]
      mask(value)
      // A secret holding a JSON object reads like Kargo's secret(name).key.
      if (value.trim().startsWith('{')) {
        try {
          const parsed = JSON.parse(value) as unknown
          if (isPlainObject(parsed)) {
            for (const v of Object.values(parsed)) if (typeof v === 'string') mask(v)
            return parsed
          }
        } catch {
          // not JSON: the string itself
        }
      }
      return value
    }
  }
  // Waybill has one set of secrets (the `secrets` input): shared ones are the same.
  fns.sharedSecret = fns.secret
  return Object.assign(Object.create(null) as Record<string, ExprFunction>, fns)
}

/** Kargo reads ConfigMaps from the cluster; Waybill runs without one. */
function noConfigMaps(fn: string, name: unknown): never {
  throw new Error(
    `${fn}(${JSON.stringify(name)}) reads a Kubernetes ConfigMap, and Waybill runs without a cluster: ` +
      `put the values in the Stage's or promotion template's vars and read them as vars.<name>`
  )
}
