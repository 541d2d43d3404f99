import { describe, expect, it } from '@jest/globals'
import fs from 'node:fs'
import path from 'node:path'
import { parse as parseYaml, parseAllDocuments } from 'yaml'
import { initCommand } from '../../src/commands/init.js'
import { validateCommand } from '../../src/commands/validate.js'
import type { CommandArgs, CommandContext } from '../../src/runtime/context.js'
import { defaultServices } from '../../src/runtime/services.js'
import { MemoryLogger } from '../../src/util/logger.js'
import { UsageError } from '../../src/util/errors.js'
import { httpsGitUrl, isUntouched, withMarker } from '../../src/init/index.js'
import { ACTION_REF, SCHEMA_URL } from '../../src/init/templates.js'
import { gitIn, makeRepo, writeFiles } from '../support/git.js'

// YAML documents and workflow files are untyped here.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Y = any

function context(repoDir: string) {
  const printed: string[] = []
  const logger = new MemoryLogger()
  const ctx: CommandContext = {
    repoDir,
    configDir: '.waybill',
    stateBranch: 'waybill/state',
    remote: 'origin',
    json: false,
    logger,
    services: defaultServices({}),
    waitMs: 0,
    print: (t) => printed.push(t),
    now: () => new Date('2025-06-01T00:00:00Z')
  }
  return { ctx, printed, logger }
}

/** A config repository whose origin looks like GitHub (validate needs a real Git URL). */
function configRepo(files?: Record<string, string>) {
  const repo = makeRepo(files)
  gitIn(repo.work, 'remote', 'set-url', 'origin', 'git@github.com:acme/Shop-Config.git')
  return repo
}

async function init(repoDir: string, args: CommandArgs) {
  const c = context(repoDir)
  const res = await initCommand.run(c.ctx, args)
  return { ...c, res }
}

async function validate(repoDir: string) {
  const c = context(repoDir)
  const res = await validateCommand.run({ ...c.ctx, json: true }, {})
  return {
    res,
    report: JSON.parse(c.printed.join('\n')) as { valid: boolean; problems: unknown[] }
  }
}

function read(dir: string, rel: string): string {
  return fs.readFileSync(path.join(dir, rel), 'utf8')
}

function docs(dir: string, rel: string): Array<Record<string, Y>> {
  return parseAllDocuments(read(dir, rel)).map((d) => d.toJS())
}

describe('waybill init', () => {
  for (const pattern of ['image-updater', 'config-updater', 'common-case'])
    for (const layout of ['kustomize', 'helm'])
      it(`writes a ${pattern} (${layout}) config that waybill validate accepts`, async () => {
        const { work } = configRepo()
        const { res } = await init(work, {
          pattern,
          layout,
          image: 'ghcr.io/acme/shop',
          stages: 'test,uat,prod'
        })
        expect(res.exitCode).toBe(0)
        const { res: v, report } = await validate(work)
        expect(report.problems.filter((p: Y) => p.severity !== 'notice')).toEqual([])
        expect(report.valid).toBe(true)
        expect(v.exitCode).toBe(0)

        const [warehouse] = docs(work, '.waybill/warehouse.yaml')
        const subs = warehouse.spec.subscriptions
        expect(subs.some((s: Y) => s.image?.repoURL === 'ghcr.io/acme/shop')).toBe(
          pattern !== 'config-updater'
        )
        expect(
          subs.some((s: Y) => s.git?.repoURL === 'https://github.com/acme/Shop-Config.git')
        ).toBe(pattern !== 'image-updater')
        const task = docs(work, '.waybill/promotion-task.yaml')[0]
        const uses = task.spec.steps.map((s: Y) => s.uses)
        expect(uses[0]).toBe('git-clone')
        expect(uses.slice(-2)).toEqual(['git-commit', 'git-push'])
        if (pattern !== 'config-updater')
          expect(uses).toContain(layout === 'kustomize' ? 'kustomize-set-image' : 'yaml-update')
        else expect(uses).not.toContain('kustomize-set-image')
        expect(uses).toContain(layout === 'kustomize' ? 'kustomize-build' : 'helm-template')
        const push = task.spec.steps.find((s: Y) => s.uses === 'git-push')
        expect(push.config.targetBranch).toBe('stage/${{ ctx.stage }}')
      })

  it('chains stages, auto-promotes all but the last, and adds the schema line', async () => {
    const { work } = configRepo()
    await init(work, {
      pattern: 'image-updater',
      image: 'ghcr.io/acme/shop',
      stages: 'dev,qa,staging,prod'
    })
    const stages = docs(work, '.waybill/stages.yaml')
    expect(stages.map((s) => s.metadata.name)).toEqual(['dev', 'qa', 'staging', 'prod'])
    expect(stages[0].spec.requestedFreight[0].sources).toEqual({ direct: true })
    expect(stages[1].spec.requestedFreight[0].sources).toEqual({ stages: ['dev'] })
    expect(stages[3].spec.requestedFreight[0].sources).toEqual({ stages: ['staging'] })
    const [pc] = docs(work, '.waybill/project-config.yaml')
    expect(pc.metadata.name).toBe('shop-config')
    expect(pc.spec.promotionPolicies.map((p: Y) => p.stageSelector.name)).toEqual([
      'dev',
      'qa',
      'staging'
    ])
    for (const f of ['warehouse', 'stages', 'promotion-task', 'project-config'])
      expect(read(work, `.waybill/${f}.yaml`).split('\n')[0]).toBe(
        `# yaml-language-server: $schema=${SCHEMA_URL}`
      )
    expect(SCHEMA_URL).toMatch(/\/schema\/waybill\.schema\.json$/)
  })

  it('writes the reconcile workflow with triggers, permissions and a queued concurrency group', async () => {
    const { work } = configRepo()
    await init(work, { pattern: 'config-updater' })
    const wf = parseYaml(read(work, '.github/workflows/waybill.yml'))
    expect(Object.keys(wf.on).sort()).toEqual(
      [
        'delete',
        'pull_request',
        'push',
        'registry_package',
        'repository_dispatch',
        'schedule'
      ].sort()
    )
    // Tag deletions do not run the pipeline; branch deletions (a merged promotion PR) do.
    expect(wf.jobs.reconcile.if).toContain("github.event.ref_type == 'branch'")
    expect(wf.on.pull_request.types).toEqual(['closed'])
    expect(wf.on.push.branches).toEqual(['main'])
    expect(wf.on.schedule[0].cron).toMatch(/^\S+ \* \* \* \*$/)
    expect(wf.permissions).toEqual({
      contents: 'write',
      'pull-requests': 'write',
      deployments: 'write',
      statuses: 'write',
      packages: 'read'
    })
    expect(wf.concurrency).toEqual({
      group: 'waybill-${{ github.repository }}',
      'cancel-in-progress': false,
      queue: 'max'
    })
    const steps = wf.jobs.reconcile.steps
    expect(steps.map((s: Y) => s.uses)).toContain(ACTION_REF)
    expect(ACTION_REF).toBe('waybill-dev/waybill@v1')
  })

  it('writes the promote workflow: stage choices, commands, environment per stage', async () => {
    const { work } = configRepo()
    await init(work, { pattern: 'config-updater', stages: 'test,uat,prod' })
    const wf = parseYaml(read(work, '.github/workflows/waybill-promote.yml'))
    const inputs = wf.on.workflow_dispatch.inputs
    expect(inputs.stage.type).toBe('choice')
    expect(inputs.stage.options).toEqual(['test', 'uat', 'prod'])
    expect(inputs.command.type).toBe('choice')
    expect(inputs.command.options).toEqual(['promote', 'approve', 'abort', 'verify', 'discover'])
    expect(inputs.freight.type).toBe('string')
    expect(wf.jobs.promote.environment).toBe('${{ inputs.stage }}')
    expect(wf.jobs.promote.if).toContain("inputs.command == 'promote'")
    const action = wf.jobs.promote.steps.find((s: Y) => s.uses === ACTION_REF)
    expect(action.with).toMatchObject({
      command: '${{ inputs.command }}',
      stage: '${{ inputs.stage }}',
      freight: '${{ inputs.freight }}'
    })
    expect(wf.jobs.manage.environment).toBeUndefined()
    // A job waiting for reviewers holds its concurrency group: never the pipeline's own group.
    const reconcileWf = parseYaml(read(work, '.github/workflows/waybill.yml'))
    expect(wf.jobs.promote.concurrency.group).not.toBe(reconcileWf.concurrency.group)
    expect(wf.jobs.promote.concurrency.group).toContain('inputs.stage')
    expect(wf.jobs.promote['timeout-minutes']).toBeGreaterThan(0)
    expect(wf.permissions.deployments).toBe('write')
  })

  it('infers layout, stages and image from the repository', async () => {
    const { work } = configRepo({
      'Chart.yaml': 'apiVersion: v2\nname: shop\nversion: 0.1.0\n',
      'values.yaml': 'image:\n  repository: ghcr.io/acme/shop\n  tag: v1\n',
      'stages/prod/values.yaml': '{}\n',
      'stages/dev/values.yaml': '{}\n',
      'stages/staging/values.yaml': '{}\n'
    })
    const { res, logger } = await init(work, {})
    expect(res.exitCode).toBe(0)
    expect(logger.text()).toContain('inferred layout helm')
    const stages = docs(work, '.waybill/stages.yaml').map((s) => s.metadata.name)
    expect(stages).toEqual(['dev', 'staging', 'prod'])
    const task = docs(work, '.waybill/promotion-task.yaml')[0]
    expect(task.spec.vars).toContainEqual({ name: 'image', value: 'ghcr.io/acme/shop' })
    expect(task.spec.steps.map((s: Y) => s.uses)).toContain('helm-template')
    const [w] = docs(work, '.waybill/warehouse.yaml')
    expect(w.spec.subscriptions).toHaveLength(2) // common-case: image known
    expect((await validate(work)).report.valid).toBe(true)
  })

  it('keeps edited files on re-run, updates untouched ones, and overwrites with --force', async () => {
    const { work } = configRepo()
    await init(work, { pattern: 'config-updater', stages: 'test,prod' })
    const stagesFile = path.join(work, '.waybill/stages.yaml')
    const edited = read(work, '.waybill/stages.yaml').replace('name: test', 'name: test # mine')
    fs.writeFileSync(stagesFile, edited)

    // Same flags: nothing to do but report the edited file as kept.
    const r = await init(work, { pattern: 'config-updater', stages: 'test,prod' })
    const actions = Object.fromEntries(
      (JSON.parse(r.res.outputs!.files) as Y[]).map((f) => [f.path, f.action])
    )
    expect(actions['.waybill/stages.yaml']).toBe('kept')
    expect(actions['.waybill/warehouse.yaml']).toBe('unchanged')
    expect(JSON.parse(r.res.outputs!.kept)).toEqual(['.waybill/stages.yaml'])
    expect(r.logger.text()).toContain('kept 1 file you edited: .waybill/stages.yaml')
    expect(read(work, '.waybill/stages.yaml')).toBe(edited)

    // New stages: untouched files follow, the edited one stays.
    await init(work, { pattern: 'config-updater', stages: 'test,uat,prod' })
    expect(read(work, '.waybill/stages.yaml')).toBe(edited)
    expect(read(work, '.github/workflows/waybill-promote.yml')).toContain("- 'uat'")
    expect(read(work, '.waybill/project-config.yaml')).toContain('name: uat')

    // --force overwrites.
    await init(work, { pattern: 'config-updater', stages: 'test,uat,prod', force: true })
    expect(read(work, '.waybill/stages.yaml')).not.toContain('# mine')
    expect(read(work, '.waybill/stages.yaml')).toContain('name: uat')
    expect((await validate(work)).report.valid).toBe(true)
  })

  it('keeps a pre-existing workflow file it did not write', async () => {
    const { work } = configRepo()
    writeFiles(work, { '.github/workflows/waybill.yml': 'name: mine\n' })
    const { res } = await init(work, { pattern: 'config-updater' })
    expect(JSON.parse(res.outputs!.kept)).toEqual(['.github/workflows/waybill.yml'])
    expect(read(work, '.github/workflows/waybill.yml')).toBe('name: mine\n')
  })

  it('says which flag is missing or wrong', async () => {
    const { work } = configRepo()
    await expect(init(work, { pattern: 'image-updater' })).rejects.toThrow(
      /needs the image repository/
    )
    await expect(init(work, { pattern: 'gatekeeper' })).rejects.toThrow(UsageError)
    await expect(init(work, { layout: 'jsonnet' })).rejects.toThrow(/--layout must be one of/)
    await expect(init(work, { stages: 'Test,prod' })).rejects.toThrow(/lowercase DNS label/)
    await expect(init(work, { stages: 'a,a' })).rejects.toThrow(/twice/)
    const bare = makeRepo()
    gitIn(bare.work, 'remote', 'remove', 'origin')
    await expect(init(bare.work, {})).rejects.toThrow(/no 'origin' remote/)
  })

  it('detects edits through the checksum marker', () => {
    const text = withMarker('a: 1\n')
    expect(isUntouched(text)).toBe(true)
    expect(isUntouched(text.replace('a: 1', 'a: 2'))).toBe(false)
    expect(isUntouched('a: 1\n')).toBe(false)
  })

  it('turns SSH remotes into HTTPS URLs', () => {
    expect(httpsGitUrl('git@github.com:acme/app.git')).toBe('https://github.com/acme/app.git')
    expect(httpsGitUrl('ssh://git@github.com/acme/app')).toBe('https://github.com/acme/app')
    expect(httpsGitUrl('https://github.com/acme/app.git')).toBe('https://github.com/acme/app.git')
  })
})
