import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { stepRegistry } from '../../src/steps/index.js'
import { ociDownload } from '../../src/steps/oci/oci-download.js'
import { ociPush, splitAnnotations } from '../../src/steps/oci/oci-push.js'
import { ConfigFieldError } from '../../src/util/errors.js'
import {
  hasDockerRegistry,
  OCI_CONFIG,
  OCI_INDEX,
  OCI_MANIFEST,
  pushImage,
  pushIndex,
  putManifest,
  sha256,
  skipReason,
  startRegistry,
  uploadBlob,
  type TestRegistry
} from '../support/registry.js'
import { stepContext, testServices } from '../support/step-context.js'

/** oci-download and oci-push against the real docker-registry on loopback. */

const HELM_LAYER = 'application/vnd.cncf.helm.chart.content.v1.tar+gzip'
const PROV_LAYER = 'application/vnd.cncf.helm.chart.provenance.v1.prov'

describe('oci step configs', () => {
  it('are registered under Kargo names', () => {
    expect(stepRegistry.get('oci-download')).toBe(ociDownload)
    expect(stepRegistry.get('oci-push')).toBe(ociPush)
  })
  it('parse strictly with defaults', () => {
    expect(ociDownload.parse({ imageRef: 'oci://ghcr.io/a/b:1.0.0', outPath: 'x.tgz' })).toEqual({
      imageRef: 'oci://ghcr.io/a/b:1.0.0',
      outPath: 'x.tgz',
      allowOverwrite: false,
      insecureSkipTLSVerify: false
    })
    expect(() => ociDownload.parse({ imageRef: 'ghcr.io/a/b', outPath: 'x' })).toThrow(
      /oci-download\.imageRef/
    )
    expect(() => ociDownload.parse({ imageRef: 'a/b:1', outPath: 'x', extra: 1 })).toThrow(
      ConfigFieldError
    )
    expect(() =>
      ociPush.parse({ srcRef: 'a/b:1', destRef: 'a/b@sha256:' + 'a'.repeat(64) })
    ).toThrow(/oci-push\.destRef/)
    expect(() =>
      ociPush.parse({ srcRef: 'a/b:1', destRef: 'a/c:2', annotations: { a: 1 } })
    ).toThrow(/oci-push\.annotations/)
  })
  it('splits annotation prefixes', () => {
    expect(splitAnnotations({ 'index:a': '1', 'manifest:b': '2', c: '3' })).toEqual({
      index: { a: '1' },
      manifest: { b: '2', c: '3' }
    })
  })
})

const d = hasDockerRegistry ? describe : describe.skip
if (!hasDockerRegistry) console.warn(skipReason)

d('oci-download / oci-push on a registry', () => {
  let reg: TestRegistry
  const chart = Buffer.from('pretend this is a chart tarball')
  const prov = Buffer.from('pretend provenance')
  let artifactDigest = ''
  beforeAll(async () => {
    reg = await startRegistry({ mode: 'token', users: { ci: 'ci-password-123' } })
    const cfg = Buffer.from('{"name":"demo","version":"1.0.0"}')
    const manifest = {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: {
        mediaType: 'application/vnd.cncf.helm.config.v1+json',
        digest: await uploadBlob(reg, 'charts/demo', cfg),
        size: cfg.length
      },
      layers: [
        {
          mediaType: PROV_LAYER,
          digest: await uploadBlob(reg, 'charts/demo', prov),
          size: prov.length
        },
        {
          mediaType: HELM_LAYER,
          digest: await uploadBlob(reg, 'charts/demo', chart),
          size: chart.length
        }
      ]
    }
    artifactDigest = await putManifest(reg, 'charts/demo', '1.0.0', manifest, OCI_MANIFEST)
  })
  afterAll(async () => reg?.close())

  const ctx = () =>
    stepContext({
      services: testServices({
        registryCredentials: { [reg.host]: { username: 'ci', password: 'ci-password-123' } }
      })
    })

  it('oci-download writes the layer of the requested media type (or the first)', async () => {
    const c = ctx()
    const cfg = ociDownload.parse({
      imageRef: `oci://${reg.host}/charts/demo:1.0.0`,
      outPath: 'charts/demo.tgz',
      mediaType: HELM_LAYER
    })
    const res = await ociDownload.run(cfg, c)
    expect(res.status).toBe('Succeeded')
    expect(res.outputs).toEqual({ digest: artifactDigest, layerDigest: sha256(chart) })
    expect(fs.readFileSync(path.join(c.workDir, 'charts/demo.tgz'))).toEqual(chart)

    // Exists and allowOverwrite is false.
    await expect(ociDownload.run(cfg, c)).rejects.toThrow(
      /outPath: 'charts\/demo.tgz' already exists/
    )
    // First layer, by digest, overwriting.
    const first = ociDownload.parse({
      imageRef: `${reg.host}/charts/demo@${artifactDigest}`,
      outPath: 'charts/demo.tgz',
      allowOverwrite: true
    })
    await ociDownload.run(first, c)
    expect(fs.readFileSync(path.join(c.workDir, 'charts/demo.tgz'))).toEqual(prov)
  })

  it('oci-download errors name the problem', async () => {
    const c = ctx()
    await expect(
      ociDownload.run(
        ociDownload.parse({ imageRef: `${reg.host}/charts/demo:1.0.0`, outPath: '../escape' }),
        c
      )
    ).rejects.toThrow(/oci-download\.outPath: '\.\.\/escape' leaves/)
    await expect(
      ociDownload.run(
        ociDownload.parse({ imageRef: `${reg.host}/charts/demo:9.9.9`, outPath: 'x' }),
        c
      )
    ).rejects.toThrow(new RegExp(`charts/demo:9\\.9\\.9 not found on registry ${reg.host}`))
    await expect(
      ociDownload.run(
        ociDownload.parse({
          imageRef: `${reg.host}/charts/demo:1.0.0`,
          outPath: 'y',
          mediaType: 'application/x-none'
        }),
        c
      )
    ).rejects.toThrow(/has no layer of media type application\/x-none/)
    const anon = stepContext()
    await expect(
      ociDownload.run(
        ociDownload.parse({ imageRef: `${reg.host}/charts/demo:1.0.0`, outPath: 'z' }),
        anon
      )
    ).rejects.toThrow(new RegExp(`registry ${reg.host} denied access \\(HTTP 401\\)`))
  })

  it('oci-push retags in place and copies to another repository, keeping the digest', async () => {
    const src = await pushImage(reg, 'team/app', '1.0.0', { created: '2024-01-01T00:00:00Z' })
    const c = ctx()
    const retag = await ociPush.run(
      ociPush.parse({
        srcRef: `${reg.host}/team/app:1.0.0`,
        destRef: `${reg.host}/team/app:stable`
      }),
      c
    )
    expect(retag.outputs).toEqual({
      image: `${reg.host}/team/app:stable@${src}`,
      digest: src,
      tag: 'stable'
    })
    const copy = await ociPush.run(
      ociPush.parse({
        srcRef: `${reg.host}/team/app@${src}`,
        destRef: `${reg.host}/prod/app:1.0.0`
      }),
      c
    )
    expect(copy.outputs?.digest).toBe(src)
    const head = await fetch(`${reg.url}/v2/prod/app/manifests/1.0.0`, {
      method: 'HEAD',
      headers: { authorization: reg.adminAuth('prod/app')!, accept: OCI_MANIFEST }
    })
    expect(head.headers.get('docker-content-digest')).toBe(src)
  })

  it('oci-push sets index: and manifest: annotations on an index, fixing attestation references', async () => {
    const { digest: srcDigest } = await pushIndex(
      reg,
      'team/multi',
      '2.0.0',
      [{ architecture: 'amd64' }, { architecture: 'arm64' }],
      { attestation: true }
    )
    const res = await ociPush.run(
      ociPush.parse({
        srcRef: `${reg.host}/team/multi:2.0.0`,
        destRef: `${reg.host}/release/multi:2.0.0`,
        annotations: {
          'index:org.opencontainers.image.title': 'multi',
          'manifest:org.opencontainers.image.version': '2.0.0',
          'org.opencontainers.image.vendor': 'waybill'
        }
      }),
      ctx()
    )
    expect(res.outputs?.digest).not.toBe(srcDigest)
    const auth = reg.adminAuth('release/multi')!
    const get = async (ref: string, accept: string) =>
      (await (
        await fetch(`${reg.url}/v2/release/multi/manifests/${ref}`, {
          headers: { authorization: auth, accept }
        })
      ).json()) as {
        annotations?: Record<string, string>
        manifests?: Array<{
          digest: string
          annotations?: Record<string, string>
          platform: { os: string }
        }>
        config?: { mediaType: string }
      }
    const index = await get('2.0.0', OCI_INDEX)
    expect(index.annotations).toEqual({ 'org.opencontainers.image.title': 'multi' })
    const images = index.manifests!.filter((m) => m.platform.os !== 'unknown')
    const attestation = index.manifests!.find((m) => m.platform.os === 'unknown')!
    expect(images).toHaveLength(2)
    for (const m of images) {
      const child = await get(m.digest, OCI_MANIFEST)
      expect(child.annotations).toEqual({
        'org.opencontainers.image.version': '2.0.0',
        'org.opencontainers.image.vendor': 'waybill'
      })
      expect(child.config?.mediaType).toBe(OCI_CONFIG)
    }
    expect(attestation.annotations?.['vnd.docker.reference.digest']).toBe(images[0].digest)
  })
})
