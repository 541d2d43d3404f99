// `waybill validate` checks every literal step config against the step's schema: unknown fields
// (with "did you mean"), Kargo 1.0 fields (with what replaces them), wrong types, missing
// fields; values decided by `${{ }}` expressions are left to the promotion.
import { describe, expect, it } from '@jest/globals'
import { z } from 'zod'
import { BASE, load, lines } from './support.js'
import { alwaysString, checkStepConfig } from '../../src/config/step-config.js'

const H = `apiVersion: kargo.akuity.io/v1alpha1\n`
/** A stage `qa` whose promotionTemplate has `steps` (YAML list items at 6 spaces); step 0 is on line 15. */
const stage = (steps: string) => `${H}kind: Stage
metadata:
  name: qa
spec:
  requestedFreight:
  - origin:
      kind: Warehouse
      name: app
    sources:
      direct: true
  promotionTemplate:
    spec:
      steps:
${steps}`

describe('step configs in a Stage', () => {
  it('reports an unknown field at its key, with the step name and a suggestion', async () => {
    const { problems } = await load({
      'base.yaml': BASE,
      'case.yaml': stage(`      - uses: git-commit
        config:
          path: ./out
          message: hello
          bogus: 1
          mesage: typo
`)
    })
    expect(lines(problems)).toEqual([
      ".waybill/case.yaml:19:11: error: Stage/qa: git-commit.bogus: unknown field 'bogus'",
      ".waybill/case.yaml:20:11: error: Stage/qa: git-commit.mesage: unknown field 'mesage'"
    ])
    expect(problems.filter((p) => p.severity === 'error').map((p) => p.hint)).toEqual([
      'accepted fields: path, message, author',
      "did you mean 'message'?"
    ])
  })

  it('names what replaces each Kargo 1.0 field', async () => {
    const { problems } = await load({
      'base.yaml': BASE,
      'case.yaml': stage(`      - uses: git-clone
        config:
          repoURL: \${{ vars.gitRepo }}
          checkout:
          - fromFreight: true
            path: ./src
      - uses: git-commit
        config:
          path: ./out
          messageFromSteps: [update-image]
      - uses: git-open-pr
        as: open-pr
        config:
          repoURL: https://github.com/acme/deploy.git
          sourceBranchFromStep: push
          targetBranch: main
      - uses: git-wait-for-pr
        config:
          repoURL: https://github.com/acme/deploy.git
          prNumberFromStep: open-pr
      - uses: argocd-update
        config:
          apps:
          - name: app-qa
            sources:
            - repoURL: https://github.com/acme/deploy.git
              desiredCommitFromStep: commit
`)
    })
    const errors = problems.filter((p) => p.severity === 'error')
    expect(errors.map((p) => `${p.line}:${p.column} ${p.field}: ${p.message} (${p.hint})`)).toEqual(
      [
        '19:13 git-clone.checkout[0].fromFreight: fromFreight was removed in Kargo v1.3 (a Kargo 1.0 field): use commit (replace it with commit: ${{ commitFrom(vars.gitRepo).ID }})',
        "24:11 git-commit.messageFromSteps: messageFromSteps was removed in Kargo v1.5 (a Kargo 1.0 field): use message (replace it with message: ${{ outputs['update-image'].commitMessage }})",
        "29:11 git-open-pr.sourceBranchFromStep: sourceBranchFromStep was removed in Kargo v1.3 (a Kargo 1.0 field): use sourceBranch (replace it with sourceBranch: ${{ outputs['push'].branch }})",
        "34:11 git-wait-for-pr.prNumberFromStep: prNumberFromStep was removed in Kargo v1.3 (a Kargo 1.0 field): use prNumber (replace it with prNumber: ${{ outputs['open-pr'].pr.id }})",
        "41:15 argocd-update.apps[0].sources[0].desiredCommitFromStep: desiredCommitFromStep was removed in Kargo v1.3 (a Kargo 1.0 field): use desiredRevision (replace it with desiredRevision: ${{ outputs['commit'].commit }})"
      ]
    )
  })

  it('leaves values decided by expressions to the promotion, and checks literal ones', async () => {
    const { problems } = await load({
      'base.yaml': BASE,
      'case.yaml': stage(`      - uses: git-clone
        config:
          repoURL: \${{ vars.gitRepo }}
          insecureSkipTLSVerify: \${{ vars.insecure }}
          checkout: \${{ vars.checkouts }}
      - uses: git-wait-for-pr
        config:
          repoURL: https://github.com/acme/deploy.git
          prNumber: \${{ outputs['open-pr'].pr.id }}
          provider: \${{ vars.provider }}
      - uses: git-push
        config:
          path: \${{ vars.out }}
          maxAttempts: \${{ vars.attempts }}
          force: "yes-\${{ vars.force }}"
      - uses: git-wait-for-pr
        config:
          repoURL: https://github.com/acme/deploy.git
          prNumber: "42abc"
`)
    })
    expect(lines(problems)).toEqual([
      ".waybill/case.yaml:29:18: error: Stage/qa: git-push.force: must be a boolean (true or false), not the string 'yes-${{ vars.force }}'",
      ".waybill/case.yaml:33:21: error: Stage/qa: git-wait-for-pr.prNumber: must be a number, not the string '42abc'"
    ])
    expect(problems.find((p) => p.field === 'git-push.force')?.hint).toBe(
      'text around ${{ }} makes the value a string: make the whole value one expression'
    )
  })

  it('reports required fields of a step with no config at the step', async () => {
    const { problems } = await load({
      'base.yaml': BASE,
      'case.yaml': stage(`      - uses: git-push\n`)
    })
    expect(lines(problems)).toEqual([
      '.waybill/case.yaml:15:9: error: Stage/qa: git-push.path: is required'
    ])
  })
})

describe('step configs in promotion tasks', () => {
  it('are reported in the task file, once, however many stages use the task', async () => {
    const { problems } = await load({
      'base.yaml': BASE,
      'tasks.yaml': `${H}kind: ClusterPromotionTask
metadata:
  name: shared
spec:
  steps:
  - uses: kustomize-set-image
    config:
      path: ./src
      images:
      - image: ghcr.io/acme/app
        useDigest: true
`,
      'stages.yaml': `${stage(`      - task:\n          name: shared\n          kind: ClusterPromotionTask\n`)}---\n${stage(
        `      - task:\n          name: shared\n          kind: ClusterPromotionTask\n`
      ).replace('name: qa', 'name: prod')}`
    })
    expect(lines(problems)).toEqual([
      '.waybill/tasks.yaml:12:9: error: ClusterPromotionTask/shared: kustomize-set-image.images[0].useDigest: useDigest was removed in Kargo v1.3 (a Kargo 1.0 field): use digest'
    ])
    expect(problems.find((p) => p.severity === 'error')?.hint).toBe(
      "replace it with digest: ${{ imageFrom('ghcr.io/acme/app').Digest }}"
    )
  })
})

describe('checkStepConfig', () => {
  const schema = z.strictObject({ n: z.number(), on: z.boolean().optional(), s: z.string().min(3) })

  it('skips checks on expressions, keeps the ones the literal text decides', () => {
    expect(checkStepConfig('x', schema, { n: '${{ 1 }}', s: '${{ "a" }}' }).issues).toEqual([])
    expect(
      checkStepConfig('x', schema, { n: 'v${{ 1 }}', s: 'abc' }).issues.map((i) => i.path)
    ).toEqual([['n']])
  })

  it('drops empty optional fields and returns the cleaned config', () => {
    expect(checkStepConfig('x', schema, { n: 1, on: null, s: 'abc' })).toEqual({
      config: { n: 1, s: 'abc' },
      issues: []
    })
  })

  it('knows when a template is always a string', () => {
    expect(alwaysString('stage/${{ ctx.stage }}')).toBe(true)
    expect(alwaysString('${{ a }}')).toBe(false)
    expect(alwaysString('${{ a }}-x')).toBe(false)
    expect(alwaysString('1${{ a }}')).toBe(false)
    expect(alwaysString('t${{ a }}')).toBe(false)
    expect(alwaysString('${{ unterminated')).toBe(false)
  })
})
