// `waybill migrate` on configs of every Kargo era (__tests__/fixtures/eras), checked through the
// real loader: before, the older configs fail validation; after --write, they validate.
import { afterAll, describe, expect, it } from '@jest/globals'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { commands } from '../../src/commands/index.js'
import { loadProject } from '../../src/config/load.js'
import { planMigration, unifiedDiff } from '../../src/migrate/index.js'
import type { CommandContext } from '../../src/runtime/context.js'
import { MemoryLogger } from '../../src/util/logger.js'

const ERAS = path.join(process.cwd(), '__tests__', 'fixtures', 'eras')
const dirs: string[] = []
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })))

function copyEra(era: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `waybill-migrate-${era}-`))
  dirs.push(dir)
  fs.cpSync(path.join(ERAS, era), dir, { recursive: true })
  return dir
}

function read(dir: string, file: string): string {
  return fs.readFileSync(path.join(dir, 'kargo', file), 'utf8')
}

async function migrate(repoDir: string, write: boolean, json = false) {
  const logger = new MemoryLogger()
  const printed: string[] = []
  const ctx = {
    repoDir,
    configDir: 'kargo',
    json,
    logger,
    print: (t: string) => printed.push(t)
  } as unknown as CommandContext
  const result = await commands.migrate.run(ctx, { write })
  return { result, out: printed.join('\n'), logs: logger.text() }
}

/** Errors, and the warnings that name a deprecated field's replacement (Kargo 1.4-era fields). */
async function outdated(repoDir: string) {
  const { problems } = await loadProject(repoDir, 'kargo')
  return problems.filter(
    (p) =>
      p.severity === 'error' || (p.severity === 'warning' && /deprecated|removed/i.test(p.message))
  )
}

describe('waybill migrate', () => {
  it.each(['0.x', '1.0', '1.4'])(
    'turns a Kargo %s config into one that validates, and a second run has nothing to do',
    async (era) => {
      const dir = copyEra(era)
      expect(await outdated(dir)).not.toEqual([])
      const { result } = await migrate(dir, true)
      expect(result.exitCode).toBe(0)
      expect(await outdated(dir)).toEqual([])
      const again = await migrate(dir, false)
      expect(again.out).toBe('kargo: nothing to migrate')
    }
  )

  it('leaves a current config alone', async () => {
    const dir = copyEra('current')
    const before = read(dir, 'resources.yaml')
    const { out, result } = await migrate(dir, true)
    expect(out).toBe('kargo: nothing to migrate')
    expect(result.outputs?.files).toBe('0')
    expect(read(dir, 'resources.yaml')).toBe(before)
  })

  it('is a dry run by default: prints a unified diff and writes nothing', async () => {
    const dir = copyEra('0.x')
    const before = read(dir, 'stages.yaml')
    const { out } = await migrate(dir, false)
    expect(read(dir, 'stages.yaml')).toBe(before)
    expect(out).toContain('--- a/kargo/stages.yaml\n+++ b/kargo/stages.yaml\n@@ -')
    expect(out).toContain('-  subscriptions:\n-    warehouse: guestbook\n')
    expect(out).toContain('+  requestedFreight:\n')
    expect(out).toContain('--- a/kargo/policies.yaml\n+++ b/kargo/policies.yaml')
    expect(out).toContain('kargo: 3 files to migrate (dry run; rerun with --write to apply)')
  })

  it('keeps comments, the sequence style and untouched documents byte for byte', async () => {
    const dir = copyEra('0.x')
    await migrate(dir, true)
    const stages = read(dir, 'stages.yaml')
    expect(stages).toContain(
      '  # Edit the test overlay on main; Argo CD follows main.\n  promotionTemplate:'
    )
    // the file writes `- ` at its key's indentation; so do the new nodes
    expect(stages).toContain('  requestedFreight:\n  - origin:\n')
    const warehouse = read(dir, 'warehouse.yaml')
    expect(warehouse).toBe(
      fs
        .readFileSync(path.join(ERAS, '0.x', 'kargo', 'warehouse.yaml'), 'utf8')
        // the printer puts one space before the comment of the line it rewrote
        .replace('semverConstraint: ^1.0.0   #', 'constraint: ^1.0.0 #')
    )
  })

  it('translates 0.x promotion mechanisms into the equivalent steps', async () => {
    const dir = copyEra('0.x')
    await migrate(dir, true)
    const { model } = await loadProject(dir, 'kargo')
    const test = model.stages.get('test')!
    expect(test.spec.requestedFreight).toMatchObject([
      { origin: { kind: 'Warehouse', name: 'guestbook' }, sources: { direct: true } }
    ])
    const steps = test.spec.promotionTemplate!.spec.steps!
    expect(steps.map((s) => s.uses)).toEqual([
      'git-clone',
      'kustomize-set-image',
      'git-commit',
      'git-push'
    ])
    expect(steps[1].config).toEqual({
      path: './out/stages/test',
      images: [
        { image: 'ghcr.io/acme/guestbook', tag: '${{ imageFrom("ghcr.io/acme/guestbook").Tag }}' }
      ]
    })
    const prod = model.stages.get('prod')!
    expect(prod.spec.requestedFreight[0].sources).toMatchObject({ stages: ['test'] })
    const prodSteps = prod.spec.promotionTemplate!.spec.steps!
    expect(prodSteps[1].config).toMatchObject({
      images: [{ digest: '${{ imageFrom("ghcr.io/acme/guestbook").Digest }}' }]
    })
    expect(prodSteps[prodSteps.length - 1]).toMatchObject({
      uses: 'argocd-update',
      config: { apps: [{ name: 'guestbook-prod', namespace: 'argocd' }] }
    })
    expect(model.projectConfig?.spec?.promotionPolicies).toEqual([
      { stageSelector: { name: 'test' }, autoPromotionEnabled: true }
    ])
  })

  it('rewrites 1.0-era step fields into expressions', async () => {
    const dir = copyEra('1.0')
    await migrate(dir, true)
    const stages = read(dir, 'stages.yaml')
    for (const gone of [
      'fromFreight',
      'fromOrigin',
      'messageFromSteps',
      'sourceBranchFromStep',
      'prNumberFromStep',
      'desiredCommitFromStep',
      'useDigest',
      'helm-update-image'
    ])
      expect(stages).not.toContain(gone)
    for (const expected of [
      '- commit: ${{ commitFrom(vars.gitRepo).ID }}',
      '- commit: ${{ commitFrom("https://github.com/acme/shop-config.git", warehouse("shop")).ID }}',
      'digest: ${{ imageFrom("ghcr.io/acme/shop-api").Digest }}',
      "message: ${{ outputs['set-image'].commitMessage }}",
      "desiredRevision: ${{ outputs['commit'].commit }}",
      "sourceBranch: ${{ outputs['push'].branch }}",
      "prNumber: ${{ outputs['open-pr'].pr.id }}",
      '- uses: yaml-update',
      'key: api.image.tag',
      'value: ${{ imageFrom("ghcr.io/acme/shop-api").Tag }}',
      // the comment above the replaced step stays
      '# Values for the chart live next to it; the image tag is set here.\n      - uses: yaml-update'
    ])
      expect(stages).toContain(expected)
  })

  it('rewrites deprecated Warehouse fields and moves Project policies into a ProjectConfig', async () => {
    const dir = copyEra('1.4')
    await migrate(dir, true)
    const warehouse = read(dir, 'warehouse.yaml')
    expect(warehouse).toContain('constraint: ">=3.1.0"')
    expect(warehouse).toContain('ignoreTagsRegexes: [^latest$, ^3\\.1\\.4$]')
    expect(warehouse).toContain('allowTagsRegexes:\n      - ^nightly-\\d{8}$')
    const { model, problems } = await loadProject(dir, 'kargo')
    expect(problems.filter((p) => p.severity !== 'notice')).toEqual([])
    expect(model.project?.spec).toBeUndefined()
    expect(model.projectConfig?.metadata.name).toBe('payments')
    expect(model.projectConfig?.spec?.promotionPolicies).toEqual([
      { stageSelector: { name: 'integration' }, autoPromotionEnabled: true }
    ])
  })

  it('prints JSON with the diff of every file and the notes', async () => {
    const dir = copyEra('1.4')
    const { out } = await migrate(dir, false, true)
    const parsed = JSON.parse(out) as { files: { file: string }[]; notes: unknown[] }
    expect(parsed.files.map((f) => f.file).sort()).toEqual([
      'kargo/project.yaml',
      'kargo/warehouse.yaml'
    ])
    expect(parsed.notes.length).toBeGreaterThan(0)
  })

  it('warns, with the location, about what it cannot translate faithfully', async () => {
    const dir = copyEra('0.x')
    fs.writeFileSync(
      path.join(dir, 'kargo', 'render.yaml'),
      `apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata:
  name: uat
spec:
  subscriptions:
    upstreamStages:
    - name: test
  promotionMechanisms:
    gitRepoUpdates:
    - repoURL: https://github.com/acme/guestbook-gitops.git
      readBranch: main
      writeBranch: stage/uat
      render: {}
`
    )
    const plan = await planMigration(dir, 'kargo')
    expect(plan.notes).toContainEqual(
      expect.objectContaining({
        severity: 'warning',
        file: 'kargo/render.yaml',
        line: 14,
        message: expect.stringContaining('Kargo Render (render) became kustomize-build')
      })
    )
  })
})

describe('unifiedDiff', () => {
  it('prints hunks with context, like git diff', () => {
    const before = 'a\nb\nc\nd\ne\nf\ng\nh\n'
    const after = 'a\nb\nc\nD\ne\nf\ng\nh\n'
    expect(unifiedDiff('x.yaml', before, after)).toBe(
      '--- a/x.yaml\n+++ b/x.yaml\n@@ -1,7 +1,7 @@\n a\n b\n c\n-d\n+D\n e\n f\n g\n'
    )
  })
})
