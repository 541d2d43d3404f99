import { parse as parseYaml } from 'yaml'
import {
  BodyTooLargeError,
  discardBody,
  httpFetch,
  HttpNetworkError,
  readText,
  withRetry,
  type Response
} from '../http/index.js'
import type { Services } from '../runtime/services.js'
import type { DiscoveredCharts } from '../state/types.js'
import { ConfigFieldError, WaybillError } from '../util/errors.js'
import { registerSecret, type Logger } from '../util/logger.js'
import { RegistryClient, RequestStats, type RegistryClientOptions } from '../oci/client.js'
import { parseImageReference } from '../oci/reference.js'
import { refuseUrlCredentials } from '../freight/urls.js'
import { parseConstraint, sortSemverDesc } from './semver.js'

/**
 * Chart discovery (Kargo's chart subscription): classic HTTP(S) repositories through their
 * `index.yaml` (the chart `name` is required), and OCI repositories (`oci://host/path/chart`,
 * name must be empty) whose tags are the chart versions (Helm stores `+` as `_` in tags).
 * Versions are filtered with `semverConstraint` and listed newest first, up to discoveryLimit.
 */

/** Kargo's chart subscription fields (structural; the config layer's parsed type fits). */
export interface ChartSubscriptionLike {
  repoURL: string
  name?: string
  semverConstraint?: string
  discoveryLimit?: number
  insecureSkipTLSVerify?: boolean
}

export interface DiscoverChartsOptions {
  services: Services
  logger: Logger
  stats?: RequestStats
  subscriptionName?: string
  /** Transport tuning (timeouts, retries); tests shorten them. */
  client?: Partial<RegistryClientOptions>
  /** Cap on a classic repository's index.yaml (default MAX_INDEX_BYTES). */
  maxIndexBytes?: number
}

/** Large public repositories publish index files of tens of MiB; beyond this is not an index. */
export const MAX_INDEX_BYTES = 128 * 1024 * 1024

interface IndexFile {
  apiVersion?: string
  entries?: Record<string, Array<{ version?: string }> | null>
}

export async function discoverCharts(
  sub: ChartSubscriptionLike,
  opts: DiscoverChartsOptions
): Promise<DiscoveredCharts> {
  refuseUrlCredentials(sub.repoURL, 'chart.repoURL')
  const oci = sub.repoURL.startsWith('oci://')
  if (!oci && !/^https?:\/\//.test(sub.repoURL))
    throw new ConfigFieldError(
      'chart.repoURL',
      `'${sub.repoURL}' must be an http(s):// chart repository or an oci:// chart`
    )
  if (oci && sub.name)
    throw new ConfigFieldError(
      'chart.name',
      'must be empty for an oci:// repository (the URL names the chart)',
      `use repoURL: ${sub.repoURL.replace(/\/$/, '')}/${sub.name}`
    )
  if (!oci && !sub.name)
    throw new ConfigFieldError('chart.name', 'is required for an http(s) chart repository')
  const constraint = parseConstraint(sub.semverConstraint, 'chart.semverConstraint')
  const limit = sub.discoveryLimit ?? 20

  let versions: string[]
  if (oci) {
    const ref = parseImageReference(sub.repoURL, 'chart.repoURL')
    if (ref.tag || ref.digest)
      throw new ConfigFieldError(
        'chart.repoURL',
        `'${sub.repoURL}' includes a version; repoURL names the chart only`,
        'use semverConstraint to pin versions'
      )
    const client = new RegistryClient(ref.registry, {
      services: opts.services,
      logger: opts.logger,
      stats: opts.stats,
      insecureSkipTLSVerify: sub.insecureSkipTLSVerify,
      ...opts.client
    })
    // Helm writes `+` (build metadata) as `_` in OCI tags.
    versions = (await client.listTags(ref.repository)).map((t) => t.replace(/_/g, '+'))
  } else {
    versions = await classicVersions(sub.repoURL, sub.name!, sub.insecureSkipTLSVerify, opts)
  }
  const sorted = sortSemverDesc([...new Set(versions)], { strict: false, constraint })
  const out: DiscoveredCharts = { repoURL: sub.repoURL, versions: sorted.slice(0, limit) }
  if (sub.name) out.name = sub.name
  if (sub.semverConstraint) out.semverConstraint = sub.semverConstraint
  if (opts.subscriptionName) out.subscriptionName = opts.subscriptionName
  opts.logger.debug(
    `chart ${sub.repoURL}${sub.name ? ` ${sub.name}` : ''}: ${out.versions.length} version(s)`
  )
  return out
}

async function classicVersions(
  repoURL: string,
  name: string,
  insecureSkipTLSVerify: boolean | undefined,
  opts: DiscoverChartsOptions
): Promise<string[]> {
  const url = new URL('index.yaml', repoURL.replace(/\/?$/, '/'))
  const host = url.host
  const headers: Record<string, string> = { accept: 'application/x-yaml, text/yaml, */*' }
  const cred = opts.services.registryCredentials[host]
  if (cred?.username !== undefined) {
    registerSecret(cred.password)
    headers.authorization =
      'Basic ' + Buffer.from(`${cred.username}:${cred.password ?? ''}`).toString('base64')
  } else if (cred?.token) {
    registerSecret(cred.token)
    headers.authorization = `Bearer ${cred.token}`
  }
  let res: Response
  try {
    res = await withRetry(
      () => {
        opts.stats?.add('other')
        return httpFetch(
          url,
          { headers },
          {
            timeoutMs: opts.client?.timeoutMs ?? 60_000,
            insecureSkipTLSVerify: insecureSkipTLSVerify && url.protocol === 'https:'
          }
        )
      },
      {
        retries: opts.client?.retries ?? 3,
        retryBaseMs: opts.client?.retryBaseMs,
        maxRetryAfterMs: opts.client?.maxRetryAfterMs
      }
    )
  } catch (err) {
    if (!(err instanceof HttpNetworkError)) throw err
    throw new WaybillError(
      `cannot reach chart repository ${host} while reading ${url}: ${err.detail}`,
      'check chart.repoURL and the network'
    )
  }
  if (res.status === 401 || res.status === 403) {
    await discardBody(res)
    throw new WaybillError(
      `chart repository ${host} denied access to ${url} (HTTP ${res.status})`,
      cred
        ? `check registry-credentials for ${host}`
        : `add credentials for ${host} to registry-credentials (host=username:password)`
    )
  }
  if (res.status === 404) {
    await discardBody(res)
    throw new WaybillError(
      `chart repository ${url} not found (HTTP 404)`,
      'check chart.repoURL: it must be the repository root that holds index.yaml'
    )
  }
  if (!res.ok) {
    await discardBody(res)
    throw new WaybillError(
      `chart repository ${host} answered HTTP ${res.status} for ${url}`,
      res.status === 429 || res.status >= 500 ? 'retry later' : undefined
    )
  }
  const maxBytes = opts.maxIndexBytes ?? MAX_INDEX_BYTES
  let text: string
  try {
    text = await readText(res, maxBytes)
  } catch (err) {
    if (!(err instanceof BodyTooLargeError)) throw err
    throw new WaybillError(
      `chart repository ${host}: ${url} is larger than ${maxBytes} bytes, Waybill's cap on an index; reading stopped there`,
      'check chart.repoURL, or use an oci:// chart repository, whose versions are listed page by page'
    )
  }
  let index: IndexFile
  try {
    index = parseYaml(text, { maxAliasCount: 1000 }) as IndexFile
  } catch (err) {
    throw new WaybillError(`${url} is not valid YAML: ${(err as Error).message}`)
  }
  if (!index || typeof index !== 'object' || !index.entries)
    throw new WaybillError(`${url} is not a Helm repository index (no entries)`)
  const entries = index.entries[name]
  if (!entries)
    throw new WaybillError(
      `chart '${name}' not found in ${url}`,
      `check chart.name; the repository has: ${Object.keys(index.entries).slice(0, 20).join(', ') || '(no charts)'}`
    )
  return entries.map((e) => e?.version).filter((v): v is string => typeof v === 'string')
}
