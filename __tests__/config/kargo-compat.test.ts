// Kargo compatibility of the loader: empty optional fields are absent (as in Kubernetes),
// deprecated subscription fields are read as their replacements with a warning, and
// ProjectConfig promotion windows and auto-rollback are validated with Kargo's schema.
import { describe, expect, it } from '@jest/globals'
import { BASE, load, lines } from './support.js'

const H = `apiVersion: kargo.akuity.io/v1alpha1\n`
const wh = (image: string) =>
  `${H}kind: Warehouse\nmetadata:\n  name: w2\nspec:\n  subscriptions:\n  - image:\n      repoURL: ghcr.io/acme/other\n${image}`
const projectConfig = (spec: string) =>
  `${H}kind: ProjectConfig\nmetadata:\n  name: acme\nspec:\n${spec}`

describe('empty (null) fields', () => {
  it('treats an empty optional field as absent: spec with only a comment, labels:, vars:', async () => {
    const { model, problems } = await load({
      'base.yaml': BASE,
      'case.yaml': `${H}kind: Project
metadata:
  name: acme
spec:
  # promotion policies live in the ProjectConfig
---
${H}kind: Stage
metadata:
  name: qa
  labels:
  annotations:
spec:
  vars:
  requestedFreight:
  - origin:
      kind: Warehouse
      name: app
    sources:
      direct: true
  promotionTemplate:
    spec:
      vars:
      steps:
      - uses: git-clone
        as:
        config:
          repoURL: https://github.com/acme/deploy.git
          author:
          checkout:
          - branch: main
            path: ./src
            sparse:
`
    })
    expect(lines(problems)).toEqual([])
    expect(lines(problems, 'warning')).toEqual([])
    expect(model.project?.spec).toBeUndefined()
    const qa = model.stages.get('qa')!
    expect(qa.metadata.labels).toBeUndefined()
    expect(qa.spec.vars).toBeUndefined()
    expect(qa.spec.promotionTemplate?.spec.vars).toBeUndefined()
    const step = qa.spec.promotionTemplate!.spec.steps![0]
    expect(step).toEqual({
      uses: 'git-clone',
      config: {
        repoURL: 'https://github.com/acme/deploy.git',
        checkout: [{ branch: 'main', path: './src' }]
      }
    })
  })

  it('still reports an empty required field, naming it', async () => {
    const { problems } = await load({
      'base.yaml': BASE,
      'case.yaml': `${H}kind: Stage\nmetadata:\n  name: qa\nspec:\n  requestedFreight:\n`
    })
    expect(lines(problems)).toEqual([
      '.waybill/case.yaml:6:3: error: Stage/qa: spec.requestedFreight: is required (the field is empty)'
    ])
  })
})

describe('deprecated image subscription fields', () => {
  it('reads semverConstraint as constraint and allowTags as allowTagsRegexes, with a warning', async () => {
    const { model, problems } = await load({
      'base.yaml': BASE,
      'case.yaml': wh(`      semverConstraint: ^1.0.0\n      allowTags: ^v?1\\.\n`)
    })
    expect(lines(problems)).toEqual([])
    expect(problems.filter((p) => p.severity === 'warning').map((p) => p.hint)).toEqual([
      'replace it with constraint: "^1.0.0"',
      'replace it with allowTagsRegexes: ["^v?1\\\\."]'
    ])
    expect(lines(problems, 'warning')).toEqual([
      '.waybill/case.yaml:9:7: warning: Warehouse/w2: spec.subscriptions[0].image.semverConstraint: is deprecated (removed in Kargo v1.9); Waybill reads it as constraint',
      '.waybill/case.yaml:10:7: warning: Warehouse/w2: spec.subscriptions[0].image.allowTags: is deprecated (rejected by Kargo since v1.11); Waybill reads it as allowTagsRegexes'
    ])
    const image = model.warehouses.get('w2')!.spec.subscriptions[0].image!
    expect(image.constraint).toBe('^1.0.0')
    expect(image.allowTagsRegexes).toEqual(['^v?1\\.'])
    expect(image).not.toHaveProperty('semverConstraint')
    expect(image).not.toHaveProperty('allowTags')
  })

  it('a deprecated field next to its replacement is an error naming both', async () => {
    const { problems } = await load({
      'base.yaml': BASE,
      'case.yaml': wh(
        `      constraint: ^2.0.0\n      semverConstraint: ^1.0.0\n      allowTagsRegexes: [x]\n      allowTags: y\n`
      )
    })
    expect(lines(problems)).toEqual([
      '.waybill/case.yaml:10:25: error: Warehouse/w2: spec.subscriptions[0].image.semverConstraint: cannot be set together with constraint (semverConstraint is its deprecated name)',
      '.waybill/case.yaml:12:18: error: Warehouse/w2: spec.subscriptions[0].image.allowTags: cannot be set together with allowTagsRegexes (allowTags is its deprecated form)'
    ])
  })

  it('reads ignoreTags as anchored regular expressions, and git allowTags too', async () => {
    const { model, problems } = await load({
      'base.yaml': BASE,
      'case.yaml': `${wh(`      ignoreTags: [latest, v1.0]\n`)}  - git:
      repoURL: https://github.com/acme/src.git
      commitSelectionStrategy: NewestTag
      allowTags: ^v2
`
    })
    expect(lines(problems)).toEqual([])
    expect(lines(problems, 'warning')).toEqual([
      '.waybill/case.yaml:9:7: warning: Warehouse/w2: spec.subscriptions[0].image.ignoreTags: is deprecated (rejected by Kargo since v1.11); Waybill reads it as ignoreTagsRegexes',
      '.waybill/case.yaml:13:7: warning: Warehouse/w2: spec.subscriptions[1].git.allowTags: is deprecated (rejected by Kargo since v1.11); Waybill reads it as allowTagsRegexes'
    ])
    const [image, git] = model.warehouses.get('w2')!.spec.subscriptions
    expect(image.image!.ignoreTagsRegexes).toEqual(['^latest$', '^v1\\.0$'])
    expect(git.git!.allowTagsRegexes).toEqual(['^v2'])
    expect(git.git).not.toHaveProperty('allowTags')
  })

  it('semverConstraint satisfies the Digest strategy like constraint', async () => {
    const { model, problems } = await load({
      'base.yaml': BASE,
      'case.yaml': wh(`      imageSelectionStrategy: Digest\n      semverConstraint: latest\n`)
    })
    expect(lines(problems)).toEqual([])
    expect(model.warehouses.get('w2')!.spec.subscriptions[0].image!.constraint).toBe('latest')
  })

  it('an invalid allowTags regular expression is located at allowTags', async () => {
    const { problems } = await load({
      'base.yaml': BASE,
      'case.yaml': wh(`      allowTags: "("\n`)
    })
    expect(lines(problems)).toEqual([
      expect.stringMatching(
        /^\.waybill\/case\.yaml:9:18: error: Warehouse\/w2: spec\.subscriptions\[0\]\.image\.allowTags: invalid regular expression '\(': /
      )
    ])
  })
})

const WINDOWS = `  promotionWindows:
  - name: business-hours
    kind: Allow
    rrule: FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR
    dtstart: TZID=Europe/Paris:20260105T090000
    dtend: TZID=Europe/Paris:20260105T170000
    stageSelector:
      name: "glob:prod-*"
  - name: year-end-freeze
    kind: Deny
    dtstart: 20261220T000000Z
    dtend: 20270105T000000Z
  promotionPolicies:
  - stageSelector:
      name: dev
    autoPromotionEnabled: true
    autoRollback:
      onPromotion: [Failed, Errored]
      onVerification: [Failed]
`

describe('ProjectConfig promotion windows and auto-rollback', () => {
  it('validates and compiles windows, exposes them on the model, and no longer calls them ignored', async () => {
    const { model, problems } = await load({
      'base.yaml': BASE,
      'case.yaml': projectConfig(WINDOWS)
    })
    expect(lines(problems)).toEqual([])
    expect(lines(problems, 'warning')).toEqual([])
    expect(lines(problems, 'notice')).toEqual([])
    expect(model.promotionWindows.map((w) => [w.spec.name, w.spec.kind])).toEqual([
      ['business-hours', 'Allow'],
      ['year-end-freeze', 'Deny']
    ])
    expect(model.promotionWindows[0].spec.stageSelector).toEqual({ name: 'glob:prod-*' })
    const freeze = model.promotionWindows[1].occurrences(
      Date.parse('2026-12-01T00:00:00Z'),
      Date.parse('2027-02-01T00:00:00Z')
    )
    expect(freeze).toEqual([
      [Date.parse('2026-12-20T00:00:00Z'), Date.parse('2027-01-05T00:00:00Z')]
    ])
    expect(model.projectConfig!.spec!.promotionPolicies![0].autoRollback).toEqual({
      onPromotion: ['Failed', 'Errored'],
      onVerification: ['Failed']
    })
  })

  it('names the field of each invalid window', async () => {
    const { problems, model } = await load({
      'base.yaml': BASE,
      'case.yaml': projectConfig(`  promotionWindows:
  - name: ok
    kind: Deny
    dtstart: 20260101T000000Z
  - name: backwards
    kind: Deny
    dtstart: 20260102T000000Z
    dtend: 20260101T000000Z
  - name: Bad_Name
    kind: Sometimes
    projectSelector:
      name: acme
  - name: never
    kind: Allow
    rrule: FREQ=NEVER
    dtstart: 20260101T090000Z
    dtend: 20260101T170000Z
`)
    })
    expect(lines(problems)).toEqual([
      '.waybill/case.yaml:13:12: error: ProjectConfig/acme: spec.promotionWindows[1].dtend: must be after dtstart',
      ".waybill/case.yaml:14:11: error: ProjectConfig/acme: spec.promotionWindows[2].name: must be a lowercase DNS name (a-z, 0-9, '-' and '.'), got 'Bad_Name'",
      ".waybill/case.yaml:15:11: error: ProjectConfig/acme: spec.promotionWindows[2].kind: must be one of 'Allow', 'Deny' (got the string 'Sometimes')",
      '.waybill/case.yaml:16:5: error: ProjectConfig/acme: spec.promotionWindows[2].projectSelector: is only allowed on ClusterConfig windows: a ProjectConfig window applies to its own project',
      ".waybill/case.yaml:20:12: error: ProjectConfig/acme: spec.promotionWindows[3].rrule: 'FREQ=NEVER' has no valid FREQ (YEARLY, MONTHLY, WEEKLY, DAILY or HOURLY)"
    ])
    expect(model.projectConfig).toBeUndefined()
    expect(model.promotionWindows).toEqual([])
  })

  it('reports duplicate window names and unknown time zones', async () => {
    const { problems } = await load({
      'base.yaml': BASE,
      'case.yaml': projectConfig(`  promotionWindows:
  - name: mars
    kind: Deny
    dtstart: TZID=Mars/Olympus:20260101T090000
  - name: mars
    kind: Allow
    dtstart: 20260101T090000Z
`)
    })
    expect(lines(problems)).toEqual([
      ".waybill/case.yaml:9:14: error: ProjectConfig/acme: spec.promotionWindows[0].dtstart: unknown time zone 'Mars/Olympus' (use an IANA name such as America/New_York)",
      ".waybill/case.yaml:10:11: error: ProjectConfig/acme: spec.promotionWindows[1].name: duplicate window name 'mars' (also spec.promotionWindows[0])"
    ])
  })
})
