import { createHash } from 'node:crypto'
import { z } from 'zod'
import { defineStep } from '../define.js'
import type { Descriptor, ManifestDocument, RegistryClient } from '../../oci/client.js'
import { isIndex } from '../../oci/metadata.js'
import { formatImageReference, type ImageReference } from '../../oci/reference.js'
import { WaybillError } from '../../util/errors.js'
import {
  clientFor,
  REF_WITH_TAG,
  REF_WITH_TAG_OR_DIGEST,
  refString,
  stepReference
} from './common.js'

const STEP = 'oci-push'

const schema = z.strictObject({
  srcRef: refString(
    REF_WITH_TAG_OR_DIGEST,
    'registry/repository:tag or registry/repository@digest'
  ),
  destRef: refString(REF_WITH_TAG, 'registry/repository:tag (a tag is required)'),
  annotations: z.record(z.string(), z.string()).optional(),
  insecureSkipTLSVerify: z.boolean().default(false)
})

export type OciPushConfig = z.output<typeof schema>

/** Splits `index:`/`manifest:`-prefixed annotation keys; unprefixed keys go to the image manifest. */
export function splitAnnotations(annotations: Record<string, string> = {}) {
  const index: Record<string, string> = {}
  const manifest: Record<string, string> = {}
  for (const [k, v] of Object.entries(annotations)) {
    if (k.startsWith('index:')) index[k.slice(6)] = v
    else if (k.startsWith('manifest:')) manifest[k.slice(9)] = v
    else manifest[k] = v
  }
  return { index, manifest }
}

interface Copier {
  src: RegistryClient
  dst: RegistryClient
  srcRef: ImageReference
  dstRef: ImageReference
}

async function copyBlobs(c: Copier, m: ManifestDocument): Promise<void> {
  const blobs: Descriptor[] = [...(m.config ? [m.config] : []), ...(m.layers ?? [])]
  for (const b of blobs) {
    if (await c.dst.hasBlob(c.dstRef.repository, b.digest, 'pull,push')) continue
    if (c.src.registry === c.dst.registry) {
      await c.dst.copyBlob(c.srcRef.repository, c.dstRef.repository, b.digest)
    } else {
      const data = await c.src.getBlob(c.srcRef.repository, b.digest)
      await c.dst.pushBlob(c.dstRef.repository, data, b.digest)
    }
  }
}

function withAnnotations(raw: Buffer, m: ManifestDocument, add: Record<string, string>): Buffer {
  if (Object.keys(add).length === 0) return raw
  return Buffer.from(JSON.stringify({ ...m, annotations: { ...(m.annotations ?? {}), ...add } }))
}

/**
 * Kargo's `oci-push`: copies an image or index from `srcRef` to `destRef` (same or another
 * registry, retag in place included). Without annotations the manifest bytes, and so the
 * digest, are preserved. `manifest:` (and unprefixed) annotations are set on image manifests,
 * `index:` ones on an index (ignored for a single image); attestation manifests keep theirs,
 * with their reference to the image they describe updated. Outputs `image` (`registry/repo:tag@digest`)
 * and `digest`.
 */
export const ociPush = defineStep({
  name: STEP,
  schema,
  capabilities: ['registry'],
  async run(config, ctx) {
    const srcRef = stepReference(config.srcRef, `${STEP}.srcRef`)
    const dstRef = stepReference(config.destRef, `${STEP}.destRef`)
    const c: Copier = {
      src: clientFor(ctx, srcRef.registry, config.insecureSkipTLSVerify),
      dst: clientFor(ctx, dstRef.registry, config.insecureSkipTLSVerify),
      srcRef,
      dstRef
    }
    const { index: indexAnn, manifest: manifestAnn } = splitAnnotations(config.annotations)
    const shown = formatImageReference(srcRef)
    const top = await c.src.getManifest(srcRef.repository, srcRef.digest ?? srcRef.tag!)
    if (!top)
      throw new WaybillError(
        `${STEP}: ${shown} not found on registry ${srcRef.registry}`,
        'check srcRef (repository and tag or digest)'
      )
    let digest: string
    if (!isIndex(top.manifest, top.mediaType)) {
      await copyBlobs(c, top.manifest)
      const raw = withAnnotations(top.raw, top.manifest, manifestAnn)
      digest = await c.dst.putManifest(dstRef.repository, dstRef.tag!, raw, top.mediaType)
    } else {
      const renamed = new Map<string, { digest: string; size: number }>()
      const entries = top.manifest.manifests ?? []
      const isAttestation = (d: Descriptor) =>
        d.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest' ||
        d.platform?.os === 'unknown'
      // Images first (their new digests are needed by attestations), then attestations.
      for (const pass of [false, true]) {
        for (const d of entries) {
          if (isAttestation(d) !== pass) continue
          const child = await c.src.getManifest(srcRef.repository, d.digest)
          if (!child)
            throw new WaybillError(`${STEP}: ${shown} refers to ${d.digest}, which is missing`)
          await copyBlobs(c, child.manifest)
          const raw = pass ? child.raw : withAnnotations(child.raw, child.manifest, manifestAnn)
          const newDigest = await c.dst.putManifest(
            dstRef.repository,
            digestOf(raw),
            raw,
            child.mediaType
          )
          renamed.set(d.digest, { digest: newDigest, size: raw.length })
        }
      }
      const changed = [...renamed].some(([from, to]) => from !== to.digest)
      let raw = top.raw
      if (changed || Object.keys(indexAnn).length) {
        const manifests = entries.map((d) => {
          const n = renamed.get(d.digest)!
          const annotations = d.annotations && { ...d.annotations }
          const ref = annotations?.['vnd.docker.reference.digest']
          if (annotations && ref && renamed.has(ref))
            annotations['vnd.docker.reference.digest'] = renamed.get(ref)!.digest
          return { ...d, digest: n.digest, size: n.size, ...(annotations ? { annotations } : {}) }
        })
        const doc = { ...top.manifest, manifests }
        raw = Buffer.from(JSON.stringify(doc))
        raw = withAnnotations(raw, doc, indexAnn)
      }
      digest = await c.dst.putManifest(dstRef.repository, dstRef.tag!, raw, top.mediaType)
    }
    const image = formatImageReference({ ...dstRef, digest })
    ctx.logger.info(`${STEP}: ${shown} → ${formatImageReference(dstRef)} (${digest})`)
    return { status: 'Succeeded', outputs: { image, digest, tag: dstRef.tag } }
  }
})

function digestOf(raw: Buffer): string {
  return 'sha256:' + createHash('sha256').update(raw).digest('hex')
}
