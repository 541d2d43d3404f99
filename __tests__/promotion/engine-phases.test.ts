import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from '@jest/globals'
import { z } from 'zod'
import {
  anyFailed,
  onFailure,
  onRunning,
  overallOutcome,
  prepareWorkDir,
  recordSuccess,
  resolveFreight,
  resolveStep,
  retryPolicy,
  startRun,
  stepContext,
  taskOutputsFor,
  type PromotionRunOptions
} from '../../src/promotion/engine.js'
import type { InflatedStep } from '../../src/promotion/tasks.js'
import { defineStep } from '../../src/steps/define.js'
import { stepRegistry } from '../../src/steps/registry.js'
import { defaultServices } from '../../src/runtime/services.js'
import { emptyState, type Promotion, type StepExecutionMetadata } from '../../src/state/types.js'
import { MemoryLogger } from '../../src/util/logger.js'
import { testFreight } from '../support/step-context.js'

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'waybill-phases-'))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

const freight = testFreight()
const other = testFreight({
  name: 'b'.repeat(40),
  alias: 'other',
  origin: { kind: 'Warehouse', name: 'b' }
})

function promotion(extra: Partial<Promotion> = {}): Promotion {
  return {
    name: 'dev.01jphase.0123456',
    stage: 'dev',
    freight: freight.name,
    phase: 'Running',
    createdAt: '2026-01-01T00:00:00Z',
    steps: [],
    currentStep: 0,
    stepExecutionMetadata: [],
    state: {},
    ...extra
  }
}

const clock = Date.parse('2026-01-02T00:00:00Z')
function options(extra: Partial<PromotionRunOptions> = {}): PromotionRunOptions {
  const state = emptyState()
  state.freight[freight.name] = freight
  state.freight[other.name] = other
  return {
    state,
    project: 'p',
    services: defaultServices({}),
    logger: new MemoryLogger(),
    workRoot: tmp,
    now: () => new Date(clock),
    waitMs: 0,
    ...extra
  }
}

const anyConfig = z.record(z.string(), z.unknown())
const plain = defineStep({
  name: 'plain',
  schema: anyConfig,
  run: async () => ({ status: 'Succeeded' })
})
const exporting = defineStep({
  name: 'exporting',
  schema: anyConfig,
  exportsTaskOutputs: true,
  run: async () => ({ status: 'Succeeded' })
})
const waiting = defineStep({
  name: 'waiting',
  schema: anyConfig,
  defaults: { timeoutMs: 60_000, errorThreshold: 3 },
  run: async () => ({ status: 'Running' })
})

const meta = (status: StepExecutionMetadata['status'], extra = {}): StepExecutionMetadata => ({
  alias: 'x',
  errorCount: 0,
  status,
  ...extra
})

describe('runPromotion phases', () => {
  it('resolveFreight: target first, then the collection; missing freight is an error', () => {
    const items = {
      'Warehouse/b': { name: other.name, origin: other.origin }
    }
    const p = promotion({ freightCollection: { id: 'c', items, verificationHistory: [] } })
    const r = resolveFreight(p, options().state)
    expect('error' in r ? r.error : r.collection.map((f) => f.alias)).toEqual([
      freight.alias,
      'other'
    ])
    expect(resolveFreight(promotion({ freight: 'nope' }), options().state)).toEqual({
      error: "freight 'nope' is not in the state"
    })
    const gone = promotion({
      freightCollection: {
        id: 'c',
        items: { 'Warehouse/x': { name: 'gone', origin: other.origin } },
        verificationHistory: []
      }
    })
    expect(resolveFreight(gone, options().state)).toEqual({
      error: "freight 'gone' of the collection is not in the state"
    })
  })

  it('prepareWorkDir: a fresh directory per run', () => {
    const a = prepareWorkDir(path.join(tmp, 'root'))
    const b = prepareWorkDir(path.join(tmp, 'root'))
    expect(a).not.toBe(b)
    expect(fs.statSync(a).isDirectory() && fs.readdirSync(a)).toEqual([])
  })

  it('resolveStep: registered steps, else the reason', () => {
    expect(resolveStep(stepRegistry, 'git-clone')).toEqual({ def: stepRegistry.get('git-clone') })
    expect(resolveStep(stepRegistry, 'jira')).toEqual({
      error: expect.stringMatching(/Kargo Enterprise step/)
    })
    expect(resolveStep(new Map(), 'git-clone')).toEqual({
      error: "step 'git-clone' is not available"
    })
  })

  it('retryPolicy: the step overrides the definition defaults; a bad timeout throws', () => {
    const step: InflatedStep = { uses: 'waiting' }
    expect(retryPolicy(step, waiting)).toEqual({ threshold: 3, timeoutMs: 60_000 })
    expect(retryPolicy({ ...step, retry: { errorThreshold: 5, timeout: '2m' } }, waiting)).toEqual({
      threshold: 5,
      timeoutMs: 120_000
    })
    expect(retryPolicy({ uses: 'plain' }, plain)).toEqual({ threshold: 1, timeoutMs: 0 })
    expect(() => retryPolicy({ ...step, retry: { timeout: 'soon' } }, waiting)).toThrow()
  })

  it('anyFailed and overallOutcome: continueOnError does not count; Errored beats Failed', () => {
    const list = [
      meta('Succeeded'),
      meta('Failed', { continueOnError: true, message: 'ignored' }),
      meta('Failed', { message: 'f' }),
      meta('Errored', { message: 'e' })
    ]
    expect(anyFailed(list, 2)).toBe(false)
    expect(anyFailed(list, 3)).toBe(true)
    expect(overallOutcome(list)).toEqual({ phase: 'Errored', message: 'e' })
    expect(overallOutcome(list.slice(0, 3))).toEqual({ phase: 'Failed', message: 'f' })
    expect(overallOutcome([meta('Succeeded'), meta('Skipped')])).toEqual({ phase: 'Succeeded' })
  })

  it('taskOutputsFor: the outputs of one task by their alias inside it', () => {
    expect(
      taskOutputsFor({ 'deploy::a': { x: 1 }, 'deploy::b': 2, other: 3, 'deployx::c': 4 }, 'deploy')
    ).toEqual({ a: { x: 1 }, b: 2 })
  })

  it('recordSuccess: outputs, effects, health; task outputs only for steps that export them', () => {
    const run = startRun(promotion(), options())
    const m = meta('Running', { errorCount: 2 })
    const step: InflatedStep = { uses: 'plain', as: 't::s', taskAlias: 't' }
    recordSuccess(
      run,
      { alias: 't::s', step, def: plain, m },
      {
        status: 'Succeeded',
        outputs: { a: 1 },
        effects: [{ kind: 'freight-alias', freight: 'f', alias: 'x' }],
        healthCheck: { uses: 'argocd', input: {} }
      }
    )
    expect(run.promotion.state).toEqual({ 't::s': { a: 1 } })
    expect(m).toMatchObject({ status: 'Succeeded', errorCount: 0 })
    expect(run.effects).toHaveLength(1)
    expect(run.healthChecks).toHaveLength(1)
    recordSuccess(
      run,
      { alias: 't::o', step: { ...step, uses: 'exporting', as: 't::o' }, def: exporting, m },
      { status: 'Succeeded', outputs: { b: 2 } }
    )
    expect(run.promotion.state).toEqual({ 't::s': { a: 1 }, 't::o': { b: 2 }, t: { b: 2 } })
  })

  it('onRunning: polls within waitMs, waits for a later run without it, errors past the timeout', () => {
    const s = (m: StepExecutionMetadata, timeoutMs = 0) => ({
      alias: 'w',
      where: "step 'w' (waiting)",
      m,
      policy: { threshold: 1, timeoutMs }
    })
    const started = new Date(clock).toISOString()
    const noWait = startRun(promotion(), options())
    expect(
      onRunning(noWait, s(meta(undefined, { startedAt: started })), { status: 'Running' })
    ).toEqual({
      kind: 'waiting'
    })
    const budget = startRun(promotion(), options({ waitMs: 5_000 }))
    expect(
      onRunning(budget, s(meta(undefined, { startedAt: started })), {
        status: 'Running',
        pollIntervalMs: 2_000,
        outputs: { n: 1 }
      })
    ).toEqual({ kind: 'poll', pauseMs: 2_000 })
    expect(budget.promotion.state.w).toEqual({ n: 1 })
    const old = new Date(clock - 61_000).toISOString()
    const m = meta(undefined, { startedAt: old })
    expect(onRunning(noWait, s(m, 60_000), { status: 'Running', message: 'still' })).toEqual({
      kind: 'done'
    })
    expect(m).toMatchObject({
      status: 'Errored',
      message: "step 'w' (waiting): timed out after 1m (last: still)"
    })
  })

  it('onFailure: Errored retries below the threshold; Failed is final and prefixed once', () => {
    const run = startRun(promotion(), options({ retryDelayMs: (n) => n * 10 }))
    const s = (m: StepExecutionMetadata, threshold: number) => ({
      alias: 'f',
      where: "step 'f' (plain)",
      m,
      policy: { threshold, timeoutMs: 0 },
      step: { uses: 'plain', as: 'f' } as InflatedStep
    })
    const m = meta(undefined)
    expect(onFailure(run, s(m, 2), { status: 'Errored', message: 'boom' })).toEqual({
      kind: 'retry',
      delayMs: 10
    })
    expect(onFailure(run, s(m, 2), { status: 'Errored', message: 'boom' })).toEqual({
      kind: 'done'
    })
    expect(m).toMatchObject({ status: 'Errored', errorCount: 2, message: "step 'f' (plain): boom" })
    const f = meta(undefined)
    onFailure(run, s(f, 5), { status: 'Failed', message: "step 'f' (plain): already named" })
    expect(f).toMatchObject({ status: 'Failed', message: "step 'f' (plain): already named" })
  })

  it('stepContext: copies of outputs, previous outputs only when resuming, declared capabilities', () => {
    const run = startRun(promotion({ state: { a: { v: 1 }, w: { n: 1 } } }), options())
    const tools = defineStep({
      name: 'tools',
      schema: anyConfig,
      capabilities: ['tools'],
      run: async () => ({ status: 'Succeeded' })
    })
    const exprCtx = {
      project: 'p',
      stage: 'dev',
      promotion: 'x',
      targetFreight: freight,
      freight: [freight],
      state: emptyState(),
      secrets: {}
    }
    const ctx = stepContext(run, {
      alias: 'w',
      def: tools,
      m: meta('Running'),
      workDir: tmp,
      exprCtx
    })
    expect(Object.keys(ctx.caps)).toEqual(['tools'])
    expect(ctx.previousOutputs).toEqual({ n: 1 })
    ;(ctx.outputs.a as { v: number }).v = 2
    expect(run.promotion.state.a).toEqual({ v: 1 })
    const fresh = stepContext(run, {
      alias: 'w',
      def: plain,
      m: meta(undefined),
      workDir: tmp,
      exprCtx
    })
    expect(fresh.previousOutputs).toBeUndefined()
    expect(Object.keys(fresh.caps)).toEqual([])
  })
})
