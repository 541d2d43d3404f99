import { describe, expect, it } from '@jest/globals'
import {
  evaluateExpression,
  evaluateTemplate,
  freightFunctions,
  type ExprEnv
} from '../../src/expressions/index.js'
import type { Freight } from '../../src/freight/types.js'
import { emptyFreightStatus } from '../../src/freight/types.js'
import { emptyStageState, emptyState } from '../../src/state/types.js'

// Kargo's functions (pkg/expressions/function), one test per documented use, with our own data.

function freight(name: string, origin: string, extra: Partial<Freight> = {}): Freight {
  return {
    name,
    alias: `${name}-alias`,
    origin: { kind: 'Warehouse', name: origin },
    discoveredAt: '2025-01-01T00:00:00Z',
    commits: [],
    images: [],
    charts: [],
    status: emptyFreightStatus(),
    ...extra
  }
}

const app = freight('f-app', 'apps', {
  images: [{ repoURL: 'registry.example.com/team/api', tag: '2.4.0', digest: 'sha256:aa' }],
  commits: [{ repoURL: 'https://git.example.com/team/config.git', id: 'c0ffee', tag: 'v2.4.0' }],
  charts: [
    { repoURL: 'oci://registry.example.com/charts/api', version: '0.9.1' },
    { repoURL: 'https://charts.example.com', name: 'api', version: '0.9.2' }
  ]
})
;(app as unknown as { artifacts: unknown[] }).artifacts = [
  {
    subscriptionName: 'model-weights',
    artifactType: 'example.com/model',
    version: 'v7',
    metadata: { size: 12, labels: { tier: 'gold' } }
  }
]
const other = freight('f-other', 'infra', {
  images: [{ repoURL: 'registry.example.com/team/api', tag: '9.9.9', digest: 'sha256:bb' }]
})

const state = emptyState()
state.freight['f-app'] = {
  ...app,
  status: {
    currentlyIn: { dev: { since: '2025-01-02T00:00:00Z' } },
    verifiedIn: { dev: { verifiedAt: '2025-01-02T01:00:00Z' } },
    approvedFor: { prod: { approvedAt: '2025-01-03T00:00:00Z' } },
    metadata: { category: 'backend', settings: { timeoutSeconds: 30 } }
  }
}
state.freight['f-bare'] = freight('f-bare', 'apps')
state.stages.dev = { ...emptyStageState(), metadata: { 'aws-region': 'eu-west-1' } }
state.stages.prod = emptyStageState()

function env(collection: Freight[] = [app]): ExprEnv {
  return {
    vars: {
      ctx: { stage: 'dev', targetFreight: { name: 'f-app', origin: { name: 'apps' } } },
      vars: { imageRepo: 'registry.example.com/team/api' },
      outputs: { 'read-version': { currentVersion: '2.3.1' } },
      task: { outputs: { 'read-version': { currentVersion: '1.4.2' } } }
    },
    functions: freightFunctions(collection, {
      state,
      secrets: { slack: '{"token":"xoxb-1"}' },
      mask: () => {}
    })
  }
}

const ev = (expr: string, e: ExprEnv = env()) => evaluateExpression(expr, e)

describe('Kargo expression functions', () => {
  const table: Array<[string, unknown]> = [
    ['warehouse("apps").Kind', 'Warehouse'],
    ['warehouse("apps").Name', 'apps'],
    ['imageFrom(vars.imageRepo).Tag', '2.4.0'],
    ['imageFrom(vars.imageRepo, warehouse("apps")).Digest', 'sha256:aa'],
    ['imageFrom("registry.example.com/team/none")?.Tag ?? "none"', 'none'],
    ['commitFrom("https://git.example.com/team/config").ID', 'c0ffee'],
    ['commitFrom("https://git.example.com/team/config.git", warehouse("apps")).Tag', 'v2.4.0'],
    ['chartFrom("oci://registry.example.com/charts/api").Version', '0.9.1'],
    ['chartFrom("oci://registry.example.com/charts/api", warehouse("apps")).Version', '0.9.1'],
    ['chartFrom("https://charts.example.com", "api").Version', '0.9.2'],
    ['chartFrom("https://charts.example.com", "api", warehouse("apps")).Name', 'api'],
    ['artifactFrom("model-weights").Version', 'v7'],
    ['artifactFrom("model-weights", warehouse("apps")).ArtifactType', 'example.com/model'],
    ['artifactFrom("model-weights").Metadata.labels.tier', 'gold'],
    ['artifactFrom("unknown-subscription")', null],
    ['freightMetadata(ctx.targetFreight.name).category', 'backend'],
    ['freightMetadata(ctx.targetFreight.name)["settings"] ?? "default"', { timeoutSeconds: 30 }],
    ['freightMetadata(ctx.targetFreight.name)?.settings?.timeoutSeconds ?? 300', 30],
    ['freightMetadata("f-bare")?.settings?.timeoutSeconds ?? 300', 300],
    ['freightMetadata("f-bare")', null],
    ['freightMetadata("missing")', null],
    ['freightStatus(ctx.targetFreight.name).currentlyIn.dev.since', '2025-01-02T00:00:00Z'],
    ['freightStatus(ctx.targetFreight.name).approvedFor?.prod?.approvedAt != nil', true],
    ['freightStatus("f-bare").approvedFor?.prod?.approvedAt != nil', false],
    ['freightStatus("f-bare")', {}],
    ['freightStatus("missing")', null],
    ['"verifiedIn" in freightStatus(ctx.targetFreight.name)', true],
    ['stageMetadata(ctx.stage)["aws-region"]', 'eu-west-1'],
    ['stageMetadata(ctx.stage)["tier"] ?? "default-tier"', 'default-tier'],
    ['stageMetadata("prod")?.config?.settings?.timeoutSeconds ?? 300', 300],
    ['secret("slack").token', 'xoxb-1'],
    ['sharedSecret("slack").token', 'xoxb-1'],
    ['semverParse(task.outputs["read-version"].currentVersion).IncMinor().String()', '1.5.0'],
    ['semverParse("v1.2.3").Major()', 1],
    ['semverDiff(imageFrom(vars.imageRepo).Tag, outputs["read-version"].currentVersion)', 'Minor'],
    ['semverDiff("1.0.0", "2.0.0") == "Major"', true],
    ['semverDiff("1.2.3", "1.2.3+build.7")', 'Metadata'],
    // Masterminds' comparison in Kargo's semverDiff ignores the prerelease.
    ['semverDiff("1.2.3-rc.1", "1.2.3")', 'None'],
    ['semverDiff("1.2.3", "not-a-version")', 'Incomparable'],
    ['quote(40 + 2)', '"42"'],
    ['unsafeQuote("string")', '""string""']
  ]
  it.each(table)('%s', (expr, want) => {
    expect(ev(expr)).toEqual(want)
  })

  it('artifact functions need an origin when several warehouses could provide the artifact', () => {
    const both = env([app, other])
    expect(() => ev('imageFrom(vars.imageRepo).Tag', both)).toThrow(/several warehouses/)
    expect(ev('imageFrom(vars.imageRepo, warehouse("infra")).Tag', both)).toBe('9.9.9')
  })

  it('configMap() explains that there is no cluster', () => {
    expect(() => ev('configMap("my-config").repoURL')).toThrow(/without a cluster.*vars/)
    expect(() => ev('sharedConfigMap("my-config").repoURL')).toThrow(/without a cluster/)
  })

  it('a promotion template shaped like the docs evaluates', () => {
    const config = {
      imageTag: '${{ imageFrom(vars.imageRepo).Tag }}',
      numField: '${{ 40 + 2 }}',
      strField: '${{ quote(40 + 2) }}',
      rawField: '${{ quote("string") }}',
      unsafe: '${{ unsafeQuote("string") }}',
      wasBypassed:
        '${{ freightStatus(ctx.targetFreight.name).approvedFor?.prod?.approvedAt != nil }}',
      message:
        "${{ semverDiff(imageFrom(vars.imageRepo).Tag, outputs['read-version'].currentVersion) }} update of ${{ vars.imageRepo }}",
      jsonData: '${% {"labels": {"app": "nginx"}} %}',
      contents: '${{ asJSON(freightMetadata(ctx.targetFreight.name)) }}'
    }
    expect(evaluateTemplate(config, env())).toEqual({
      imageTag: '2.4.0',
      numField: 42,
      strField: '42',
      rawField: 'string',
      unsafe: '"string"',
      wasBypassed: true,
      message: 'Minor update of registry.example.com/team/api',
      jsonData: { labels: { app: 'nginx' } },
      contents: '{\n  "category": "backend",\n  "settings": {\n    "timeoutSeconds": 30\n  }\n}\n'
    })
  })
})
