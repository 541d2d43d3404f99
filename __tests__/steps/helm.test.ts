import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import fs from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { parse } from 'yaml'
import { sh, tempDir, writeFiles } from '../support/git.js'
import { stepContext, testFreight, testServices } from '../support/step-context.js'
import { helmTemplate } from '../../src/steps/files/helm-template.js'
import { helmUpdateChart } from '../../src/steps/files/helm-update-chart.js'
import type { StepContext } from '../../src/steps/types.js'
import type { Capability } from '../../src/steps/capabilities.js'

async function template(ctx: StepContext<Capability>, config: unknown) {
  return helmTemplate.run(helmTemplate.parse(config), ctx)
}
async function updateChart(ctx: StepContext<Capability>, config: unknown) {
  return helmUpdateChart.run(helmUpdateChart.parse(config), ctx)
}

/** A context whose working directory holds `helm create demo` at ./chart. */
function chartContext(
  services = testServices()
): StepContext<Capability> & { logger: { lines: string[] } } {
  const ctx = stepContext({ services })
  sh('helm', ['create', 'demo'], ctx.workDir)
  fs.renameSync(path.join(ctx.workDir, 'demo'), path.join(ctx.workDir, 'chart'))
  return ctx
}

function walk(dir: string, rel = ''): string[] {
  const out: string[] = []
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name
    if (e.isDirectory()) out.push(...walk(dir, r))
    else out.push(r)
  }
  return out.sort()
}

describe('helm-template', () => {
  it('renders a real chart into one file with values files, --set and --set-literal', async () => {
    const ctx = chartContext()
    writeFiles(ctx.workDir, {
      'env/dev/values.yaml': 'replicaCount: 3\nimage:\n  tag: v9.9.9\n'
    })
    const res = await template(ctx, {
      path: './chart',
      outPath: './out/dev.yaml',
      releaseName: 'guestbook',
      namespace: 'guestbook-dev',
      valuesFiles: ['./env/dev/values.yaml', './env/dev/optional.yaml'],
      ignoreMissingValueFiles: true,
      setValues: [
        { key: 'service.port', value: '8080' },
        { key: 'podAnnotations.note', value: 'a,b={c}', literal: true }
      ]
    })
    expect(res.status).toBe('Succeeded')
    const docs = fs
      .readFileSync(path.join(ctx.workDir, 'out/dev.yaml'), 'utf8')
      .split(/^---$/m)
      .map((d) => parse(d))
      .filter(Boolean)
    const deploy = docs.find((d) => d.kind === 'Deployment')
    expect(deploy.metadata.name).toBe('guestbook-demo')
    expect(deploy.metadata.namespace ?? 'guestbook-dev').toBe('guestbook-dev')
    expect(deploy.spec.replicas).toBe(3)
    expect(deploy.spec.template.spec.containers[0].image).toBe('nginx:v9.9.9')
    expect(deploy.spec.template.metadata.annotations.note).toBe('a,b={c}')
    const svc = docs.find((d) => d.kind === 'Service')
    expect(svc.spec.ports[0].port).toBe(8080)
    // skipTests defaults to false: the chart's test pod is rendered.
    expect(docs.some((d) => d.kind === 'Pod')).toBe(true)
  })

  it('fails on a missing values file unless ignoreMissingValueFiles', async () => {
    const ctx = chartContext()
    await expect(
      template(ctx, {
        path: 'chart',
        outPath: 'o.yaml',
        releaseName: 'r',
        valuesFiles: ['nope.yaml']
      })
    ).rejects.toThrow(/helm-template\.valuesFiles\[0\]: 'nope.yaml' does not exist/)
  })

  it('writes the helm layout (chart name, or release name) and the flat layout', async () => {
    const ctx = chartContext()
    await template(ctx, { path: 'chart', outPath: 'out', releaseName: 'rel', skipTests: true })
    expect(walk(path.join(ctx.workDir, 'out'))).toEqual([
      'demo/templates/deployment.yaml',
      'demo/templates/service.yaml',
      'demo/templates/serviceaccount.yaml'
    ])
    await template(ctx, {
      path: 'chart',
      outPath: 'byrelease',
      releaseName: 'rel',
      useReleaseName: true,
      disableHooks: true
    })
    expect(walk(path.join(ctx.workDir, 'byrelease'))).toEqual([
      'rel/templates/deployment.yaml',
      'rel/templates/service.yaml',
      'rel/templates/serviceaccount.yaml'
    ])
    await template(ctx, { path: 'chart', outPath: 'flat', outLayout: 'flat', releaseName: 'rel' })
    expect(walk(path.join(ctx.workDir, 'flat'))).toEqual([
      'deployment.yaml',
      'service.yaml',
      'serviceaccount.yaml',
      'test-connection.yaml'
    ])
  })

  it('passes kubeVersion, apiVersions and includeCRDs to helm', async () => {
    const ctx = chartContext()
    writeFiles(ctx.workDir, {
      'chart/templates/caps.yaml': `apiVersion: v1
kind: ConfigMap
metadata:
  name: caps
data:
  kube: {{ .Capabilities.KubeVersion.Version | quote }}
  hasFoo: {{ .Capabilities.APIVersions.Has "foo.example.com/v1" | quote }}
`,
      'chart/crds/crd.yaml': `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: foos.example.com
`
    })
    await template(ctx, {
      path: 'chart',
      outPath: 'a.yaml',
      releaseName: 'r',
      kubeVersion: '1.30.2',
      apiVersions: ['foo.example.com/v1'],
      includeCRDs: true
    })
    const out = fs.readFileSync(path.join(ctx.workDir, 'a.yaml'), 'utf8')
    expect(out).toContain('kube: "v1.30.2"')
    expect(out).toContain('hasFoo: "true"')
    expect(out).toContain('name: foos.example.com')
    await template(ctx, { path: 'chart', outPath: 'b.yaml', releaseName: 'r' })
    const plain = fs.readFileSync(path.join(ctx.workDir, 'b.yaml'), 'utf8')
    expect(plain).not.toContain('foos.example.com')
    expect(plain).toContain('hasFoo: "false"')
  })

  it('keeps helm stderr in the error', async () => {
    const ctx = chartContext()
    writeFiles(ctx.workDir, { 'chart/templates/bad.yaml': '{{ .Values.nope.deeper }}\n' })
    await expect(
      template(ctx, { path: 'chart', outPath: 'o.yaml', releaseName: 'r' })
    ).rejects.toThrow(/nil pointer evaluating interface \{\}\.deeper/)
  })

  it('names the step when helm is missing', async () => {
    const ctx = chartContext(
      testServices({ tools: { helm: 'helm-missing', kustomize: ['kustomize', 'build'] } })
    )
    const err = await template(ctx, { path: 'chart', outPath: 'o.yaml', releaseName: 'r' }).catch(
      (e) => e
    )
    expect(err.message).toMatch(/^helm-template: helm-missing was not found on PATH/)
    expect(err.hint).toMatch(/install Helm/)
  })

  it('refuses paths outside the working directory, naming the field', async () => {
    const ctx = chartContext()
    const base = { path: 'chart', outPath: 'o.yaml', releaseName: 'r' }
    await expect(template(ctx, { ...base, path: '../chart' })).rejects.toThrow(
      /helm-template\.path:/
    )
    await expect(template(ctx, { ...base, outPath: '/tmp/o.yaml' })).rejects.toThrow(
      /helm-template\.outPath: .*absolute/
    )
    await expect(
      template(ctx, { ...base, valuesFiles: ['ok.yaml', '../../etc/passwd'] })
    ).rejects.toThrow(/helm-template\.valuesFiles\[1\]: .*leaves/)
    expect(() => helmTemplate.parse({ path: 'c', outPath: 'o' })).toThrow(/releaseName/)
    expect(() => helmTemplate.parse({ ...base, outLayout: 'tree' })).toThrow(/outLayout/)
  })
})

describe('helm-update-chart', () => {
  let server: http.Server
  let repoURL: string

  beforeAll(async () => {
    // A real chart repository: `helm package` + `helm repo index`, served over HTTP.
    const src = tempDir()
    const repoDir = tempDir()
    sh('helm', ['create', 'redis-lite'], src)
    for (const v of ['1.0.0', '1.1.0', '1.2.0', '2.0.0'])
      sh('helm', ['package', 'redis-lite', '--version', v, '-d', repoDir], src)
    server = http.createServer((req, res) => {
      const file = path.join(repoDir, path.basename(req.url ?? ''))
      if (!fs.existsSync(file)) {
        res.writeHead(404).end()
        return
      }
      res.writeHead(200).end(fs.readFileSync(file))
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    repoURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    sh('helm', ['repo', 'index', repoDir, '--url', repoURL])
  })
  afterAll(() => new Promise<void>((r) => server.close(() => r())))

  function umbrella(version: string): StepContext<Capability> & { logger: { lines: string[] } } {
    const ctx = stepContext()
    writeFiles(ctx.workDir, {
      'charts/app/Chart.yaml': `apiVersion: v2
name: app
version: 0.1.0
# Subcharts of the app
dependencies:
  - name: redis-lite # cache
    repository: ${repoURL}
    version: ${version} # bumped by Kargo
`
    })
    return ctx
  }

  it('sets the given version, keeps comments, runs helm dependency update', async () => {
    const ctx = umbrella('1.0.0')
    const res = await updateChart(ctx, {
      path: 'charts/app',
      charts: [{ repository: repoURL, name: 'redis-lite', version: '1.1.0' }]
    })
    expect(fs.readFileSync(path.join(ctx.workDir, 'charts/app/Chart.yaml'), 'utf8'))
      .toBe(`apiVersion: v2
name: app
version: 0.1.0
# Subcharts of the app
dependencies:
  - name: redis-lite # cache
    repository: ${repoURL}
    version: 1.1.0 # bumped by Kargo
`)
    expect(fs.existsSync(path.join(ctx.workDir, 'charts/app/charts/redis-lite-1.1.0.tgz'))).toBe(
      true
    )
    const lock = parse(fs.readFileSync(path.join(ctx.workDir, 'charts/app/Chart.lock'), 'utf8'))
    expect(lock.dependencies[0].version).toBe('1.1.0')
    expect(res.outputs?.commitMessage).toBe(
      'Updated chart dependencies for charts/app\n\n- redis-lite: 1.0.0 -> 1.1.0'
    )
  })

  it('takes the version from the freight when charts is omitted, within the range', async () => {
    const f = testFreight({ charts: [{ repoURL, name: 'redis-lite', version: '1.2.0' }] })
    const ctx = umbrella('^1.0.0')
    ctx.freight = [f]
    await updateChart(ctx, { path: 'charts/app' })
    expect(fs.readFileSync(path.join(ctx.workDir, 'charts/app/Chart.yaml'), 'utf8')).toContain(
      'version: 1.2.0 # bumped by Kargo'
    )
    expect(fs.existsSync(path.join(ctx.workDir, 'charts/app/charts/redis-lite-1.2.0.tgz'))).toBe(
      true
    )
    const outside = testFreight({ charts: [{ repoURL, name: 'redis-lite', version: '2.0.0' }] })
    const ctx2 = umbrella('^1.0.0')
    ctx2.freight = [outside]
    await expect(updateChart(ctx2, { path: 'charts/app' })).rejects.toThrow(
      /redis-lite 2\.0\.0 is outside the range '\^1\.0\.0'/
    )
  })

  it('resolves ranges without freight charts through helm dependency update', async () => {
    const ctx = umbrella('~1.1.0')
    ctx.freight = [testFreight()]
    const res = await updateChart(ctx, { path: 'charts/app' })
    expect(fs.existsSync(path.join(ctx.workDir, 'charts/app/charts/redis-lite-1.1.0.tgz'))).toBe(
      true
    )
    expect(res.outputs?.commitMessage).toMatch(/redis-lite: \(none\) -> 1\.1\.0/)
  })

  it('names the chart entry that matches no dependency', async () => {
    const ctx = umbrella('1.0.0')
    await expect(
      updateChart(ctx, {
        path: 'charts/app',
        charts: [{ repository: 'https://elsewhere.example', name: 'redis-lite', version: '1.1.0' }]
      })
    ).rejects.toThrow(/helm-update-chart\.charts\[0\]: no dependency 'redis-lite'/)
    expect(() => helmUpdateChart.parse({ path: 'x', charts: [] })).toThrow(/charts/)
    await expect(updateChart(ctx, { path: '../x' })).rejects.toThrow(/helm-update-chart\.path:/)
  })
})
