import { describe, expect, it } from '@jest/globals'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { commitAndPush, gitIn, makeRepo, showFile, tempDir, writeFiles } from '../support/git.js'
import { stepContext, testFreight } from '../support/step-context.js'
import { copy } from '../../src/steps/files/copy.js'
import { jsonUpdate } from '../../src/steps/files/json-update.js'
import { helmTemplate } from '../../src/steps/files/helm-template.js'
import { gitClone } from '../../src/steps/git/git-clone.js'
import { gitCommit } from '../../src/steps/git/git-commit.js'
import { gitPush } from '../../src/steps/git/git-push.js'
import { setMetadataStep } from '../../src/steps/control/set-metadata.js'
import { runPromotion } from '../../src/promotion/engine.js'
import { stepRegistry } from '../../src/steps/registry.js'
import { defaultServices } from '../../src/runtime/services.js'
import { emptyState, type Promotion } from '../../src/state/types.js'
import { MemoryLogger, registerSecret } from '../../src/util/logger.js'
import type { StepContext, StepDefinition } from '../../src/steps/types.js'
import type { Capability } from '../../src/steps/capabilities.js'

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function run(step: StepDefinition<any>, ctx: StepContext<Capability>, config: unknown) {
  return step.run(step.parse(config), ctx)
}

describe('option injection', () => {
  it('git-clone refuses a commit or tag that git would read as an option', async () => {
    const r = makeRepo()
    const marker = path.join(tempDir(), 'ran')
    const ctx = stepContext()
    const evil = `--upload-pack=touch ${marker};git-upload-pack`
    await expect(
      run(gitClone, ctx, { repoURL: r.url, checkout: [{ path: 'a', commit: evil }] })
    ).rejects.toThrow(/checkout\[0\]\.commit: '--upload-pack=.*' is not a commit ID/)
    await expect(
      run(gitClone, ctx, { repoURL: r.url, checkout: [{ path: 'b', tag: evil }] })
    ).rejects.toThrow(/checkout\[0\]\.tag: .* is not a valid tag name/)
    await expect(
      run(gitClone, ctx, { repoURL: r.url, checkout: [{ path: 'c', branch: evil }] })
    ).rejects.toThrow(/not a valid branch name/)
    expect(fs.existsSync(marker)).toBe(false)
    // A real commit ID still works, abbreviated or not.
    const sha = gitIn(r.work, 'rev-parse', 'HEAD')
    await run(gitClone, ctx, { repoURL: r.url, checkout: [{ path: 'ok', commit: sha }] })
    expect(fs.existsSync(path.join(ctx.workDir, 'ok/README.md'))).toBe(true)
  })

  it('helm-template refuses a release name that helm would read as an option', async () => {
    const marker = path.join(tempDir(), 'ran')
    const ctx = stepContext()
    writeFiles(ctx.workDir, {
      'chart/Chart.yaml': 'apiVersion: v2\nname: c\nversion: 0.1.0\n',
      'chart/templates/cm.yaml':
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n'
    })
    const script = path.join(ctx.workDir, 'pr.sh')
    fs.writeFileSync(script, `#!/bin/sh\ntouch ${marker}\ncat\n`, { mode: 0o755 })
    for (const releaseName of [`--post-renderer=${script}`, 'x'.repeat(54), 'Upper', 'a_b']) {
      await expect(
        run(helmTemplate, ctx, { path: 'chart', outPath: 'o.yaml', releaseName })
      ).rejects.toThrow(/helm-template\.releaseName: .* is not a valid Helm release name/)
    }
    expect(fs.existsSync(marker)).toBe(false)
    await run(helmTemplate, ctx, { path: 'chart', outPath: 'o.yaml', releaseName: 'my.rel-1' })
    expect(fs.readFileSync(path.join(ctx.workDir, 'o.yaml'), 'utf8')).toContain('name: my.rel-1')
  })
})

describe('copy', () => {
  it('skips .git at any depth, so a copied checkout stays where it was (Kargo semantics)', async () => {
    const ctx = stepContext()
    writeFiles(ctx.workDir, {
      'src/.git': 'gitdir: /somewhere\n',
      'src/app/a.yaml': 'a\n',
      'src/vendor/lib/.git/config': 'x\n',
      'src/vendor/lib/b.yaml': 'b\n'
    })
    await run(copy, ctx, { inPath: 'src', outPath: 'out' })
    const out = path.join(ctx.workDir, 'out')
    expect(fs.readdirSync(out).sort()).toEqual(['app', 'vendor'])
    expect(fs.readdirSync(path.join(out, 'vendor/lib'))).toEqual(['b.yaml'])
  })

  it('refuses copying a directory into itself', async () => {
    const ctx = stepContext()
    writeFiles(ctx.workDir, { 'src/a.yaml': 'a\n' })
    for (const outPath of ['src/sub', 'src', './src/../src/x']) {
      await expect(run(copy, ctx, { inPath: 'src', outPath })).rejects.toThrow(
        /copy\.outPath: .* is inside inPath/
      )
    }
    expect(fs.readdirSync(path.join(ctx.workDir, 'src'))).toEqual(['a.yaml'])
  })

  it('git-clone, copy src onto out, git-commit, git-push: commits and pushes the stage branch', async () => {
    const r = makeRepo({ 'app/deploy.yaml': 'image: v1\n' })
    const sha = commitAndPush(r.work, { 'app/deploy.yaml': 'image: v2\n' }, 'v2')
    const ctx = stepContext()
    await run(gitClone, ctx, {
      repoURL: r.url,
      checkout: [
        { path: 'src', commit: sha },
        { path: 'out', branch: 'stage/test', create: true }
      ]
    })
    await run(copy, ctx, { inPath: './src', outPath: './out' })
    const c = await run(gitCommit, ctx, { path: './out', message: 'render' })
    const pushed = await run(gitPush, ctx, { path: './out' })
    expect(pushed.status).toBe('Succeeded')
    expect(showFile(r.bare, 'stage/test', 'app/deploy.yaml')).toBe('image: v2')
    expect(gitIn(r.bare, 'rev-parse', 'stage/test')).toBe(c.outputs?.commit)
    // The source checkout is untouched: still detached at the commit it was cloned at.
    expect(gitIn(path.join(ctx.workDir, 'src'), 'rev-parse', 'HEAD')).toBe(sha)
    expect(gitIn(r.bare, 'rev-parse', 'main')).toBe(sha)
  })
})

describe('json-update keeps __proto__ keys', () => {
  it('sets a key under __proto__ as an ordinary key', async () => {
    const ctx = stepContext()
    writeFiles(ctx.workDir, { 'a.json': '{\n  "__proto__": {\n    "x": 1\n  },\n  "a": 1\n}\n' })
    await run(jsonUpdate, ctx, {
      path: 'a.json',
      updates: [
        { key: '__proto__.y', value: 2 },
        { key: 'b.__proto__.z', value: 3 }
      ]
    })
    const text = fs.readFileSync(path.join(ctx.workDir, 'a.json'), 'utf8')
    const parsed = JSON.parse(text) as Record<string, unknown>
    expect(Object.prototype.hasOwnProperty.call(parsed, '__proto__')).toBe(true)
    expect(text).toContain('"__proto__": {\n    "x": 1,\n    "y": 2\n  }')
    expect(text).toContain('"b": {\n    "__proto__": {\n      "z": 3')
    expect(({} as Record<string, unknown>).y).toBeUndefined()
  })
})

describe('secrets at rest', () => {
  it('set-metadata never hands a secret on to be persisted', async () => {
    const secret = 's3-metadata-secret-7d1f'
    registerSecret(secret)
    const freight = testFreight()
    const ctx = stepContext()
    ctx.state.freight[freight.name] = freight
    const res = await run(setMetadataStep, ctx, {
      updates: [
        { kind: 'Stage', name: 'test', values: { token: `t=${secret}`, nested: { s: secret } } }
      ]
    })
    expect(JSON.stringify(res.effects)).not.toContain(secret)
    expect(res.effects?.[0]).toMatchObject({ values: { token: 't=***', nested: { s: '***' } } })
  })

  it('a secret() value set through a promotion reaches no effect or promotion record', async () => {
    const freight = testFreight()
    const state = emptyState()
    state.freight[freight.name] = freight
    const promotion: Promotion = {
      name: 'test.01jabc.0123456',
      stage: 'test',
      freight: freight.name,
      freightCollection: {
        id: 'x',
        items: { 'Warehouse/main': { name: freight.name, origin: freight.origin } },
        verificationHistory: []
      },
      phase: 'Pending',
      createdAt: '2025-01-01T00:00:00Z',
      actor: 'alice',
      steps: [
        {
          uses: 'set-metadata',
          config: {
            updates: [{ kind: 'Stage', name: 'test', values: { t: '${{ secret("token") }}' } }]
          }
        }
      ],
      currentStep: 0,
      stepExecutionMetadata: [],
      state: {}
    }
    const r = await runPromotion(promotion, {
      state,
      project: 'demo',
      services: { ...defaultServices({}), secrets: { token: 'tok-s3-secret-991' } },
      logger: new MemoryLogger(),
      workRoot: fs.mkdtempSync(path.join(os.tmpdir(), 'waybill-s3-')),
      steps: stepRegistry,
      now: () => new Date(),
      waitMs: 0
    })
    expect(r.promotion.phase).toBe('Succeeded')
    expect(JSON.stringify(r)).not.toContain('tok-s3-secret-991')
  })
})

describe('corrupt promotion progress', () => {
  it('currentStep beyond the step list is refused, not Succeeded', async () => {
    const freight = testFreight()
    const state = emptyState()
    state.freight[freight.name] = freight
    const base: Promotion = {
      name: 'test.01jabc.0123456',
      stage: 'test',
      freight: freight.name,
      freightCollection: {
        id: 'x',
        items: { 'Warehouse/main': { name: freight.name, origin: freight.origin } },
        verificationHistory: []
      },
      phase: 'Running',
      createdAt: '2025-01-01T00:00:00Z',
      actor: 'alice',
      steps: [{ uses: 'fail', config: { message: 'must run' } }],
      currentStep: 5,
      stepExecutionMetadata: [],
      state: {}
    }
    const opts = {
      state,
      project: 'demo',
      services: defaultServices({}),
      logger: new MemoryLogger(),
      workRoot: fs.mkdtempSync(path.join(os.tmpdir(), 'waybill-s3-')),
      steps: stepRegistry,
      now: () => new Date(),
      waitMs: 0
    }
    for (const currentStep of [5, 1, -1, 0.5]) {
      const r = await runPromotion({ ...base, currentStep }, opts)
      expect(r.promotion.phase).toBe('Errored')
      expect(r.promotion.message).toMatch(/corrupt.*currentStep/)
    }
    expect(fs.readdirSync(opts.workRoot)).toEqual([])
  })
})
