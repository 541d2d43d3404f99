import type { Services } from '../../runtime/services.js'
import type {
  DiscoveredImageReference,
  DiscoveredImages,
  ImageMetadataCacheEntry
} from '../../state/types.js'
import { ConfigFieldError } from '../../util/errors.js'
import type { Logger } from '../../util/logger.js'
import { filterTags, parseConstraint, sortLexicalDesc, sortSemverDesc } from '../semver.js'
import { RegistryClient, RequestStats, type RegistryClientOptions } from '../../oci/client.js'
import { fetchImageMetadata, platformMatches } from '../../oci/metadata.js'
import { parseImageReference } from '../../oci/reference.js'
import { refuseUrlCredentials } from '../../freight/urls.js'

export {
  RegistryClient,
  RegistryClients,
  RequestStats,
  clearTokenCache,
  MANIFEST_ACCEPT,
  MANIFEST_MEDIA_TYPES
} from '../../oci/client.js'
export type {
  FetchedManifest,
  ManifestDocument,
  Descriptor,
  RegistryClientOptions
} from '../../oci/client.js'
export {
  parseImageReference,
  formatImageReference,
  type ImageReference
} from '../../oci/reference.js'
export { fetchImageMetadata, platformMatches } from '../../oci/metadata.js'

/**
 * Kargo's image subscription fields (structural, so the zod-inferred type from the config layer
 * fits; defaults are applied here too when absent).
 */
export interface ImageSubscriptionLike {
  repoURL: string
  imageSelectionStrategy?: 'SemVer' | 'Lexical' | 'NewestBuild' | 'Digest'
  constraint?: string
  strictSemvers?: boolean
  allowTagsRegexes?: string[]
  ignoreTagsRegexes?: string[]
  platform?: string
  discoveryLimit?: number
  cacheByTag?: boolean
  insecureSkipTLSVerify?: boolean
  /** Deprecated in Kargo; rejected. */
  allowTags?: string
  /** Deprecated in Kargo; rejected. */
  ignoreTags?: string[]
  /** Removed from image subscriptions in Kargo (use constraint); rejected. */
  semverConstraint?: string
}

export interface DiscoverImagesOptions {
  services: Services
  logger: Logger
  /** Metadata cache from the warehouse state; new entries are added to it. */
  cache: Record<string, ImageMetadataCacheEntry>
  stats?: RequestStats
  subscriptionName?: string
  /** Transport tuning (timeouts, retries); tests shorten them. */
  client?: Partial<RegistryClientOptions>
}

/** Kargo's messages for the fields it stopped accepting. */
export function checkDeprecatedImageFields(sub: ImageSubscriptionLike, prefix = 'image.'): void {
  if (sub.allowTags)
    throw new ConfigFieldError(
      `${prefix}allowTags`,
      'allowTags is deprecated and no longer supported since Kargo v1.11: use allowTagsRegexes'
    )
  if (sub.ignoreTags?.length)
    throw new ConfigFieldError(
      `${prefix}ignoreTags`,
      'ignoreTags is deprecated and no longer supported since Kargo v1.11: use ignoreTagsRegexes'
    )
  if (sub.semverConstraint)
    throw new ConfigFieldError(
      `${prefix}semverConstraint`,
      'semverConstraint was removed from image subscriptions in Kargo v1.9: use constraint'
    )
}

/**
 * Discovers image references for one subscription, best first, up to discoveryLimit.
 *
 * Cost model (what the cache buys):
 * - SemVer/Lexical without platform: tag pages + one HEAD per candidate (digest only);
 *   with cacheByTag and a known tag: tag pages only.
 * - With platform or NewestBuild, complete metadata (platforms, annotations, build time) is
 *   fetched once per digest (`<repoURL>@<digest>[#platform]`) or per tag with cacheByTag
 *   (`<repoURL>:<tag>[#platform]`); later runs pay one HEAD per tag to learn the digest
 *   (none with cacheByTag) and fetch metadata only for new digests.
 * - Digest: one HEAD of the mutable tag (+ metadata for a new digest when platform is set).
 */
export async function discoverImages(
  sub: ImageSubscriptionLike,
  opts: DiscoverImagesOptions
): Promise<DiscoveredImages> {
  checkDeprecatedImageFields(sub)
  refuseUrlCredentials(sub.repoURL, 'image.repoURL')
  const ref = parseImageReference(sub.repoURL, 'image.repoURL')
  if (ref.tag || ref.digest)
    throw new ConfigFieldError(
      'image.repoURL',
      `'${sub.repoURL}' includes a tag or digest; repoURL names the repository only`,
      'move the tag to constraint (Digest strategy) or a regex filter'
    )
  const strategy = sub.imageSelectionStrategy ?? 'SemVer'
  const limit = sub.discoveryLimit ?? 20
  const platform = sub.platform || undefined
  const repoURL = sub.repoURL
  const client = new RegistryClient(ref.registry, {
    services: opts.services,
    logger: opts.logger,
    stats: opts.stats,
    insecureSkipTLSVerify: sub.insecureSkipTLSVerify,
    ...opts.client
  })
  const repo = ref.repository
  const cache = opts.cache
  const suffix = platform ? `#${platform}` : ''
  const cacheByTag = !!sub.cacheByTag && strategy !== 'Digest'
  const tagKey = (tag: string) => `${repoURL}:${tag}${suffix}`
  const digestKey = (digest: string) => `${repoURL}@${digest}${suffix}`
  /**
   * Complete entries know their platforms; digest-only ones (from HEAD) do not. An entry that
   * becomes a reference also needs its annotations (NewestBuild fetches those after sorting).
   */
  const complete = (e: ImageMetadataCacheEntry | undefined, forReference: boolean) =>
    !!e && e.platforms !== undefined && !(forReference && e.annotationsOmitted)
  const needFull = strategy === 'NewestBuild' || !!platform
  /** Whether metadata of this repository was fetched before (then HEAD first pays off). */
  const seenRepo = Object.keys(cache).some((k) => k.startsWith(repoURL + '@'))
  /** Cache keys this discovery read or wrote: what the next one needs; the rest is pruned. */
  const used = new Set<string>()
  const cached = (key: string) => {
    const e = cache[key]
    if (e) used.add(key)
    return e
  }
  const store = (key: string, e: ImageMetadataCacheEntry) => {
    cache[key] = e
    used.add(key)
  }

  /** Metadata for one tag, as cheaply as the cache allows; undefined when the tag is gone. */
  async function resolve(
    tag: string,
    forReference = true
  ): Promise<ImageMetadataCacheEntry | undefined> {
    if (cacheByTag) {
      const hit = cached(tagKey(tag))
      if (hit && (!needFull || complete(hit, forReference))) {
        cached(digestKey(hit.digest))
        return hit
      }
    }
    let entry: ImageMetadataCacheEntry | undefined
    if (needFull && !seenRepo) {
      // First discovery of this repository: one GET gives digest and metadata.
      entry = await fetchImageMetadata(client, repo, tag, platform)
      if (!entry) return undefined
      store(digestKey(entry.digest), entry)
    } else {
      const head = await client.headManifest(repo, tag)
      if (!head) return undefined
      entry = cached(digestKey(head.digest))
      if (needFull && !complete(entry, forReference)) {
        entry = await fetchImageMetadata(client, repo, head.digest, platform)
        if (!entry) return undefined
        store(digestKey(entry.digest), entry)
      }
      // Digest only (SemVer/Lexical without platform); kept in the state only under the tag key.
      entry ??= { digest: head.digest }
    }
    if (cacheByTag) store(tagKey(tag), entry)
    return entry
  }

  /** The complete metadata of a selected image whose annotations the cache did not keep. */
  async function withAnnotations(
    tag: string,
    e: ImageMetadataCacheEntry
  ): Promise<ImageMetadataCacheEntry> {
    if (!e.annotationsOmitted) return e
    const full = await fetchImageMetadata(client, repo, e.digest, platform)
    if (!full) return e
    store(digestKey(full.digest), full)
    if (cacheByTag) store(tagKey(tag), full)
    return full
  }

  const toRef = (tag: string, e: ImageMetadataCacheEntry): DiscoveredImageReference => {
    const r: DiscoveredImageReference = { tag, digest: e.digest }
    if (e.annotations) r.annotations = e.annotations
    if (e.createdAt) r.createdAt = e.createdAt
    return r
  }
  const fits = (e: ImageMetadataCacheEntry) =>
    !platform || (e.platforms ?? []).some((p) => platformMatches(platform, p))

  let references: DiscoveredImageReference[] = []
  if (strategy === 'Digest') {
    const tag = sub.constraint?.trim()
    if (!tag)
      throw new ConfigFieldError(
        'image.constraint',
        'the Digest strategy requires constraint: the name of the mutable tag to follow (e.g. latest)'
      )
    const e = await resolve(tag)
    if (e && fits(e)) references = [toRef(tag, e)]
  } else {
    const all = await client.listTags(repo)
    opts.logger.info(`image ${repoURL}: ${all.length} tag(s) listed`)
    const filtered = filterTags(all, sub, 'image.')
    if (strategy === 'NewestBuild') {
      const metas = await Promise.all(
        filtered.map(async (t) => ({ tag: t, e: await resolve(t, false) }))
      )
      const best = metas
        .filter((m): m is { tag: string; e: ImageMetadataCacheEntry } => !!m.e && fits(m.e))
        .sort((a, b) => {
          const ta = a.e.createdAt ? Date.parse(a.e.createdAt) : -Infinity
          const tb = b.e.createdAt ? Date.parse(b.e.createdAt) : -Infinity
          return tb - ta || (a.tag < b.tag ? 1 : a.tag > b.tag ? -1 : 0)
        })
        .slice(0, limit)
      references = await Promise.all(
        best.map(async (m) => toRef(m.tag, await withAnnotations(m.tag, m.e)))
      )
    } else {
      const ordered =
        strategy === 'Lexical'
          ? sortLexicalDesc(filtered)
          : sortSemverDesc(filtered, {
              strict: sub.strictSemvers ?? true,
              constraint: parseConstraint(sub.constraint, 'image.constraint')
            })
      // Resolve in batches of what is still missing; platform misses and vanished tags are skipped.
      let next = 0
      while (references.length < limit && next < ordered.length) {
        const batch = ordered.slice(next, next + (limit - references.length))
        next += batch.length
        const metas = await Promise.all(batch.map((t) => resolve(t)))
        batch.forEach((t, i) => {
          const e = metas[i]
          if (e && fits(e)) references.push(toRef(t, e))
        })
      }
    }
  }
  pruneImageCache(cache, repoURL, used, new Set(references.map((r) => r.digest)))
  opts.logger.info(
    `image ${repoURL}: ${references.length} reference(s) with ${strategy}` +
      (opts.stats ? ` (${opts.stats.total} registry requests so far)` : '')
  )
  const out: DiscoveredImages = { repoURL, references }
  if (platform) out.platform = platform
  if (opts.subscriptionName) out.subscriptionName = opts.subscriptionName
  return out
}

/**
 * Bounds a subscription's part of the metadata cache to what its next discovery needs (it lives
 * in state.json, which has a size limit): entries of `repoURL` this discovery did not use (tags no
 * longer listed or filtered out, digests tags moved away from, another platform) are dropped, and
 * annotations are kept only for the selected `digests` (they can be kilobytes per image and only
 * references carry them into freight). A warehouse lists each repository once, so the entries of
 * one repository belong to one subscription.
 */
export function pruneImageCache(
  cache: Record<string, ImageMetadataCacheEntry>,
  repoURL: string,
  used: ReadonlySet<string>,
  digests: ReadonlySet<string>
): void {
  for (const key of Object.keys(cache)) {
    if (!key.startsWith(`${repoURL}@`) && !key.startsWith(`${repoURL}:`)) continue
    if (!used.has(key)) {
      delete cache[key]
      continue
    }
    const e = cache[key]
    if (e.annotations && !digests.has(e.digest)) {
      const { annotations: _dropped, ...rest } = e
      cache[key] = { ...rest, annotationsOmitted: true }
    }
  }
}
