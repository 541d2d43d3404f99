// How the loader reports configs written for older Kargo versions, and template leftovers.
import { afterAll, describe, expect, it } from '@jest/globals'
import fs from 'node:fs'
import path from 'node:path'
import { loadProject } from '../../src/config/load.js'
import { formatProblem } from '../../src/config/problems.js'
import { BASE, writeProject } from '../config/support.js'

const dirs: string[] = []
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })))

async function problems(files: Record<string, string>): Promise<string[]> {
  const dir = writeProject(files)
  dirs.push(dir)
  const { problems } = await loadProject(dir, '.waybill')
  return problems.map(formatProblem)
}

const ERAS = path.join(process.cwd(), '__tests__', 'fixtures', 'eras')

describe('era detection', () => {
  it('says a 0.x stage is a 0.x config, at each old field, instead of unrelated schema errors', async () => {
    const out = await problems({
      'base.yaml': BASE,
      'old.yaml': `apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata:
  name: uat
spec:
  subscriptions:
    upstreamStages:
    - name: dev
  promotionMechanisms:
    argoCDAppUpdates:
    - appName: app-uat
`
    })
    const old = out.filter((p) => p.startsWith('.waybill/old.yaml'))
    expect(old).toEqual([
      expect.stringMatching(
        /^\.waybill\/old\.yaml:6:3: error: Stage\/uat: spec\.subscriptions: this is a Kargo 0\.x config \(subscriptions, replaced by requestedFreight\): run `waybill migrate` \(hint: /
      ),
      expect.stringMatching(
        /^\.waybill\/old\.yaml:9:3: error: Stage\/uat: spec\.promotionMechanisms: this is a Kargo 0\.x config \(promotionMechanisms, removed in 1\.0\): run `waybill migrate`/
      )
    ])
    expect(out.join('\n')).not.toMatch(/unknown field|is required/)
  })

  it('keeps problems that are not caused by the old fields', async () => {
    const out = await problems({
      'old.yaml': `apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata:
  name: uat
spec:
  vars: 5
  subscriptions:
    warehouse: app
`
    })
    expect(out.some((p) => p.includes('spec.vars: must be a list'))).toBe(true)
    expect(out.some((p) => p.includes('Kargo 0.x config (subscriptions'))).toBe(true)
  })

  it('says a PromotionPolicy is a 0.x resource', async () => {
    const out = await problems({
      'base.yaml': BASE,
      'policy.yaml': `apiVersion: kargo.akuity.io/v1alpha1
kind: PromotionPolicy
metadata:
  name: dev
stage: dev
enableAutoPromotion: true
`
    })
    expect(out).toContainEqual(
      expect.stringMatching(
        /^\.waybill\/policy\.yaml:2:7: error: PromotionPolicy\/dev: kind: this is a Kargo 0\.x resource \(PromotionPolicy, removed in 1\.0\): run `waybill migrate`/
      )
    )
  })

  it('lists kinds as kinds for an unknown kind', async () => {
    const out = await problems({
      'base.yaml': BASE,
      'x.yaml': 'apiVersion: kargo.akuity.io/v1alpha1\nkind: Pipeline\nmetadata:\n  name: x\n'
    })
    const hint = out.find((p) => p.includes("unknown Kargo kind 'Pipeline'"))
    expect(hint).toContain('accepted kinds: Warehouse, Stage')
    expect(hint).not.toContain('accepted fields')
  })

  it('reports a Go-template leftover where it is, without a raw YAML warning', async () => {
    const warnings: string[] = []
    const onWarning = (w: Error) => warnings.push(w.message)
    process.on('warning', onWarning)
    const out = await problems({
      'base.yaml': BASE,
      'templated.yaml': `apiVersion: kargo.akuity.io/v1alpha1
kind: Warehouse
metadata:
  name: {{vars.appName}}
spec:
  subscriptions:
  - image:
      repoURL: ghcr.io/acme/{{ .Values.image }}
`
    })
    await new Promise((r) => setImmediate(r))
    process.off('warning', onWarning)
    expect(out.filter((p) => p.startsWith('.waybill/templated.yaml'))).toEqual([
      expect.stringMatching(
        /^\.waybill\/templated\.yaml:4:9: error: \{\{vars\.appName\}\} looks like a Go template that was never rendered .*\$\{\{ vars\.appName \}\}/
      )
    ])
    expect(warnings).toEqual([])
  })

  it('flags every era fixture older than the current one, and not the current one', async () => {
    const { problems: pre1 } = await loadProject(path.join(ERAS, '0.x'), 'kargo')
    expect(pre1.some((p) => p.severity === 'error')).toBe(true)
    // Fields deprecated since 1.4 still run (read as their replacement), with a warning.
    const { problems: deprecated } = await loadProject(path.join(ERAS, '1.4'), 'kargo')
    expect(deprecated.filter((p) => p.severity === 'error')).toEqual([])
    expect(deprecated.some((p) => p.severity === 'warning')).toBe(true)
    const { problems: current } = await loadProject(path.join(ERAS, 'current'), 'kargo')
    expect(current).toEqual([])
  })
})
