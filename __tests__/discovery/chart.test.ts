import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import type { ChartSubscription } from '../../src/config/schema.js'
import { discoverCharts, type ChartSubscriptionLike } from '../../src/discovery/chart.js'
import { RequestStats } from '../../src/oci/client.js'
import { defaultServices } from '../../src/runtime/services.js'
import { MemoryLogger } from '../../src/util/logger.js'
import {
  hasDockerRegistry,
  skipReason,
  startRegistry,
  type TestRegistry
} from '../support/registry.js'

/**
 * Charts packaged by the real helm: a classic repository built with `helm repo index` served
 * over loopback HTTP, and `helm push` to the real docker-registry for oci://.
 */

export const _fits = (s: ChartSubscription): ChartSubscriptionLike => s

function hasHelm(): boolean {
  try {
    execFileSync('helm', ['version', '--short'], { stdio: 'ignore', env: process.env })
    return true
  } catch {
    return false
  }
}
const helmOk = hasHelm()
if (!helmOk) console.warn('SKIPPED chart tests: helm not found (npm run tools installs it)')

const services = defaultServices({})
const client = { retries: 1, retryBaseMs: 10, timeoutMs: 5000 }
const discover = (sub: ChartSubscriptionLike) =>
  discoverCharts(sub, { services, logger: new MemoryLogger(), stats: new RequestStats(), client })

let tmp = ''
let helmEnv: NodeJS.ProcessEnv = {}
const helm = (...args: string[]) =>
  execFileSync('helm', args, { env: helmEnv, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })

function packageChart(name: string, version: string, dest: string): string {
  const dir = path.join(tmp, 'src', `${name}-${version}`)
  fs.mkdirSync(path.join(dir, 'templates'), { recursive: true })
  fs.writeFileSync(
    path.join(dir, 'Chart.yaml'),
    `apiVersion: v2\nname: ${name}\nversion: ${version}\ntype: application\n`
  )
  fs.writeFileSync(
    path.join(dir, 'templates', 'cm.yaml'),
    'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n'
  )
  fs.mkdirSync(dest, { recursive: true })
  const out = helm('package', dir, '--destination', dest)
  return out.trim().split(': ').pop()!.trim()
}

const d = helmOk ? describe : describe.skip

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'waybill-charts-'))
  helmEnv = {
    ...process.env,
    HELM_CONFIG_HOME: path.join(tmp, 'helm-config'),
    HELM_CACHE_HOME: path.join(tmp, 'helm-cache'),
    HELM_DATA_HOME: path.join(tmp, 'helm-data'),
    HELM_REGISTRY_CONFIG: path.join(tmp, 'helm-config', 'registry.json')
  }
})
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

d('classic HTTP chart repository (helm repo index)', () => {
  let server: http.Server
  let base = ''
  let requests: string[] = []
  beforeAll(async () => {
    const repo = path.join(tmp, 'repo')
    for (const v of ['0.1.0', '0.2.0', '1.0.0-rc.1', '1.0.0', '1.1.0'])
      packageChart('demo', v, repo)
    packageChart('other', '9.9.9', repo)
    server = http.createServer((req, res) => {
      requests.push(req.url ?? '')
      const file = path.join(repo, path.basename(new URL(req.url ?? '/', 'http://x').pathname))
      if (!fs.existsSync(file) || fs.statSync(file).isDirectory()) {
        res.writeHead(404)
        res.end('not found')
        return
      }
      res.writeHead(200)
      res.end(fs.readFileSync(file))
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/charts`
    helm('repo', 'index', repo, '--url', base)
  })
  afterAll(async () => new Promise<void>((r) => server.close(() => r())))

  it('lists versions newest first from index.yaml', async () => {
    requests = []
    const res = await discover({ repoURL: base, name: 'demo' })
    expect(res).toEqual({
      repoURL: base,
      name: 'demo',
      versions: ['1.1.0', '1.0.0', '1.0.0-rc.1', '0.2.0', '0.1.0']
    })
    expect(requests).toEqual(['/charts/index.yaml'])
  })

  it('applies semverConstraint and discoveryLimit', async () => {
    const a = await discover({ repoURL: base + '/', name: 'demo', semverConstraint: '<1.0.0' })
    expect(a.versions).toEqual(['0.2.0', '0.1.0'])
    expect(a.semverConstraint).toBe('<1.0.0')
    const b = await discover({
      repoURL: base,
      name: 'demo',
      semverConstraint: '^1.0.0-0',
      discoveryLimit: 2
    })
    expect(b.versions).toEqual(['1.1.0', '1.0.0'])
  })

  it('names the chart and the repository when something is wrong', async () => {
    await expect(discover({ repoURL: base, name: 'missing' })).rejects.toThrow(
      /chart 'missing' not found in http:\/\/127\.0\.0\.1:\d+\/charts\/index\.yaml/
    )
    await expect(discover({ repoURL: base })).rejects.toThrow(/chart\.name: is required/)
  })

  it('a 404 index explains what repoURL must be', async () => {
    const srv = http.createServer((_req, res) => {
      res.writeHead(404)
      res.end()
    })
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
    const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}/x`
    await expect(discover({ repoURL: url, name: 'demo' })).rejects.toThrow(/not found \(HTTP 404\)/)
    await new Promise<void>((r) => srv.close(() => r()))
  })
})

const o = helmOk && hasDockerRegistry ? describe : describe.skip
if (helmOk && !hasDockerRegistry) console.warn(skipReason)

o('OCI charts (helm push to docker-registry)', () => {
  let reg: TestRegistry
  beforeAll(async () => {
    reg = await startRegistry()
    const out = path.join(tmp, 'oci')
    for (const v of ['0.1.0', '0.3.0', '0.2.0+build.7', '1.0.0'])
      helm('push', packageChart('app', v, out), `oci://${reg.host}/charts`, '--plain-http')
  })
  afterAll(async () => reg?.close())

  it('lists tags as versions, newest first, restoring + from _', async () => {
    const res = await discover({ repoURL: `oci://${reg.host}/charts/app` })
    expect(res).toEqual({
      repoURL: `oci://${reg.host}/charts/app`,
      versions: ['1.0.0', '0.3.0', '0.2.0+build.7', '0.1.0']
    })
    const limited = await discover({
      repoURL: `oci://${reg.host}/charts/app`,
      semverConstraint: '~0.2',
      discoveryLimit: 1
    })
    expect(limited.versions).toEqual(['0.2.0+build.7'])
  })

  it('refuses a name with oci:// and reports a missing chart with the host', async () => {
    await expect(discover({ repoURL: `oci://${reg.host}/charts`, name: 'app' })).rejects.toThrow(
      /chart\.name: must be empty/
    )
    await expect(discover({ repoURL: `oci://${reg.host}/charts/none` })).rejects.toThrow(
      new RegExp(`repository charts/none not found on registry ${reg.host.replace(/\./g, '\\.')}`)
    )
  })
})
