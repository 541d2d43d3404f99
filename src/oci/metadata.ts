import type { ImageMetadataCacheEntry } from '../state/types.js'
import type { Descriptor, ManifestDocument, RegistryClient } from './client.js'

/**
 * Image metadata from manifests: platforms, annotations and the build time NewestBuild sorts
 * on. Build time precedence (Kargo's): the manifest annotation `org.opencontainers.image.created`,
 * then the config labels `org.opencontainers.image.created` / `org.label-schema.build-date`,
 * then the config's `created`. An index takes the newest of its images.
 */

export const CREATED_ANNOTATION = 'org.opencontainers.image.created'
const LABEL_SCHEMA_BUILD_DATE = 'org.label-schema.build-date'
/** An image config is a few KiB; one that claims more is not read. */
const MAX_CONFIG_BYTES = 4 * 1024 * 1024

interface ImageConfig {
  created?: string
  os?: string
  architecture?: string
  variant?: string
  config?: { Labels?: Record<string, string> | null }
}

export function isIndex(m: ManifestDocument, mediaType?: string): boolean {
  const t = m.mediaType ?? mediaType ?? ''
  return Array.isArray(m.manifests) || t.includes('manifest.list') || t.includes('image.index')
}

function platformOf(p: Descriptor['platform'] | ImageConfig | undefined): string | undefined {
  if (!p?.os || !p.architecture || p.os === 'unknown' || p.architecture === 'unknown')
    return undefined
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`
}

/** `linux/arm64` matches `linux/arm64/v8`; a requested variant must match exactly. */
export function platformMatches(wanted: string, actual: string): boolean {
  const [wo, wa, wv] = wanted.split('/')
  const [ao, aa, av] = actual.split('/')
  return wo === ao && wa === aa && (!wv || wv === av)
}

function validTime(value: string | undefined): string | undefined {
  if (!value) return undefined
  const t = Date.parse(value)
  return Number.isNaN(t) ? undefined : new Date(t).toISOString()
}

function newest(a: string | undefined, b: string | undefined): string | undefined {
  if (!a) return b
  if (!b) return a
  return Date.parse(a) >= Date.parse(b) ? a : b
}

async function readConfig(
  client: RegistryClient,
  repository: string,
  manifest: ManifestDocument
): Promise<ImageConfig | undefined> {
  const cfg = manifest.config
  if (!cfg?.digest || (cfg.size !== undefined && cfg.size > MAX_CONFIG_BYTES)) return undefined
  // Only image configs carry created/labels/platform; artifacts (Helm charts, SBOMs) do not.
  if (cfg.mediaType && !/image\.config|container\.image/.test(cfg.mediaType)) return undefined
  try {
    return JSON.parse(
      (await client.getBlob(repository, cfg.digest, MAX_CONFIG_BYTES)).toString('utf8')
    ) as ImageConfig
  } catch {
    return undefined
  }
}

/** Build time and platform of a single-image manifest. */
async function imageInfo(
  client: RegistryClient,
  repository: string,
  manifest: ManifestDocument
): Promise<{ createdAt?: string; platform?: string; annotations?: Record<string, string> }> {
  const fromAnnotation = validTime(manifest.annotations?.[CREATED_ANNOTATION])
  const config = await readConfig(client, repository, manifest)
  const labels = config?.config?.Labels ?? {}
  const createdAt =
    fromAnnotation ??
    validTime(labels[CREATED_ANNOTATION]) ??
    validTime(labels[LABEL_SCHEMA_BUILD_DATE]) ??
    validTime(config?.created)
  return { createdAt, platform: platformOf(config), annotations: manifest.annotations }
}

/**
 * Fetches complete metadata for a tag or digest: the top-level digest, the platforms it
 * provides, annotations and build time. With `platform`, an index contributes the first
 * matching image (annotations and build time of that image); an image whose platform does not
 * match is returned with its `platforms` so callers can skip it. Undefined when absent.
 * Cost: manifest GET + config blob (single image); index GET + per-image GET and config
 * (all images without `platform`, the selected one with it).
 */
export async function fetchImageMetadata(
  client: RegistryClient,
  repository: string,
  reference: string,
  platform?: string
): Promise<ImageMetadataCacheEntry | undefined> {
  const top = await client.getManifest(repository, reference)
  if (!top) return undefined
  const m = top.manifest
  if (!isIndex(m, top.mediaType)) {
    const info = await imageInfo(client, repository, m)
    return clean({
      digest: top.digest,
      createdAt: info.createdAt,
      annotations: info.annotations,
      platforms: info.platform ? [info.platform] : []
    })
  }
  // Attestations and other entries without a real platform are skipped.
  const entries = (m.manifests ?? []).filter((d) => platformOf(d.platform))
  const platforms = entries.map((d) => platformOf(d.platform)!)
  const chosen = platform
    ? entries.filter((d) => platformMatches(platform, platformOf(d.platform)!)).slice(0, 1)
    : entries
  if (platform && chosen.length === 0) return { digest: top.digest, platforms }
  let createdAt = validTime(m.annotations?.[CREATED_ANNOTATION])
  let annotations = m.annotations
  const infos = await Promise.all(
    chosen.map(async (d) => {
      const child = await client.getManifest(repository, d.digest)
      return child ? imageInfo(client, repository, child.manifest) : undefined
    })
  )
  for (const info of infos) createdAt = newest(createdAt, info?.createdAt)
  if (platform && infos[0]?.annotations)
    annotations = { ...(annotations ?? {}), ...infos[0].annotations }
  return clean({ digest: top.digest, createdAt, annotations, platforms })
}

function clean(e: ImageMetadataCacheEntry): ImageMetadataCacheEntry {
  const out: ImageMetadataCacheEntry = { digest: e.digest }
  if (e.createdAt) out.createdAt = e.createdAt
  if (e.annotations && Object.keys(e.annotations).length) out.annotations = e.annotations
  if (e.platforms) out.platforms = e.platforms
  return out
}
