// At least 30 malformed configs: each names the exact file, line, column, resource, field and message.
import { describe, expect, it } from '@jest/globals'
import { BASE, load, lines } from './support.js'
import { formatProblem } from '../../src/config/index.js'

const H = `apiVersion: kargo.akuity.io/v1alpha1\n`
const wh = (spec: string, name = 'w2') =>
  `${H}kind: Warehouse\nmetadata:\n  name: ${name}\nspec:\n${spec}`
const st = (spec: string, name = 'qa') =>
  `${H}kind: Stage\nmetadata:\n  name: ${name}\nspec:\n${spec}`
const rf = (sources: string, warehouse = 'app') =>
  `  requestedFreight:\n  - origin:\n      kind: Warehouse\n      name: ${warehouse}\n    sources:\n${sources}`
const steps = (s: string) => `  promotionTemplate:\n    spec:\n      steps:\n${s}`
const img = (extra = '') =>
  `  subscriptions:\n  - image:\n      repoURL: ghcr.io/acme/other\n${extra}`
const task = (spec: string, name = 't2', kind = 'PromotionTask') =>
  `${H}kind: ${kind}\nmetadata:\n  name: ${name}\nspec:\n${spec}`

const CASES: Array<[string, string, string[]]> = [
  [
    'interval of the wrong type',
    wh(`  interval: 300\n${img()}`),
    [
      '.waybill/case.yaml:6:13: error: Warehouse/w2: spec.interval: must be a duration like 90s, 5m or 1h30m, not number 300'
    ]
  ],
  [
    'interval not a duration',
    wh(`  interval: 5 minutes\n${img()}`),
    [
      ".waybill/case.yaml:6:13: error: Warehouse/w2: spec.interval: must be a duration like 90s, 5m or 1h30m (got '5 minutes'; units s, m, h)"
    ]
  ],
  [
    'requiredSoakTime in days',
    st(rf(`      stages: [dev]\n      requiredSoakTime: 1d\n`)),
    [
      ".waybill/case.yaml:12:25: error: Stage/qa: spec.requestedFreight[0].sources.requiredSoakTime: must be a duration like 90s, 5m or 1h30m (got '1d'; units s, m, h)"
    ]
  ],
  [
    'retry.timeout not a duration',
    st(
      rf(`      direct: true\n`) +
        steps(`      - uses: git-clone\n        retry:\n          timeout: soon\n`)
    ),
    [
      ".waybill/case.yaml:17:20: error: Stage/qa: spec.promotionTemplate.spec.steps[0].retry.timeout: must be a duration like 30s, 5m or 1h (got 'soon')"
    ]
  ],
  [
    'unknown top-level field',
    `${H}kind: Warehouse\nmetadata:\n  name: w2\nspecs:\n${img()}`,
    [
      '.waybill/case.yaml:1:1: error: Warehouse/w2: spec: is required',
      ".waybill/case.yaml:5:1: error: Warehouse/w2: specs: unknown field 'specs' (hint: did you mean 'spec'?)"
    ]
  ],
  [
    'unknown spec field',
    st(`  requestedFreights:\n  - origin: {kind: Warehouse, name: app}\n`),
    [
      '.waybill/case.yaml:5:1: error: Stage/qa: spec.requestedFreight: is required',
      ".waybill/case.yaml:6:3: error: Stage/qa: spec.requestedFreights: unknown field 'requestedFreights' (hint: did you mean 'requestedFreight'?)"
    ]
  ],
  [
    'unknown image field',
    wh(img(`      tagRegex: ^v1\n`)),
    [
      ".waybill/case.yaml:9:7: error: Warehouse/w2: spec.subscriptions[0].image.tagRegex: unknown field 'tagRegex' (hint: accepted fields: repoURL, imageSelectionStrategy, strictSemvers, constraint, allowTagsRegexes, ignoreTagsRegexes, platform, insecureSkipTLSVerify, discoveryLimit, cacheByTag)"
    ]
  ],
  [
    'unsupported subscription type',
    wh(`  subscriptions:\n  - helm:\n      repoURL: https://charts.acme.io\n`),
    [
      ".waybill/case.yaml:7:5: error: Warehouse/w2: spec.subscriptions[0].helm: unsupported subscription type 'helm' (hint: Waybill subscribes to image, git and chart sources (plus an optional name))",
      '.waybill/case.yaml:7:5: error: Warehouse/w2: spec.subscriptions[0]: must set one of image, git or chart (hint: use one list item per subscription)'
    ]
  ],
  [
    'two types in one subscription',
    wh(
      `  subscriptions:\n  - image:\n      repoURL: ghcr.io/acme/x\n    git:\n      repoURL: https://github.com/acme/x.git\n`
    ),
    [
      '.waybill/case.yaml:7:5: error: Warehouse/w2: spec.subscriptions[0]: must set exactly one of image, git or chart (found image, git) (hint: use one list item per subscription)'
    ]
  ],
  [
    'unknown imageSelectionStrategy',
    wh(img(`      imageSelectionStrategy: Newest\n`)),
    [
      ".waybill/case.yaml:9:31: error: Warehouse/w2: spec.subscriptions[0].image.imageSelectionStrategy: must be one of 'Digest', 'Lexical', 'NewestBuild', 'SemVer' (got the string 'Newest')"
    ]
  ],
  [
    'discoveryLimit too big',
    wh(img(`      discoveryLimit: 500\n`)),
    [
      '.waybill/case.yaml:9:23: error: Warehouse/w2: spec.subscriptions[0].image.discoveryLimit: must be at most 100 (got 500)'
    ]
  ],
  [
    'image repoURL with a tag',
    wh(`  subscriptions:\n  - image:\n      repoURL: ghcr.io/acme/app:1.0\n`),
    [
      ".waybill/case.yaml:8:16: error: Warehouse/w2: spec.subscriptions[0].image.repoURL: must be an image repository without tag or digest, e.g. ghcr.io/org/app (got 'ghcr.io/acme/app:1.0')"
    ]
  ],
  [
    'Digest without constraint',
    wh(img(`      imageSelectionStrategy: Digest\n`)),
    [
      '.waybill/case.yaml:7:5: error: Warehouse/w2: spec.subscriptions[0].image.constraint: is required with imageSelectionStrategy Digest (the mutable tag to follow) (hint: e.g. constraint: latest)'
    ]
  ],
  [
    'oci chart with a name',
    wh(
      `  subscriptions:\n  - chart:\n      repoURL: oci://ghcr.io/acme/charts/app\n      name: app\n`
    ),
    [
      '.waybill/case.yaml:9:13: error: Warehouse/w2: spec.subscriptions[0].chart.name: must be empty for an oci:// repository (the URL names the chart) (hint: remove name: the URL already names the chart)'
    ]
  ],
  [
    'http chart without a name',
    wh(`  subscriptions:\n  - chart:\n      repoURL: https://charts.acme.io\n`),
    [
      '.waybill/case.yaml:7:5: error: Warehouse/w2: spec.subscriptions[0].chart.name: is required for an http(s) chart repository'
    ]
  ],
  [
    'sources with neither direct nor stages',
    st(rf(`      direct: false\n`)),
    [
      '.waybill/case.yaml:11:7: error: Stage/qa: spec.requestedFreight[0].sources: must set direct or stages (hint: direct: true takes freight straight from the warehouse; stages: [name] after it is verified upstream)'
    ]
  ],
  [
    'unknown warehouse',
    st(rf(`      direct: true\n`, 'nope')),
    [
      ".waybill/case.yaml:9:13: error: Stage/qa: spec.requestedFreight[0].origin.name: Warehouse 'nope' not found (hint: known: app)"
    ]
  ],
  [
    'unknown upstream stage',
    st(rf(`      stages: [dve]\n`)),
    [
      ".waybill/case.yaml:11:16: error: Stage/qa: spec.requestedFreight[0].sources.stages[0]: upstream Stage 'dve' not found (hint: known: dev)"
    ]
  ],
  [
    'upstream does not request the origin',
    `${stageWithOtherWarehouse()}`,
    [
      ".waybill/case.yaml:11:16: error: Stage/qa: spec.requestedFreight[0].sources.stages[0]: upstream Stage 'dev' does not request freight from Warehouse 'w3' (hint: add Warehouse 'w3' to dev's requestedFreight, or take it from another stage)"
    ]
  ],
  [
    'cycle',
    st(rf(`      stages: [qa2]\n`)) + `---\n` + st(rf(`      stages: [qa]\n`), 'qa2'),
    [
      '.waybill/case.yaml:23:16: error: Stage/qa2: spec.requestedFreight[0].sources.stages[0]: stages form a cycle: qa → qa2 → qa (hint: freight must flow one way: remove one of these upstream references)'
    ]
  ],
  [
    'own upstream',
    st(rf(`      stages: [qa]\n`)),
    [
      '.waybill/case.yaml:11:16: error: Stage/qa: spec.requestedFreight[0].sources.stages[0]: a stage cannot be its own upstream (hint: freight must flow one way: remove one of these upstream references)'
    ]
  ],
  [
    'MatchUpstream with two upstreams',
    st(
      rf(
        `      stages: [dev, dev2]\n      autoPromotionOptions:\n        selectionPolicy: MatchUpstream\n`
      )
    ) +
      `---\n` +
      st(rf(`      direct: true\n`), 'dev2'),
    [
      '.waybill/case.yaml:13:26: error: Stage/qa: spec.requestedFreight[0].sources.autoPromotionOptions.selectionPolicy: MatchUpstream needs exactly one upstream stage (found 2)'
    ]
  ],
  [
    'missing PromotionTask',
    st(rf(`      direct: true\n`) + steps(`      - task:\n          name: missing\n`)),
    [
      ".waybill/case.yaml:16:17: error: Stage/qa: spec.promotionTemplate.spec.steps[0].task.name: PromotionTask 'missing' not found (hint: define it with kind: PromotionTask in .waybill)"
    ]
  ],
  [
    'ClusterPromotionTask referenced with the default kind',
    st(rf(`      direct: true\n`) + steps(`      - task:\n          name: shared\n`)) +
      `---\n` +
      task(`  steps:\n  - uses: fail\n`, 'shared', 'ClusterPromotionTask'),
    [
      ".waybill/case.yaml:16:17: error: Stage/qa: spec.promotionTemplate.spec.steps[0].task.name: PromotionTask 'shared' not found (hint: a ClusterPromotionTask named 'shared' exists: set task.kind: ClusterPromotionTask)"
    ]
  ],
  [
    'step with uses and task',
    st(
      rf(`      direct: true\n`) +
        steps(`      - uses: git-clone\n        task:\n          name: deploy\n`)
    ),
    [
      ".waybill/case.yaml:15:9: error: Stage/qa: spec.promotionTemplate.spec.steps[0]: a step must set exactly one of 'uses' or 'task'"
    ]
  ],
  [
    'step with neither uses nor task',
    st(rf(`      direct: true\n`) + steps(`      - as: nothing\n`)),
    [
      ".waybill/case.yaml:15:9: error: Stage/qa: spec.promotionTemplate.spec.steps[0]: a step must set exactly one of 'uses' or 'task'"
    ]
  ],
  [
    'task step with continueOnError',
    st(
      rf(`      direct: true\n`) +
        steps(`      - task:\n          name: deploy\n        continueOnError: true\n`)
    ),
    [
      '.waybill/case.yaml:17:26: error: Stage/qa: spec.promotionTemplate.spec.steps[0].continueOnError: a step that references a task cannot set continueOnError (hint: set continueOnError on the steps inside the task)'
    ]
  ],
  [
    'removed step',
    st(rf(`      direct: true\n`) + steps(`      - uses: helm-update-image\n`)),
    [
      ".waybill/case.yaml:15:15: error: Stage/qa: spec.promotionTemplate.spec.steps[0].uses: step 'helm-update-image' is not available: removed in Kargo v1.3.0: use 'yaml-update' with imageFrom()"
    ]
  ],
  [
    'enterprise step',
    st(rf(`      direct: true\n`) + steps(`      - uses: record-audit-event\n`)),
    [
      ".waybill/case.yaml:15:15: error: Stage/qa: spec.promotionTemplate.spec.steps[0].uses: step 'record-audit-event' is not available: it is a Kargo Enterprise step that Waybill does not provide"
    ]
  ],
  [
    'unknown step',
    st(rf(`      direct: true\n`) + steps(`      - uses: git-klone\n`)),
    [
      ".waybill/case.yaml:15:15: error: Stage/qa: spec.promotionTemplate.spec.steps[0].uses: step 'git-klone' is not available: Waybill has no such step (see docs/steps.md for the list)"
    ]
  ],
  [
    'PromotionTask step referencing a task',
    task(`  steps:\n  - task:\n      name: deploy\n`),
    [
      '.waybill/case.yaml:8:7: error: PromotionTask/t2: spec.steps[0].task: a PromotionTask step cannot reference another task (hint: tasks do not nest: copy the steps in)'
    ]
  ],
  [
    'YAML syntax error',
    `${H}kind: Warehouse\nmetadata:\n  name: w2\nspec:\n  subscriptions: [\n  - image: {repoURL: x\n`,
    [
      '.waybill/case.yaml:7:3: error: YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ] (hint: check indentation and closing brackets or quotes near this line)'
    ]
  ],
  [
    'missing apiVersion',
    `kind: Warehouse\nmetadata:\n  name: w2\nspec:\n${img()}`,
    [
      '.waybill/case.yaml:1:1: error: Warehouse/w2: apiVersion: is required (hint: every document needs apiVersion: kargo.akuity.io/v1alpha1 and a kind (Warehouse, Stage, PromotionTask, ClusterPromotionTask, ProjectConfig, Project))'
    ]
  ],
  [
    'wrong apiVersion',
    `apiVersion: kargo.akuity.io/v1beta1\nkind: Warehouse\nmetadata:\n  name: w2\nspec:\n${img()}`,
    [
      ".waybill/case.yaml:1:13: error: Warehouse/w2: apiVersion: unsupported apiVersion 'kargo.akuity.io/v1beta1' (hint: use kargo.akuity.io/v1alpha1)"
    ]
  ],
  [
    'misspelt kind',
    `${H}kind: Warehose\nmetadata:\n  name: w2\nspec:\n${img()}`,
    [
      ".waybill/case.yaml:2:7: error: Warehose/w2: kind: unknown Kargo kind 'Warehose' (hint: did you mean 'Warehouse'?)"
    ]
  ],
  [
    'invalid resource name',
    wh(img(), 'Other_WH'),
    [
      ".waybill/case.yaml:4:9: error: Warehouse/Other_WH: metadata.name: must be a lowercase DNS name (a-z, 0-9, '-' and '.'), got 'Other_WH'"
    ]
  ],
  [
    'invalid var name',
    st(`  vars:\n  - name: 1var\n    value: x\n` + rf(`      direct: true\n`)),
    [
      ".waybill/case.yaml:7:11: error: Stage/qa: spec.vars[0].name: must be a variable name (letters, digits, '_', not starting with a digit), got '1var'"
    ]
  ],
  [
    'boolean var value',
    st(`  vars:\n  - name: openpr\n    value: true\n` + rf(`      direct: true\n`)),
    [
      '.waybill/case.yaml:8:12: error: Stage/qa: spec.vars[0].value: must be a string, not boolean true (hint: quote the value: "true")'
    ]
  ],
  [
    'number label value',
    `${H}kind: Stage\nmetadata:\n  name: qa\n  labels:\n    tier: 2\nspec:\n` +
      rf(`      direct: true\n`),
    [
      '.waybill/case.yaml:6:11: error: Stage/qa: metadata.labels.tier: must be a string, not number 2 (hint: quote the value: "2")'
    ]
  ],
  [
    'policy with stage and stageSelector',
    `${H}kind: ProjectConfig\nmetadata:\n  name: acme\nspec:\n  promotionPolicies:\n  - stage: dev\n    stageSelector:\n      name: dev\n    autoPromotionEnabled: true\n`,
    [
      '.waybill/case.yaml:7:5: error: ProjectConfig/acme: spec.promotionPolicies[0]: must set exactly one of stage or stageSelector (hint: stageSelector: {name: <stage>})'
    ]
  ],
  [
    'bad matchExpressions operator',
    `${H}kind: ProjectConfig\nmetadata:\n  name: acme\nspec:\n  promotionPolicies:\n  - stageSelector:\n      matchExpressions:\n      - key: tier\n        operator: Equals\n        values: [prod]\n`,
    [
      ".waybill/case.yaml:10:19: error: ProjectConfig/acme: spec.promotionPolicies[0].stageSelector.matchExpressions[0].operator: must be one of 'In', 'NotIn', 'Exists', 'DoesNotExist' (got the string 'Equals')"
    ]
  ],
  [
    'duplicate subscription repoURL',
    wh(
      `  subscriptions:\n  - image:\n      repoURL: ghcr.io/acme/x\n  - image:\n      repoURL: ghcr.io/acme/x\n      constraint: ^2.0.0\n`
    ),
    [
      '.waybill/case.yaml:10:16: error: Warehouse/w2: spec.subscriptions[1].image.repoURL: subscribes to image ghcr.io/acme/x twice (also subscriptions[0]) (hint: a warehouse may subscribe to a repository only once)'
    ]
  ],
  [
    'duplicate step alias',
    st(
      rf(`      direct: true\n`) +
        steps(`      - uses: fail\n        as: clone\n      - uses: fail\n        as: clone\n`)
    ),
    [
      ".waybill/case.yaml:18:13: error: Stage/qa: spec.promotionTemplate.spec.steps[1].as: step alias 'clone' is used twice (also step 1)"
    ]
  ],
  [
    'origin kind not Warehouse',
    st(
      `  requestedFreight:\n  - origin:\n      kind: Stage\n      name: dev\n    sources:\n      direct: true\n`
    ),
    [
      ".waybill/case.yaml:8:13: error: Stage/qa: spec.requestedFreight[0].origin.kind: must be 'Warehouse'"
    ]
  ],
  [
    'document is a list',
    `- a\n- b\n`,
    [
      '.waybill/case.yaml:1:1: error: expected a resource (a mapping with apiVersion, kind, metadata and spec), got a list'
    ]
  ],
  [
    'empty requestedFreight',
    st(`  requestedFreight: []\n`),
    [
      '.waybill/case.yaml:6:21: error: Stage/qa: spec.requestedFreight: must request freight from at least one warehouse'
    ]
  ],
  [
    'step config not a mapping',
    st(rf(`      direct: true\n`) + steps(`      - uses: git-clone\n        config: ./src\n`)),
    [
      ".waybill/case.yaml:16:17: error: Stage/qa: spec.promotionTemplate.spec.steps[0].config: must be a mapping, not the string './src'"
    ]
  ],
  [
    'availabilityStrategy unknown',
    st(rf(`      stages: [dev]\n      availabilityStrategy: Any\n`)),
    [
      ".waybill/case.yaml:12:29: error: Stage/qa: spec.requestedFreight[0].sources.availabilityStrategy: must be one of 'All', 'OneOf' (got the string 'Any')"
    ]
  ],
  [
    'duplicate Stage across files',
    `${H}kind: Stage\nmetadata:\n  name: dev\nspec:\n` + rf(`      direct: true\n`),
    [
      ".waybill/case.yaml:4:9: error: Stage/dev: metadata.name: duplicate Stage 'dev': defined in .waybill/base.yaml:13 and .waybill/case.yaml:4 (hint: rename one of them; Waybill uses the one in .waybill/base.yaml)"
    ]
  ],
  [
    'interval missing units',
    wh(`  interval: "10"\n${img()}`),
    [
      ".waybill/case.yaml:6:13: error: Warehouse/w2: spec.interval: must be a duration like 90s, 5m or 1h30m (got '10'; units s, m, h)"
    ]
  ],
  [
    'requestedFreight origin requested twice',
    st(
      rf(`      direct: true\n`) +
        `  - origin:\n      kind: Warehouse\n      name: app\n    sources:\n      stages: [dev]\n`
    ),
    [
      ".waybill/case.yaml:14:13: error: Stage/qa: spec.requestedFreight[1].origin.name: requests freight from Warehouse 'app' twice (also requestedFreight[0]) (hint: list each warehouse once; put all its upstream stages in one sources.stages list)"
    ]
  ],
  // Keys named like Object's own members are plain unknown fields, never a crash (found by fuzzing).
  [
    'a __proto__ field',
    wh(`  __proto__: {polluted: true}\n${img()}`),
    [
      ".waybill/case.yaml:6:3: error: Warehouse/w2: spec.__proto__: unknown field '__proto__' (hint: accepted fields: interval, freightCreationPolicy, freightCreationCriteria, shard, subscriptions)"
    ]
  ],
  [
    'a constructor field',
    wh(`  constructor: {prototype: {polluted: true}}\n${img()}`),
    [
      ".waybill/case.yaml:6:3: error: Warehouse/w2: spec.constructor: unknown field 'constructor' (hint: accepted fields: interval, freightCreationPolicy, freightCreationCriteria, shard, subscriptions)"
    ]
  ]
]
function stageWithOtherWarehouse() {
  return (
    st(rf(`      stages: [dev]\n`, 'w3')) +
    `---\n` +
    wh(`  subscriptions:\n  - git:\n      repoURL: https://github.com/acme/src.git\n`, 'w3')
  )
}

describe('malformed configs', () => {
  it('has at least 30 cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(30)
  })

  it('the base project is valid on its own', async () => {
    const { problems } = await load({ 'base.yaml': BASE })
    expect(lines(problems)).toEqual([])
  })

  it.each(CASES)('%s', async (_name, text, expected) => {
    const { problems } = await load({ 'base.yaml': BASE, 'case.yaml': text })
    const errors = problems.filter((p) => p.severity === 'error').map(formatProblem)
    expect(errors).toEqual(expected)
  })
})

describe('reporting', () => {
  it('reports every problem of every file at once, sorted by file and line', async () => {
    const { problems } = await load({
      'base.yaml': BASE,
      'a.yaml': wh(`  interval: 5 minutes\n${img()}`),
      'nested/b.yml': `${st(rf(`      stages: [nope]\n`))}---\n${task(`  steps:\n  - uses: git-klone\n`)}`,
      'c.yaml': `kind: [\n`
    })
    expect(lines(problems)).toEqual([
      ".waybill/a.yaml:6:13: error: Warehouse/w2: spec.interval: must be a duration like 90s, 5m or 1h30m (got '5 minutes'; units s, m, h)",
      '.waybill/c.yaml:2:1: error: YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]',
      ".waybill/nested/b.yml:11:16: error: Stage/qa: spec.requestedFreight[0].sources.stages[0]: upstream Stage 'nope' not found",
      ".waybill/nested/b.yml:19:11: error: PromotionTask/t2: spec.steps[0].uses: step 'git-klone' is not available: Waybill has no such step (see docs/steps.md for the list)"
    ])
  })

  it('reports a missing config folder, an empty one, and one without Kargo resources', async () => {
    const missing = await load({})
    expect(lines(missing.problems)).toEqual([".waybill: error: config folder '.waybill' not found"])
    const empty = await load({ 'README.md': '# nothing' })
    expect(lines(empty.problems)).toEqual([
      ".waybill: error: no *.yaml or *.yml files in '.waybill'"
    ])
    const other = await load({
      'app.yaml':
        'apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: guestbook\n'
    })
    expect(lines(other.problems)).toEqual([
      ".waybill: error: no Kargo resources (apiVersion: kargo.akuity.io/v1alpha1) found in '.waybill'"
    ])
    expect(lines(other.problems, 'notice')).toEqual([
      '.waybill/app.yaml:2:7: notice: Application/guestbook: skipped: argoproj.io/v1alpha1 Application is not a Kargo resource'
    ])
  })

  it('accepts and reports what Waybill ignores: notices and warnings, no errors', async () => {
    const { model, problems } = await load({
      'base.yaml': BASE,
      'k8s.yaml': `${H}kind: Warehouse
metadata:
  name: w2
  namespace: acme
  uid: 0b0e
  resourceVersion: "12"
spec:
  shard: east
  subscriptions:
  - git:
      repoURL: git@github.com:acme/src.git
status:
  lastFreightID: abc
---
${st(`  targets:\n    selectors:\n    - matchLabels: {env: qa}\n` + rf(`      direct: true\n`))}
---
${H}kind: ProjectConfig
metadata:
  name: acme
spec:
  promotionPolicies:
  - stage: dev
    autoPromotionEnabled: true
  - stageSelector:
      name: "glob:prod-*"
    autoRollback:
      onPromotion: [Failed]
  webhookReceivers:
  - name: gh
    github:
      secretRef:
        name: gh-secret
  promotionWindows:
  - kind: Deny
    name: weekend
    dtstart: 20260103T000000Z
---
${H}kind: Project
metadata:
  name: acme
spec:
  promotionPolicies:
  - stage: dev
    autoPromotionEnabled: true
---
${H}kind: Freight
metadata:
  name: abc
`
    })
    expect(lines(problems)).toEqual([])
    expect(lines(problems, 'warning')).toEqual([
      '.waybill/k8s.yaml:12:16: warning: Warehouse/w2: spec.subscriptions[0].git.repoURL: SSH URLs are deprecated since Kargo v1.10 (removal in v1.13)',
      '.waybill/k8s.yaml:21:3: warning: Stage/qa: spec.targets: is not supported by Waybill and is ignored (Kargo Target fan-out)'
    ])
    expect(lines(problems, 'notice')).toEqual([
      '.waybill/k8s.yaml:5:3: notice: Warehouse/w2: metadata.namespace: is Kubernetes-only and ignored by Waybill',
      '.waybill/k8s.yaml:6:3: notice: Warehouse/w2: metadata.uid: is Kubernetes-only and ignored by Waybill',
      '.waybill/k8s.yaml:7:3: notice: Warehouse/w2: metadata.resourceVersion: is Kubernetes-only and ignored by Waybill',
      '.waybill/k8s.yaml:9:3: notice: Warehouse/w2: spec.shard: is ignored: Waybill has no sharded controllers',
      '.waybill/k8s.yaml:13:1: notice: Warehouse/w2: status: is Kubernetes-only and ignored by Waybill',
      '.waybill/k8s.yaml:38:5: notice: ProjectConfig/acme: spec.promotionPolicies[0].stage: is deprecated in Kargo',
      '.waybill/k8s.yaml:44:3: notice: ProjectConfig/acme: spec.webhookReceivers: are ignored: Waybill is triggered by GitHub events (schedule, repository_dispatch, push)',
      '.waybill/k8s.yaml:59:3: notice: Project/acme: spec.promotionPolicies: on Project is deprecated in Kargo',
      '.waybill/k8s.yaml:64:7: notice: Freight/abc: skipped: Freight resources are created by Waybill, not configured'
    ])
    // ignored fields do not change the model's meaning; policies keep Kargo's defaults
    expect(model.projectConfig!.spec!.promotionPolicies).toEqual([
      { stage: 'dev', autoPromotionEnabled: true },
      {
        stageSelector: { name: 'glob:prod-*' },
        autoPromotionEnabled: false,
        autoRollback: { onPromotion: ['Failed'] }
      }
    ])
    expect(model.project!.spec!.promotionPolicies).toEqual([
      { stage: 'dev', autoPromotionEnabled: true }
    ])
  })

  it('warns when a task needs a var the stage does not set', async () => {
    const { problems } = await load({
      'base.yaml': BASE,
      'case.yaml': `${task(`  vars:\n  - name: env\n  steps:\n  - uses: fail\n`, 'needs-env')}---\n${st(
        rf(`      direct: true\n`) + steps(`      - task:\n          name: needs-env\n`)
      )}`
    })
    expect(lines(problems)).toEqual([])
    expect(problems.filter((p) => p.severity === 'warning').map(formatProblem)).toEqual([
      ".waybill/case.yaml:25:9: warning: Stage/qa: spec.promotionTemplate.spec.steps[0]: PromotionTask 'needs-env' requires var 'env', which this stage does not set (hint: add vars: [{name: env, value: …}] to this step)"
    ])
  })
})

describe('loadProjectOrThrow', () => {
  it('logs notices and warnings, and throws one WaybillError listing every error', async () => {
    const { loadProjectOrThrow } = await import('../../src/config/index.js')
    const { MemoryLogger } = await import('../../src/util/logger.js')
    const { WaybillError } = await import('../../src/util/errors.js')
    const { writeProject } = await import('./support.js')
    const repo = writeProject({
      'base.yaml': BASE.replace('  name: app\nspec:', '  name: app\n  namespace: acme\nspec:'),
      'bad.yaml': `${st(rf(`      stages: [nope]\n`))}---\n${wh(`  interval: 1d\n${img()}`)}`
    })
    const logger = new MemoryLogger()
    const err = await loadProjectOrThrow(repo, '.waybill', logger).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(WaybillError)
    expect((err as Error).message).toBe(
      [
        '2 configuration errors in .waybill:',
        "  .waybill/bad.yaml:11:16: error: Stage/qa: spec.requestedFreight[0].sources.stages[0]: upstream Stage 'nope' not found (hint: known: dev)",
        "  .waybill/bad.yaml:18:13: error: Warehouse/w2: spec.interval: must be a duration like 90s, 5m or 1h30m (got '1d'; units s, m, h)"
      ].join('\n')
    )
    expect(logger.lines).toEqual([
      'notice: Warehouse/app: metadata.namespace: is Kubernetes-only and ignored by Waybill'
    ])
    const ok = await loadProjectOrThrow(writeProject({ 'base.yaml': BASE }), '.waybill', logger)
    expect([...ok.stages.keys()]).toEqual(['dev'])
  })
})
