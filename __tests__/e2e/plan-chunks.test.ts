import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { commands } from '../../src/commands/index.js'
import { MATRIX_JOB_LIMIT, chunkMatrix } from '../../src/commands/plan.js'
import { servicesFromFlags } from '../../src/cli.js'
import type { CommandContext } from '../../src/runtime/context.js'
import { StateStore } from '../../src/state/store.js'
import { emptyStageState } from '../../src/state/types.js'
import { MemoryLogger } from '../../src/util/logger.js'
import { generateAlias } from '../../src/freight/alias.js'
import { makeFreight } from '../support/state-fixtures.js'

interface Entry {
  stage: string
  freight: string
  alias: string
  reason: string
}

const SERVICES = 200 // × test → uat → prod, every stage due: 600 promotions
const BRANCH = 'waybill/state'
const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', args, { cwd, encoding: 'utf8', stdio: 'pipe' }).trim()

function config(): Record<string, string> {
  const docs: string[] = []
  const stage = (name: string, w: string, from?: string) => `apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata: { name: ${name} }
spec:
  requestedFreight:
    - origin: { kind: Warehouse, name: ${w} }
      sources: ${from ? `{ stages: [${from}] }` : '{ direct: true }'}
  promotionTemplate: { spec: { steps: [ { task: { name: deploy } } ] } }
`
  for (let i = 0; i < SERVICES; i++) {
    const w = `svc-${i}`
    docs.push(`apiVersion: kargo.akuity.io/v1alpha1
kind: Warehouse
metadata: { name: ${w} }
spec:
  subscriptions:
    - git: { repoURL: 'https://example.invalid/${w}.git', branch: main }
`)
    docs.push(stage(`${w}-test`, w), stage(`${w}-uat`, w, `${w}-test`))
    docs.push(stage(`${w}-prod`, w, `${w}-uat`))
  }
  return {
    '.waybill/pipeline.yaml': docs.join('---\n'),
    '.waybill/task.yaml': `apiVersion: kargo.akuity.io/v1alpha1
kind: PromotionTask
metadata: { name: deploy }
spec:
  steps:
    - uses: compose-output
      config: { done: true }
`,
    '.waybill/project-config.yaml': `apiVersion: kargo.akuity.io/v1alpha1
kind: ProjectConfig
metadata: { name: scale }
spec:
  promotionPolicies:
    - stageSelector: { name: 'regex:.*' }
      autoPromotionEnabled: true
`
  }
}

describe('plan with more due promotions than one matrix holds', () => {
  let root: string
  let work: string

  beforeAll(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'waybill-plan-chunks-'))
    const bare = path.join(root, 'gitops.git')
    work = path.join(root, 'work')
    git(root, 'init', '-q', '--bare', '-b', 'main', bare)
    git(root, 'init', '-q', '-b', 'main', work)
    git(work, 'config', 'user.name', 'test')
    git(work, 'config', 'user.email', 'test@example.invalid')
    git(work, 'remote', 'add', 'origin', bare)
    for (const [rel, text] of Object.entries(config())) {
      fs.mkdirSync(path.dirname(path.join(work, rel)), { recursive: true })
      fs.writeFileSync(path.join(work, rel), text)
    }
    git(work, 'add', '-A')
    git(work, 'commit', '-q', '-m', 'pipeline')
    git(work, 'push', '-q', 'origin', 'main')
    // One freight per service, verified in test and uat: every test, uat and prod stage is due.
    const store = new StateStore({
      repoDir: work,
      remote: 'origin',
      branch: BRANCH,
      logger: new MemoryLogger()
    })
    await store.update((draft) => {
      const taken = new Set<string>()
      for (let i = 0; i < SERVICES; i++) {
        const w = `svc-${i}`
        const f = makeFreight(w, i, undefined, 'git')
        f.alias = generateAlias(f.name, taken)
        taken.add(f.alias)
        for (const s of ['test', 'uat'])
          f.status.verifiedIn[`${w}-${s}`] = { verifiedAt: '2025-01-02T00:00:00Z' }
        draft.freight[f.name] = f
        draft.warehouses[w] = { lastFreightID: f.name }
        for (const s of ['test', 'uat', 'prod']) draft.stages[`${w}-${s}`] = emptyStageState()
      }
      return 'test: seed'
    })
  })
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

  it('splits 600 due promotions into 3 matrices of at most 256, each once, in stage-graph order', async () => {
    const logger = new MemoryLogger()
    const ctx: CommandContext = {
      repoDir: work,
      configDir: '.waybill',
      stateBranch: BRANCH,
      remote: 'origin',
      project: 'scale',
      json: true,
      logger,
      services: servicesFromFlags({}, { PATH: process.env.PATH }),
      actor: 'test',
      waitMs: 0,
      print: (t) => logger.info(t),
      now: () => new Date(Date.UTC(2025, 5, 1))
    }
    const res = await commands.plan.run(ctx, {})
    expect(res.exitCode).toBe(0)
    const outputs = res.outputs!
    const matrices = JSON.parse(outputs.matrices) as Array<{ include: Entry[] }>
    expect(matrices.map((m) => m.include.length)).toEqual([256, 256, 88])
    expect(outputs['matrix-count']).toBe('3')
    expect(outputs['has-work']).toBe('true')
    // `matrix` stays usable as before: the first chunk.
    expect(JSON.parse(outputs.matrix)).toEqual(matrices[0])
    const all = matrices.flatMap((m) => m.include)
    const stages = all.map((e) => e.stage)
    expect(new Set(stages).size).toBe(600)
    expect(all.every((e) => e.reason === 'auto-promotion')).toBe(true)
    // --json prints every due promotion, in the same order.
    expect(JSON.parse(logger.text().trim().split('\n').pop()!)).toEqual({ include: all })
    // Stage-graph order across chunks: each service's test before uat before prod.
    for (let i = 0; i < SERVICES; i++) {
      const at = (s: string) => stages.indexOf(`svc-${i}-${s}`)
      expect(at('test')).toBeGreaterThanOrEqual(0)
      expect(at('test')).toBeLessThan(at('uat'))
      expect(at('uat')).toBeLessThan(at('prod'))
    }
  })

  it('chunkMatrix keeps order and returns one empty matrix when nothing is due', () => {
    expect(chunkMatrix([])).toEqual([{ include: [] }])
    expect(chunkMatrix([1, 2, 3, 4, 5], 2)).toEqual([
      { include: [1, 2] },
      { include: [3, 4] },
      { include: [5] }
    ])
    expect(chunkMatrix(Array.from({ length: MATRIX_JOB_LIMIT }, (_, i) => i))).toHaveLength(1)
  })
})
