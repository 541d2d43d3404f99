import { describe, expect, it } from '@jest/globals'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { sh, tempDir, writeFiles } from '../support/git.js'
import { stepContext, testFreight, testServices } from '../support/step-context.js'
import { kustomizeSetImage } from '../../src/steps/files/kustomize-set-image.js'
import { kustomizeBuild, quickMeta, splitResources } from '../../src/steps/files/kustomize-build.js'
import { parse } from 'yaml'
import { stepRegistry } from '../../src/steps/index.js'
import type { StepContext } from '../../src/steps/types.js'
import type { Capability } from '../../src/steps/capabilities.js'

const here = path.dirname(fileURLToPath(import.meta.url))
/** A kargo-simple-like repository: base/, env/{test,uat,prod}/ overlays, kargo/ config. */
const FIXTURE = path.resolve(here, '..', 'fixtures', 'kargo', 'simple')

async function setImage(ctx: StepContext<Capability>, config: unknown) {
  return kustomizeSetImage.run(kustomizeSetImage.parse(config), ctx)
}
async function build(ctx: StepContext<Capability>, config: unknown) {
  return kustomizeBuild.run(kustomizeBuild.parse(config), ctx)
}

function ls(dir: string): string[] {
  return fs.readdirSync(dir).sort()
}

describe('kustomize-set-image', () => {
  it('is registered under its Kargo name', () => {
    expect(stepRegistry.get('kustomize-set-image')).toBe(kustomizeSetImage)
    expect(stepRegistry.get('kustomize-build')).toBe(kustomizeBuild)
  })

  it('makes the promote edit: only newTag changes, the rest of the text is kept', async () => {
    const ctx = stepContext()
    fs.cpSync(FIXTURE, path.join(ctx.workDir, 'src'), { recursive: true })
    const original = fs.readFileSync(path.join(FIXTURE, 'env/uat/kustomization.yaml'), 'utf8')
    const res = await setImage(ctx, {
      path: './src/env/uat',
      images: [{ image: 'ghcr.io/acme/storefront', tag: '1.1.0' }]
    })
    expect(res.status).toBe('Succeeded')
    const text = fs.readFileSync(path.join(ctx.workDir, 'src/env/uat/kustomization.yaml'), 'utf8')
    expect(text).toBe(original.replace('newTag: 1.0.0', 'newTag: 1.1.0'))
    expect(text).not.toBe(original)
    expect(res.outputs?.commitMessage).toBe(
      'Updated ./src/env/uat to use new image\n\n- ghcr.io/acme/storefront:1.1.0'
    )
    // What `kustomize edit set image` would have produced renders the same image.
    const out = sh('kustomize', ['build', path.join(ctx.workDir, 'src/env/uat')])
    expect(out).toContain('image: ghcr.io/acme/storefront:1.1.0')
    expect(out).toContain('namespace: storefront-uat')
  })

  it('keeps comments and quoting, keeps newName, replaces a tag by a digest, sorts by name', async () => {
    const ctx = stepContext()
    writeFiles(ctx.workDir, {
      'k/kustomization.yaml': `# Managed by Kargo
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization # the kind
resources:
  - deploy.yaml # the app
images:
  - name: zz/sidecar
    newTag: "1.0" # pinned
  - name: example.com/app
    newName: mirror.example.com/app # mirrored
    newTag: old
`
    })
    await setImage(ctx, {
      path: 'k',
      images: [
        { image: 'example.com/app', digest: 'sha256:' + 'b'.repeat(64) },
        { image: 'ghcr.io/example/app', name: 'aa/new', tag: '2.0.0' }
      ]
    })
    expect(fs.readFileSync(path.join(ctx.workDir, 'k/kustomization.yaml'), 'utf8'))
      .toBe(`# Managed by Kargo
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization # the kind
resources:
  - deploy.yaml # the app
images:
  - name: aa/new
    newTag: 2.0.0
  - name: example.com/app
    newName: mirror.example.com/app # mirrored
    digest: sha256:${'b'.repeat(64)}
  - name: zz/sidecar
    newTag: "1.0" # pinned
`)
  })

  it('sets every image of the freight collection when images is omitted', async () => {
    const a = testFreight()
    const b = testFreight({
      name: 'f'.repeat(40),
      origin: { kind: 'Warehouse', name: 'other' },
      images: [{ repoURL: 'quay.io/x/worker', tag: 'v3', digest: '' }]
    })
    const ctx = stepContext({ targetFreight: a, freight: [a, b] })
    writeFiles(ctx.workDir, {
      'kustomization.yaml': 'resources:\n- a.yaml\n'
    })
    const res = await setImage(ctx, { path: '.' })
    expect(fs.readFileSync(path.join(ctx.workDir, 'kustomization.yaml'), 'utf8')).toBe(
      `resources:
- a.yaml
images:
- name: ghcr.io/example/app
  newTag: 1.2.3
  digest: sha256:${'a'.repeat(64)}
- name: quay.io/x/worker
  newTag: v3
`
    )
    expect(res.outputs?.commitMessage).toBe(
      `Updated . to use new images\n\n- ghcr.io/example/app:1.2.3@sha256:${'a'.repeat(64)}\n- quay.io/x/worker:v3`
    )
  })

  it('finds the tag in the freight when an image gives neither tag nor digest', async () => {
    const ctx = stepContext()
    writeFiles(ctx.workDir, { 'kustomization.yaml': 'images:\n- name: app\n  newTag: old\n' })
    await setImage(ctx, { path: '.', images: [{ image: 'ghcr.io/example/app', name: 'app' }] })
    expect(fs.readFileSync(path.join(ctx.workDir, 'kustomization.yaml'), 'utf8')).toBe(
      'images:\n- name: app\n  newTag: 1.2.3\n'
    )
    await expect(
      setImage(ctx, { path: '.', images: [{ image: 'ghcr.io/nope/app' }] })
    ).rejects.toThrow(
      /kustomize-set-image\.images\[0\]\.image: .*no Freight being promoted has image 'ghcr.io\/nope\/app'/
    )
  })

  it('rejects what Kargo rejects', () => {
    const p = (c: unknown) => () => kustomizeSetImage.parse(c)
    expect(p({})).toThrow(/kustomize-set-image\.path/)
    expect(p({ path: 'x', extra: 1 })).toThrow(/extra/)
    expect(p({ path: 'x', images: [{ image: 'a', tag: 't', digest: 'd' }] })).toThrow(
      /mutually exclusive/
    )
    expect(p({ path: 'x', images: [{ tag: 't' }] })).toThrow(/images\[0\]\.image/)
  })

  it('refuses paths outside the working directory, naming the field', async () => {
    const outside = tempDir()
    writeFiles(outside, { 'kustomization.yaml': 'images: []\n' })
    const ctx = stepContext()
    fs.symlinkSync(outside, path.join(ctx.workDir, 'link'))
    const cfg = (p: string) => ({ path: p, images: [{ image: 'a', tag: 'b' }] })
    await expect(setImage(ctx, cfg('../x'))).rejects.toThrow(/kustomize-set-image\.path: .*leaves/)
    await expect(setImage(ctx, cfg(outside))).rejects.toThrow(
      /kustomize-set-image\.path: .*absolute/
    )
    await expect(setImage(ctx, cfg('link'))).rejects.toThrow(/kustomize-set-image\.path: .*symlink/)
    expect(fs.readFileSync(path.join(outside, 'kustomization.yaml'), 'utf8')).toBe('images: []\n')
  })

  it('says which directory has no Kustomization', async () => {
    const ctx = stepContext()
    fs.mkdirSync(path.join(ctx.workDir, 'empty'))
    await expect(
      setImage(ctx, { path: 'empty', images: [{ image: 'a', tag: 'b' }] })
    ).rejects.toThrow(/kustomize-set-image\.path: no Kustomization file in 'empty'/)
  })
})

/** A kustomization of n Deployments (and a Service each) across two namespaces. */
function manyResources(dir: string, n: number): void {
  const files: Record<string, string> = {}
  const resources: string[] = []
  for (let i = 0; i < n; i++) {
    const ns = i % 2 ? 'team-b' : 'team-a'
    files[`r${i}.yaml`] = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-${i}
  namespace: ${ns}
spec:
  selector: {matchLabels: {app: a${i}}}
  template:
    metadata: {labels: {app: a${i}}}
    spec: {containers: [{name: c, image: ghcr.io/example/app:1.0.0}]}
`
    resources.push(`r${i}.yaml`)
  }
  files['crd.yaml'] = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: Reader
rules: []
`
  resources.push('crd.yaml')
  files['kustomization.yaml'] = `resources:\n${resources.map((r) => `- ${r}`).join('\n')}\n`
  writeFiles(dir, files)
}

describe('kustomize-build', () => {
  it('builds the test overlay in the kargo layout', async () => {
    const ctx = stepContext()
    fs.cpSync(FIXTURE, path.join(ctx.workDir, 'src'), { recursive: true })
    await build(ctx, { path: './src/env/test', outPath: './out' })
    expect(ls(path.join(ctx.workDir, 'out'))).toEqual([
      'namespace-storefront-test.yaml',
      'storefront-test-deployment-storefront.yaml',
      'storefront-test-service-storefront.yaml'
    ])
    const deploy = fs.readFileSync(
      path.join(ctx.workDir, 'out/storefront-test-deployment-storefront.yaml'),
      'utf8'
    )
    expect(deploy).toContain('image: ghcr.io/acme/storefront:1.0.0')
    expect(deploy).toContain('namespace: storefront-test')
    expect(deploy).not.toContain('---')
  })

  it('builds the prod overlay in the kustomize layout exactly as `kustomize -o dir`', async () => {
    const ctx = stepContext()
    fs.cpSync(FIXTURE, path.join(ctx.workDir, 'src'), { recursive: true })
    await build(ctx, { path: './src/env/prod', outPath: './out', outputFormat: 'kustomize' })
    const ref = tempDir()
    sh('kubectl', ['kustomize', path.join(ctx.workDir, 'src/env/prod'), '-o', ref])
    expect(ls(path.join(ctx.workDir, 'out'))).toEqual(ls(ref))
    expect(ls(ref)).toContain('apps_v1_deployment_storefront.yaml')
    for (const f of ls(ref))
      expect(fs.readFileSync(path.join(ctx.workDir, 'out', f), 'utf8')).toBe(
        fs.readFileSync(path.join(ref, f), 'utf8')
      )
    expect(
      fs.readFileSync(path.join(ctx.workDir, 'out', 'apps_v1_deployment_storefront.yaml'), 'utf8')
    ).toContain('replicas: 4')
  })

  it('names files like `kustomize -o dir` when resources span namespaces', async () => {
    const ctx = stepContext()
    manyResources(path.join(ctx.workDir, 'src'), 4)
    await build(ctx, { path: 'src', outPath: 'out', outputFormat: 'kustomize' })
    const ref = tempDir()
    sh('kubectl', ['kustomize', path.join(ctx.workDir, 'src'), '-o', ref])
    expect(ls(path.join(ctx.workDir, 'out'))).toEqual(ls(ref))
    expect(ls(ref)).toContain('team-a_apps_v1_deployment_app-0.yaml')
    await build(ctx, { path: 'src', outPath: 'kargo' })
    expect(ls(path.join(ctx.workDir, 'kargo'))).toEqual([
      'clusterrole-reader.yaml',
      'team-a-deployment-app-0.yaml',
      'team-a-deployment-app-2.yaml',
      'team-b-deployment-app-1.yaml',
      'team-b-deployment-app-3.yaml'
    ])
  })

  it('writes one file when outPath ends in .yaml, identical to kustomize build', async () => {
    const ctx = stepContext()
    manyResources(path.join(ctx.workDir, 'src'), 3)
    await build(ctx, { path: 'src', outPath: 'rendered/all.yaml' })
    expect(fs.readFileSync(path.join(ctx.workDir, 'rendered/all.yaml'), 'utf8')).toBe(
      sh('kustomize', ['build', path.join(ctx.workDir, 'src')]) + '\n'
    )
  })

  it('inflates Helm charts with plugin.helm (--enable-helm, kubeVersion, apiVersions)', async () => {
    const ctx = stepContext()
    fs.mkdirSync(path.join(ctx.workDir, 'src', 'charts'), { recursive: true })
    sh('helm', ['create', path.join(ctx.workDir, 'src', 'charts', 'demo')])
    writeFiles(ctx.workDir, {
      'src/charts/demo/templates/caps.yaml': `apiVersion: v1
kind: ConfigMap
metadata:
  name: caps
data:
  kube: {{ .Capabilities.KubeVersion.Version | quote }}
  hasFoo: {{ .Capabilities.APIVersions.Has "foo.example.com/v1" | quote }}
`,
      'src/kustomization.yaml': `helmCharts:
- name: demo
  releaseName: rel
  namespace: apps
helmGlobals:
  chartHome: charts
`
    })
    await build(ctx, {
      path: 'src',
      outPath: 'out.yaml',
      plugin: { helm: { kubeVersion: '1.29.0', apiVersions: ['foo.example.com/v1'] } }
    })
    const out = fs.readFileSync(path.join(ctx.workDir, 'out.yaml'), 'utf8')
    expect(out).toContain('kind: Deployment')
    expect(out).toContain('kube: v1.29.0')
    expect(out).toContain('hasFoo: "true"')
  })

  it('reads resource names quickly from canonical output, and falls back to YAML when unusual', () => {
    const docs = [
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  labels:\n    name: not-this\n  name: cm\n  namespace: "ns-1"\n',
      "apiVersion: v1\nkind: Secret\nmetadata:\n  name: 'quoted'\ntype: Opaque\n",
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: flow, namespace: x}\n',
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: "esc\\"aped"\n',
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: &a anchored\n',
      'kind: Role\napiVersion: rbac.authorization.k8s.io/v1\nmetadata:\n  name: r # comment\n'
    ]
    expect(quickMeta(docs[0])).toEqual({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'cm', namespace: 'ns-1' }
    })
    expect(quickMeta(docs[2])).toBeUndefined()
    expect(quickMeta(docs[3])).toBeUndefined()
    expect(quickMeta(docs[4])).toBeUndefined()
    expect(quickMeta(docs[5])).toBeUndefined()
    const split = splitResources(docs.join('---\n'))
    expect(split.map((r) => r.resource.metadata)).toEqual(
      docs.map((d) => {
        const m = parse(d).metadata
        return { name: m.name, ...(m.namespace ? { namespace: m.namespace } : {}) }
      })
    )
    expect(split.map((r) => r.text)).toEqual(docs)
  })

  it('passes kustomize errors through with stderr', async () => {
    const ctx = stepContext()
    writeFiles(ctx.workDir, { 'src/kustomization.yaml': 'resources:\n- missing.yaml\n' })
    await expect(build(ctx, { path: 'src', outPath: 'out' })).rejects.toThrow(/missing\.yaml/)
  })

  it('names the step and how to install kustomize when the binary is missing', async () => {
    const ctx = stepContext({
      services: testServices({
        tools: { helm: 'helm', kustomize: ['kustomize-not-here', 'build'] }
      })
    })
    writeFiles(ctx.workDir, { 'src/kustomization.yaml': 'resources: []\n' })
    const err = await build(ctx, { path: 'src', outPath: 'out' }).catch((e) => e)
    expect(err.message).toMatch(/^kustomize-build: kustomize-not-here was not found on PATH/)
    expect(err.hint).toMatch(/install kustomize/)
  })

  it('works through kubectl kustomize too', async () => {
    const ctx = stepContext({
      services: testServices({ tools: { helm: 'helm', kustomize: ['kubectl', 'kustomize'] } })
    })
    manyResources(path.join(ctx.workDir, 'src'), 2)
    await build(ctx, { path: 'src', outPath: 'out' })
    expect(ls(path.join(ctx.workDir, 'out'))).toHaveLength(3)
  })

  it('refuses outPath and path outside the working directory', async () => {
    const ctx = stepContext()
    manyResources(path.join(ctx.workDir, 'src'), 1)
    await expect(build(ctx, { path: 'src', outPath: '../out' })).rejects.toThrow(
      /kustomize-build\.outPath: .*leaves/
    )
    await expect(build(ctx, { path: '/etc', outPath: 'out' })).rejects.toThrow(
      /kustomize-build\.path: .*absolute/
    )
    expect(() => kustomizeBuild.parse({ path: 'a', outPath: 'b', outputFormat: 'json' })).toThrow(
      /outputFormat/
    )
  })
})
