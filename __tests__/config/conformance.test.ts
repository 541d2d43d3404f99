// Kargo-shaped projects (our own fixtures in __tests__/fixtures/kargo/, written after the layouts
// of Kargo's example repositories) load into Waybill, and their documents validate against the
// generated JSON Schema.
import { describe, expect, it } from '@jest/globals'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseAllDocuments } from 'yaml'
import { Ajv } from 'ajv'
import ajvFormats from 'ajv-formats'
import { loadProject, formatProblem, stageOrder } from '../../src/config/index.js'
import { buildJsonSchema } from '../../src/config/json-schema.js'

const examples = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  'fixtures',
  'kargo'
)
const projects = fs
  .readdirSync(examples)
  .filter((d) => fs.existsSync(path.join(examples, d, 'kargo')))

/**
 * The advanced project still sets the image field `allowTags`, which Kargo v1.11 rejects at
 * discovery. Waybill reads it as allowTagsRegexes with a warning, so every project loads cleanly.
 */
const KNOWN_ERRORS: Record<string, string[]> = {}

describe('Kargo-shaped projects', () => {
  it('finds the example projects', () => {
    expect(projects).toEqual(expect.arrayContaining(['simple', 'helm', 'advanced']))
  })

  it.each(projects)('%s loads with no errors beyond the known ones', async (name) => {
    const { model, problems } = await loadProject(path.join(examples, name), 'kargo')
    const errors = problems
      .filter((p) => p.severity === 'error')
      .map((p) => formatProblem(p).replace(/ \(hint: .*\)$/, ''))
    expect(errors).toEqual(KNOWN_ERRORS[name] ?? [])
    expect(model.stages.size).toBeGreaterThan(0)
    // every Kargo document in the folder made it into the model (except known-invalid ones)
    let kargoDocs = 0
    for (const f of fs.readdirSync(path.join(examples, name, 'kargo'))) {
      for (const doc of parseAllDocuments(
        fs.readFileSync(path.join(examples, name, 'kargo', f), 'utf8'),
        { uniqueKeys: false }
      )) {
        const v = doc.toJS() as { apiVersion?: string } | null
        if (v?.apiVersion === 'kargo.akuity.io/v1alpha1') kargoDocs++
      }
    }
    const loaded =
      model.stages.size +
      model.warehouses.size +
      model.promotionTasks.size +
      model.clusterPromotionTasks.size +
      (model.project ? 1 : 0) +
      (model.projectConfig ? 1 : 0)
    expect(loaded).toBe(kargoDocs - (KNOWN_ERRORS[name]?.length ?? 0))
  })

  it('advanced: AnalysisTemplates are skipped and AnalysisTemplate verification gets a notice', async () => {
    const { model, problems } = await loadProject(path.join(examples, 'advanced'), 'kargo')
    const notices = problems.filter((p) => p.severity === 'notice').map(formatProblem)
    expect(notices).toContain(
      'kargo/analysis.yaml:3:7: notice: AnalysisTemplate/error-rate: skipped: argoproj.io/v1alpha1 AnalysisTemplate is not a Kargo resource'
    )
    expect(notices).toContain(
      'kargo/stages.yaml:63:5: notice: Stage/canary-a: spec.verification.analysisTemplates: AnalysisTemplate verification needs Argo Rollouts and is skipped by Waybill; use Waybill verification (docs/verification.md)'
    )
    expect(notices).toContain(
      'kargo/stages.yaml:5:3: notice: metadata.namespace: is Kubernetes-only and ignored by Waybill (8 resources in this file)'
    )
    expect(stageOrder(model)).toEqual([
      'dev',
      'staging',
      'canary-a',
      'canary-b',
      'prod',
      'prod-ap',
      'prod-eu',
      'prod-us'
    ])
    // prod has no promotionTemplate: a control-flow stage
    expect(model.stages.get('prod')!.spec.promotionTemplate).toBeUndefined()
    expect(model.stages.get('dev')!.spec.promotionTemplate!.spec.steps![0].task).toEqual({
      name: 'promote',
      kind: 'PromotionTask'
    })
  })

  it('helm: the duplicated promotionTemplate key is a warning, and defaults are applied', async () => {
    const { model, problems } = await loadProject(path.join(examples, 'helm'), 'kargo')
    expect(problems.filter((p) => p.severity === 'warning').map(formatProblem)).toEqual([
      "kargo/stages.yaml:50:3: warning: duplicate key 'promotionTemplate' (also at line 45); the last one is used (hint: remove one of them)"
    ])
    const toggles = model.warehouses.get('toggles')!
    expect(toggles.spec.interval).toBe('5m0s')
    expect(toggles.spec.freightCreationPolicy).toBe('Automatic')
    expect(toggles.spec.subscriptions[0].git).toMatchObject({
      repoURL: 'https://github.com/acme/payments-chart.git',
      commitSelectionStrategy: 'NewestFromBranch',
      strictSemvers: true,
      discoveryLimit: 10,
      includePaths: ['toggles/defaults.yaml']
    })
    expect(model.warehouses.get('api')!.spec.subscriptions[0].image).toEqual({
      repoURL: 'ghcr.io/acme/payments-api',
      imageSelectionStrategy: 'SemVer',
      strictSemvers: true,
      discoveryLimit: 20,
      cacheByTag: false
    })
    expect(model.stages.get('staging')!.spec.requestedFreight[1].sources).toEqual({
      stages: ['dev'],
      availabilityStrategy: 'OneOf'
    })
    // Kubernetes-only metadata is not carried into the model's meaning, but the location is
    expect(model.locations.get('Stage/prod-eu')).toEqual({
      file: 'kargo/stages.yaml',
      line: expect.any(Number),
      column: 1
    })
  })

  it('every Kargo document validates against the generated JSON Schema (editor schema agrees with the loader)', () => {
    const ajv = new Ajv({ allErrors: true, strict: false })
    const addFormats = ((ajvFormats as unknown as { default?: unknown }).default ??
      ajvFormats) as unknown as (a: Ajv) => void
    addFormats(ajv)
    const validate = ajv.compile(buildJsonSchema())
    for (const name of projects) {
      const dir = path.join(examples, name, 'kargo')
      for (const f of fs.readdirSync(dir)) {
        for (const doc of parseAllDocuments(fs.readFileSync(path.join(dir, f), 'utf8'), {
          uniqueKeys: false
        })) {
          const v = doc.toJS() as { apiVersion?: string; spec?: unknown } | null
          if (v?.apiVersion !== 'kargo.akuity.io/v1alpha1') continue
          const ok = validate(v)
          expect({ file: `${name}/${f}`, ok }).toEqual({ file: `${name}/${f}`, ok: true })
        }
      }
    }
  })
})
