import fs from 'node:fs'
import { z } from 'zod'
import { defineStep } from '../define.js'
import { isIndex } from '../../oci/metadata.js'
import { formatImageReference } from '../../oci/reference.js'
import { ConfigFieldError, WaybillError } from '../../util/errors.js'
import { confinedPath } from '../../util/paths.js'
import { writeFileNoFollow } from '../../util/fs-confined.js'
import { clientFor, REF_WITH_TAG_OR_DIGEST, refString, stepReference } from './common.js'

const STEP = 'oci-download'

const schema = z.strictObject({
  imageRef: refString(
    REF_WITH_TAG_OR_DIGEST,
    'registry/repository:tag or registry/repository@digest'
  ),
  outPath: z.string().min(1),
  allowOverwrite: z.boolean().default(false),
  mediaType: z.string().min(1).optional(),
  insecureSkipTLSVerify: z.boolean().default(false)
})

export type OciDownloadConfig = z.output<typeof schema>

/**
 * Kargo's `oci-download`: pulls one layer of an OCI artifact (the first whose media type is
 * `mediaType`, else the first layer) into `outPath`. An index resolves to its first image with
 * a real platform. Outputs: `digest` (of the manifest read) and `layerDigest`.
 */
export const ociDownload = defineStep({
  name: STEP,
  schema,
  capabilities: ['registry'],
  async run(config, ctx) {
    const ref = stepReference(config.imageRef, `${STEP}.imageRef`)
    const out = confinedPath(ctx.workDir, config.outPath, `${STEP}.outPath`)
    if (fs.existsSync(out) && !config.allowOverwrite)
      throw new ConfigFieldError(
        `${STEP}.outPath`,
        `'${config.outPath}' already exists`,
        'set allowOverwrite: true to replace it'
      )
    const client = clientFor(ctx, ref.registry, config.insecureSkipTLSVerify)
    const reference = ref.digest ?? ref.tag!
    const shown = formatImageReference(ref)
    let fetched = await client.getManifest(ref.repository, reference)
    if (!fetched)
      throw new WaybillError(
        `${STEP}: ${shown} not found on registry ${ref.registry}`,
        'check imageRef (repository and tag or digest)'
      )
    const topDigest = fetched.digest
    if (isIndex(fetched.manifest, fetched.mediaType)) {
      const child = (fetched.manifest.manifests ?? []).find(
        (d) =>
          d.platform?.os && d.platform.os !== 'unknown' && d.platform.architecture !== 'unknown'
      )
      if (!child) throw new WaybillError(`${STEP}: the index ${shown} lists no image`)
      fetched = await client.getManifest(ref.repository, child.digest)
      if (!fetched)
        throw new WaybillError(`${STEP}: ${shown} refers to ${child.digest}, which is missing`)
    }
    const layers = fetched.manifest.layers ?? []
    const layer = config.mediaType
      ? layers.find((l) => l.mediaType === config.mediaType)
      : layers[0]
    if (!layer)
      throw new WaybillError(
        `${STEP}: ${shown} has no layer${config.mediaType ? ` of media type ${config.mediaType}` : ''}`,
        `its layers: ${layers.map((l) => l.mediaType ?? '?').join(', ') || '(none)'}`
      )
    const data = await client.getBlob(ref.repository, layer.digest)
    writeFileNoFollow(out, data, 0o644)
    ctx.logger.info(`${STEP}: ${shown} → ${config.outPath} (${data.length} bytes, ${layer.digest})`)
    return { status: 'Succeeded', outputs: { digest: topDigest, layerDigest: layer.digest } }
  }
})
