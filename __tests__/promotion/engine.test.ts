import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from '@jest/globals'
import { runPromotion, type PromotionRunOptions } from '../../src/promotion/engine.js'
import {
  inflateSteps,
  type InflatedStep,
  type PromotionStepLike
} from '../../src/promotion/tasks.js'
import { z } from 'zod'
import { stepRegistry } from '../../src/steps/registry.js'
import { defineStep } from '../../src/steps/define.js'
import type { AnyStepDefinition, StepContext, StepResult } from '../../src/steps/types.js'
import { emptyFreightStatus, type Freight } from '../../src/freight/types.js'
import { emptyState, type Promotion, type State } from '../../src/state/types.js'
import { defaultServices } from '../../src/runtime/services.js'
import { MemoryLogger, registerSecret } from '../../src/util/logger.js'
import { ToolError } from '../../src/util/errors.js'

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'waybill-engine-'))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

const freight: Freight = {
  name: 'f1f1f1f1f1',
  alias: 'brave-otter',
  origin: { kind: 'Warehouse', name: 'guestbook' },
  discoveredAt: '2025-01-01T00:00:00Z',
  commits: [],
  images: [{ repoURL: 'ghcr.io/akuity/guestbook', tag: 'v1.2.3', digest: 'sha256:aa' }],
  charts: [],
  status: emptyFreightStatus()
}

function makeState(): State {
  const s = emptyState()
  s.freight[freight.name] = structuredClone(freight)
  return s
}

// ---- test steps ----
const calls: string[] = []
/** A test step whose config is any map. */
function step(
  name: string,
  run: (config: Record<string, unknown>, ctx: StepContext) => Promise<StepResult>,
  defaults: { timeoutMs?: number; errorThreshold?: number } = {}
) {
  return defineStep({ name, schema: z.record(z.string(), z.unknown()), defaults, run })
}
const record = step('record', async (config, ctx) => {
  calls.push(`${ctx.alias}:${JSON.stringify(config)}`)
  return { status: 'Succeeded', outputs: { ...config, alias: ctx.alias } }
})
const failing = step('failing', async (config) => ({
  status: (config.status as StepResult['status']) ?? 'Failed',
  message: typeof config.message === 'string' ? config.message : 'nope'
}))
let flakyCount = 0
const flaky = step(
  'flaky',
  async (config) => {
    flakyCount++
    if (flakyCount < Number(config.succeedOn))
      return { status: 'Errored', message: `try ${flakyCount}` }
    return { status: 'Succeeded', outputs: { tries: flakyCount } }
  },
  { errorThreshold: 1 }
)
const thrower = step('thrower', async () => {
  throw new ToolError('helm', ['template', '.'], 1, 'Error: chart not found\n')
})
/** Running until outputs.gate.open is true; counts attempts in its outputs across runs. */
const waiter = step('waiter', async (config, ctx) => {
  const n = Number(ctx.previousOutputs?.attempts ?? 0) + 1
  if (config.open === true) return { status: 'Succeeded', outputs: { attempts: n, done: true } }
  return {
    status: 'Running',
    outputs: { attempts: n },
    message: `attempt ${n}`,
    pollIntervalMs: 1000
  }
})
const slowWaiter = step(
  'slow-waiter',
  async () => ({ status: 'Running', message: 'still going', pollIntervalMs: 1000 }),
  { timeoutMs: 5 * 60_000 }
)
const effectful = step('effectful', async (_c, ctx) => ({
  status: 'Succeeded',
  effects: [{ kind: 'metadata', target: 'Stage', name: ctx.stage, values: { x: 1 } }],
  healthCheck: { uses: 'argocd', input: { app: 'a' } }
}))
const withSchema = defineStep({
  name: 'needs-path',
  schema: z.strictObject({ path: z.string({ error: 'must be a string' }) }),
  async run() {
    return { status: 'Succeeded' }
  }
})

const registry = new Map<string, AnyStepDefinition>([
  ...stepRegistry,
  ...[record, failing, flaky, thrower, waiter, slowWaiter, effectful, withSchema].map(
    (s) => [s.name, s] as const
  )
])

function promotion(
  steps: InflatedStep[] | PromotionStepLike[],
  extra: Partial<Promotion> = {}
): Promotion {
  return {
    name: 'dev.01jabc.f1f1f1f',
    stage: 'dev',
    freight: freight.name,
    freightCollection: {
      id: 'x',
      items: { 'Warehouse/guestbook': { name: freight.name, origin: freight.origin } },
      verificationHistory: []
    },
    phase: 'Pending',
    createdAt: '2025-01-01T00:00:00Z',
    actor: 'alice',
    steps: steps,
    currentStep: 0,
    stepExecutionMetadata: [],
    state: {},
    ...extra
  }
}

let clock = Date.parse('2025-01-02T00:00:00Z')
function options(
  extra: Partial<PromotionRunOptions> = {}
): PromotionRunOptions & { logger: MemoryLogger } {
  return {
    state: makeState(),
    project: 'demo',
    services: { ...defaultServices({}), secrets: { token: 'tok-12345' } },
    logger: new MemoryLogger(),
    workRoot: path.join(tmp, 'p'),
    now: () => new Date(clock),
    waitMs: 0,
    steps: registry,
    retryDelayMs: () => 0,
    sleep: async (ms) => {
      clock += ms
    },
    ...extra
  } as PromotionRunOptions & { logger: MemoryLogger }
}

const statuses = (p: Promotion) => p.stepExecutionMetadata.map((m) => `${m.alias}=${m.status}`)

describe('runPromotion', () => {
  it('runs steps in order with ctx, vars and outputs, default aliases step-N', async () => {
    calls.length = 0
    const p = promotion(
      [
        { uses: 'record', config: { v: '${{ vars.greeting }}-${{ ctx.stage }}' } },
        {
          uses: 'record',
          as: 'second',
          vars: [{ name: 'local', value: '${{ outputs["step-1"].v }}!' }],
          config: {
            prev: '${{ outputs["step-1"].v }}',
            local: '${{ vars.local }}',
            tag: '${{ imageFrom("ghcr.io/akuity/guestbook").Tag }}',
            target: '${{ ctx.targetFreight.alias }}/${{ ctx.targetFreight.origin.name }}',
            actor: '${{ ctx.meta.promotion.actor }}',
            me: '${{ ctx.meta.step.alias }}',
            n: '${{ vars.n }}',
            project: '${{ ctx.project }}'
          }
        }
      ],
      {
        vars: [
          { name: 'greeting', value: 'hi' },
          { name: 'n', value: '${{ 1 + 1 }}' }
        ]
      }
    )
    const r = await runPromotion(
      p,
      options({ stageVars: [{ name: 'greeting', value: 'stage-hello' }] })
    )
    expect(r.promotion.phase).toBe('Succeeded')
    expect(r.promotion.currentStep).toBe(2)
    expect(statuses(r.promotion)).toEqual(['step-1=Succeeded', 'second=Succeeded'])
    expect(r.promotion.state.second).toEqual({
      prev: 'hi-dev',
      local: 'hi-dev!',
      tag: 'v1.2.3',
      target: 'brave-otter/guestbook',
      actor: 'alice',
      me: 'second',
      n: 2,
      project: 'demo',
      alias: 'second'
    })
    expect(r.promotion.startedAt).toBeDefined()
    expect(r.promotion.finishedAt).toBeDefined()
    expect(r.promotion.stepExecutionMetadata[0].startedAt).toBeDefined()
    // The input is not modified.
    expect(p.phase).toBe('Pending')
  })

  it('logs each step in a group', async () => {
    const o = options()
    await runPromotion(promotion([{ uses: 'record', as: 'a', config: {} }]), o)
    expect(o.logger.lines).toContain('group: step a (record)')
  })

  it('if / always() / failure() / success() / status()', async () => {
    const p = promotion([
      { uses: 'record', as: 'one' },
      { uses: 'record', as: 'skipped', if: '${{ false }}' },
      { uses: 'failing', as: 'bad', config: { message: 'broken' } },
      { uses: 'record', as: 'after-default' },
      { uses: 'record', as: 'on-success', if: '${{ success() }}' },
      { uses: 'record', as: 'on-failure', if: '${{ failure() }}' },
      { uses: 'record', as: 'always', if: '${{ always() }}' },
      {
        uses: 'record',
        as: 'by-status',
        if: "${{ status('bad') == 'Failed' && status('skipped') == 'Skipped' }}"
      },
      { uses: 'record', as: 'bare-if', if: "status('one') == 'Succeeded'" }
    ])
    const r = await runPromotion(p, options())
    expect(statuses(r.promotion)).toEqual([
      'one=Succeeded',
      'skipped=Skipped',
      'bad=Failed',
      'after-default=Skipped',
      'on-success=Skipped',
      'on-failure=Succeeded',
      'always=Succeeded',
      'by-status=Succeeded',
      'bare-if=Succeeded'
    ])
    expect(r.promotion.phase).toBe('Failed')
    expect(r.promotion.message).toBe("step 'bad' (failing): broken")
  })

  it('an if that is not a bool errors the step', async () => {
    const r = await runPromotion(
      promotion([{ uses: 'record', as: 'x', if: '${{ "yes" }}' }]),
      options()
    )
    expect(r.promotion.phase).toBe('Errored')
    expect(r.promotion.message).toMatch(/step 'x' \(record\): .*'if' must evaluate to a bool/)
  })

  it('continueOnError: the failure does not count', async () => {
    const r = await runPromotion(
      promotion([
        { uses: 'failing', as: 'soft', continueOnError: true },
        { uses: 'record', as: 'next' },
        { uses: 'record', as: 'guarded', if: '${{ failure() }}' }
      ]),
      options()
    )
    expect(statuses(r.promotion)).toEqual(['soft=Failed', 'next=Succeeded', 'guarded=Skipped'])
    expect(r.promotion.stepExecutionMetadata[0].continueOnError).toBe(true)
    expect(r.promotion.phase).toBe('Succeeded')
  })

  it('Errored beats Failed for the phase', async () => {
    const r = await runPromotion(
      promotion([
        { uses: 'failing', as: 'f', config: { status: 'Failed' } },
        {
          uses: 'failing',
          as: 'e',
          if: '${{ always() }}',
          config: { status: 'Errored', message: 'tech' }
        }
      ]),
      options()
    )
    expect(r.promotion.phase).toBe('Errored')
    expect(r.promotion.message).toBe("step 'e' (failing): tech")
  })

  it('retry.errorThreshold retries Errored steps; Failed is not retried', async () => {
    flakyCount = 0
    let r = await runPromotion(
      promotion([
        { uses: 'flaky', as: 'fl', retry: { errorThreshold: 3 }, config: { succeedOn: 3 } }
      ]),
      options()
    )
    expect(r.promotion.phase).toBe('Succeeded')
    expect(r.promotion.state.fl).toEqual({ tries: 3 })
    expect(r.promotion.stepExecutionMetadata[0].errorCount).toBe(0)

    flakyCount = 0
    r = await runPromotion(
      promotion([
        { uses: 'flaky', as: 'fl', retry: { errorThreshold: 2 }, config: { succeedOn: 5 } }
      ]),
      options()
    )
    expect(r.promotion.phase).toBe('Errored')
    expect(flakyCount).toBe(2)
    expect(r.promotion.stepExecutionMetadata[0].errorCount).toBe(2)
    expect(r.promotion.message).toBe("step 'fl' (flaky): try 2")

    flakyCount = 0
    r = await runPromotion(promotion([{ uses: 'flaky', config: { succeedOn: 2 } }]), options())
    expect(r.promotion.phase).toBe('Errored') // default threshold 1: no retry
    expect(flakyCount).toBe(1)
  })

  it('a thrown ToolError errors the step with the trimmed stderr', async () => {
    const r = await runPromotion(promotion([{ uses: 'thrower', as: 'render' }]), options())
    expect(r.promotion.phase).toBe('Errored')
    expect(r.promotion.message).toMatch(
      /^step 'render' \(thrower\): helm template \. failed \(exit 1\): Error: chart not found$/
    )
  })

  it('config errors name the step and the field', async () => {
    let r = await runPromotion(
      promotion([{ uses: 'needs-path', as: 'np', config: { path: 1 } }]),
      options()
    )
    expect(r.promotion.message).toBe("step 'np' (needs-path) config.path: must be a string")
    r = await runPromotion(
      promotion([{ uses: 'record', as: 'ex', config: { a: [{ b: '${{ outputs.nope.x }}' }] } }]),
      options()
    )
    expect(r.promotion.phase).toBe('Errored')
    expect(r.promotion.message).toMatch(
      /step 'ex' \(record\) config\.a\[0\]\.b: cannot read 'x' of nil/
    )
    r = await runPromotion(promotion([{ uses: 'fail', as: 'ff', config: { bogus: 1 } }]), options())
    expect(r.promotion.message).toMatch(/step 'ff' \(fail\) config\.bogus: unknown field/)
  })

  it('unknown and Enterprise steps error with a clear message', async () => {
    let r = await runPromotion(promotion([{ uses: 'jira', as: 'j' }]), options())
    expect(r.promotion.phase).toBe('Errored')
    expect(r.promotion.message).toMatch(
      /step 'jira' is not available: it is a Kargo Enterprise step/
    )
    r = await runPromotion(promotion([{ uses: 'helm-update-image' }]), options())
    expect(r.promotion.message).toMatch(/removed in Kargo v1\.3\.0/)
  })

  it('fail step fails the promotion', async () => {
    const r = await runPromotion(
      promotion([
        {
          uses: 'fail',
          as: 'stop',
          if: '${{ ctx.stage == "dev" }}',
          config: { message: 'not in dev' }
        },
        { uses: 'record', as: 'never' }
      ]),
      options()
    )
    expect(r.promotion.phase).toBe('Failed')
    expect(r.promotion.message).toBe("step 'stop' (fail): not in dev")
    expect(statuses(r.promotion)).toEqual(['stop=Failed', 'never=Skipped'])
  })

  it('Running: saved, then resumed by a second run with outputs kept', async () => {
    const steps: InflatedStep[] = [
      { uses: 'record', as: 'before', config: { v: 1 } },
      { uses: 'waiter', as: 'wait', config: { open: '${{ vars.open == "yes" }}' } },
      {
        uses: 'record',
        as: 'after',
        config: { got: '${{ outputs.before.v }}', tries: '${{ outputs.wait.attempts }}' }
      }
    ]
    const first = await runPromotion(
      promotion(steps, { vars: [{ name: 'open', value: 'no' }] }),
      options()
    )
    expect(first.promotion.phase).toBe('Running')
    expect(first.promotion.currentStep).toBe(1)
    expect(first.promotion.message).toBe('waiting on wait: attempt 1')
    expect(first.promotion.state.wait).toEqual({ attempts: 1 })
    expect(first.promotion.finishedAt).toBeUndefined()
    expect(statuses(first.promotion)).toEqual(['before=Succeeded', 'wait=Running'])

    // Still waiting on the next run: previousOutputs carried the count.
    const second = await runPromotion(JSON.parse(JSON.stringify(first.promotion)), options())
    expect(second.promotion.phase).toBe('Running')
    expect(second.promotion.state.wait).toEqual({ attempts: 2 })

    // The gate opens (the promotion's vars say so now); the run resumes at the waiting step.
    calls.length = 0
    const resumed = { ...second.promotion, vars: [{ name: 'open', value: 'yes' }] }
    const third = await runPromotion(resumed, options())
    expect(third.promotion.phase).toBe('Succeeded')
    expect(calls).toEqual(['after:{"got":1,"tries":3}'])
    expect(third.promotion.state.before).toEqual({ v: 1, alias: 'before' })
  })

  it('waitMs polls in place, bounded', async () => {
    const o = options({ waitMs: 3500 })
    const r = await runPromotion(
      promotion([{ uses: 'waiter', as: 'w', config: { open: false } }]),
      o
    )
    expect(r.promotion.phase).toBe('Running')
    // attempts at 0s, 1s, 2s, 3s and a last one at 3.5s
    expect(r.promotion.state.w).toEqual({ attempts: 5 })
  })

  it('retry.timeout ends a Running step (and the step default applies)', async () => {
    const start = clock
    const steps: InflatedStep[] = [
      { uses: 'waiter', as: 'w', retry: { timeout: '10m' }, config: { open: false } }
    ]
    let r = await runPromotion(promotion(steps), options())
    expect(r.promotion.phase).toBe('Running')
    clock = start + 11 * 60_000
    r = await runPromotion(r.promotion, options())
    expect(r.promotion.phase).toBe('Errored')
    expect(r.promotion.message).toMatch(
      /step 'w' \(waiter\): timed out after 10m \(last: attempt 2\)/
    )

    // slow-waiter has a 5m default timeout.
    r = await runPromotion(promotion([{ uses: 'slow-waiter', as: 's' }]), options())
    clock += 6 * 60_000
    r = await runPromotion(r.promotion, options())
    expect(r.promotion.message).toMatch(/timed out after 5m/)
  })

  it('abort: a signalled run ends Aborted', async () => {
    const ac = new AbortController()
    ac.abort()
    const r = await runPromotion(promotion([{ uses: 'record' }]), options({ signal: ac.signal }))
    expect(r.promotion.phase).toBe('Aborted')
  })

  it('effects, health checks, and terminal promotions are returned untouched', async () => {
    const r = await runPromotion(
      promotion([
        { uses: 'effectful', as: 'e' },
        {
          uses: 'set-metadata',
          as: 'md',
          config: {
            updates: [
              {
                kind: 'Freight',
                name: '${{ ctx.targetFreight.name }}',
                values: { approvedBy: '${{ ctx.meta.promotion.actor }}' }
              }
            ]
          }
        },
        { uses: 'set-freight-alias', as: 'al', config: { name: freight.name, alias: 'new-alias' } }
      ]),
      options()
    )
    expect(r.promotion.phase).toBe('Succeeded')
    expect(r.effects).toEqual([
      { kind: 'metadata', target: 'Stage', name: 'dev', values: { x: 1 } },
      { kind: 'metadata', target: 'Freight', name: freight.name, values: { approvedBy: 'alice' } },
      { kind: 'freight-alias', freight: freight.name, alias: 'new-alias' }
    ])
    expect(r.healthChecks).toEqual([{ uses: 'argocd', input: { app: 'a' } }])
    expect(r.promotion.healthChecks).toEqual(r.healthChecks)
    const again = await runPromotion(r.promotion, options())
    expect(again.promotion).toEqual(r.promotion)
  })

  it("any step's effects and health checks are masked before they leave the engine", async () => {
    registerSecret('tok-12345')
    const leaky = step('leaky', async () => ({
      status: 'Succeeded',
      effects: [
        { kind: 'metadata', target: 'Stage', name: 'dev', values: { note: 'key tok-12345' } },
        { kind: 'freight-alias', freight: freight.name, alias: 'tok-12345' }
      ],
      healthCheck: { uses: 'argocd', input: { header: 'Bearer tok-12345' } }
    }))
    const r = await runPromotion(
      promotion([{ uses: 'leaky' }]),
      options({ steps: new Map([...registry, ['leaky', leaky]]) })
    )
    expect(r.promotion.phase).toBe('Succeeded')
    expect(JSON.stringify([r.effects, r.healthChecks, r.promotion])).not.toContain('tok-12345')
    expect(r.effects[0]).toMatchObject({ values: { note: 'key ***' } })
    expect(r.healthChecks).toEqual([{ uses: 'argocd', input: { header: 'Bearer ***' } }])
  })

  it('secret() values are masked in messages', async () => {
    const r = await runPromotion(
      promotion([
        { uses: 'failing', as: 's', config: { message: 'token=${{ secret("token") }}' } }
      ]),
      options()
    )
    expect(r.promotion.message).toBe("step 's' (failing): token=***")
  })

  it('missing freight errors the promotion', async () => {
    const r = await runPromotion(promotion([{ uses: 'record' }], { freight: 'nope' }), options())
    expect(r.promotion.phase).toBe('Errored')
    expect(r.promotion.message).toMatch(/freight 'nope'/)
  })
})

describe('tasks', () => {
  const catalog = {
    promotionTasks: new Map([
      [
        'promote',
        {
          spec: {
            vars: [
              { name: 'image', value: 'ghcr.io/akuity/guestbook' },
              { name: 'branch', value: 'main' },
              { name: 'repoURL' },
              { name: 'mode', value: 'task-default' }
            ],
            steps: [
              {
                uses: 'record',
                as: 'first',
                config: {
                  image: '${{ vars.image }}',
                  branch: '${{ vars.branch }}',
                  repo: '${{ vars.repoURL }}',
                  mode: '${{ vars.mode }}'
                }
              },
              {
                uses: 'record',
                config: {
                  fromFirst: '${{ task.outputs.first.image }}',
                  viaOutputs: "${{ outputs['deploy::first'].branch }}"
                }
              },
              {
                uses: 'compose-output',
                as: 'out',
                config: {
                  tag: '${{ imageFrom(vars.image).Tag }}',
                  commit: '${{ task.outputs["step-2"].fromFirst }}'
                }
              },
              { uses: 'record', as: 'guarded', if: '${{ vars.branch == "main" }}' }
            ]
          }
        }
      ]
    ]),
    clusterPromotionTasks: new Map([['shared', { spec: { steps: [{ uses: 'record', as: 's' }] } }]])
  }

  it('inflates with aliases, vars precedence and if', () => {
    const steps = inflateSteps(
      [
        { uses: 'record' },
        {
          task: { name: 'promote' },
          as: 'deploy',
          if: '${{ ctx.stage != "prod" }}',
          vars: [
            { name: 'repoURL', value: 'https://example.com/r.git' },
            { name: 'branch', value: 'step-branch' }
          ]
        },
        { task: { name: 'shared', kind: 'ClusterPromotionTask' } }
      ],
      catalog,
      [
        { name: 'image', value: 'promo-image' },
        { name: 'branch', value: 'promo-branch' }
      ]
    )
    expect(steps.map((s) => s.as ?? '(default)')).toEqual([
      '(default)',
      'deploy::first',
      'deploy::step-2',
      'deploy::out',
      'deploy::guarded',
      'task-3::s'
    ])
    expect(steps[1].taskAlias).toBe('deploy')
    // image: promotion var wins over the task default (so the default is not copied);
    // branch: the task step's var wins over both; mode: task default.
    expect(steps[1].vars).toEqual([
      { name: 'mode', value: 'task-default' },
      { name: 'repoURL', value: 'https://example.com/r.git' },
      { name: 'branch', value: 'step-branch' }
    ])
    expect(steps[1].if).toBe('${{ ctx.stage != "prod" }}')
    expect(steps[4].if).toBe('${{ (ctx.stage != "prod") && (vars.branch == "main") }}')
  })

  it('a required task var that nothing sets is an error', () => {
    expect(() => inflateSteps([{ task: { name: 'promote' }, as: 'd' }], catalog, [])).toThrow(
      /PromotionTask 'promote' needs a value for variable 'repoURL'/
    )
    expect(() => inflateSteps([{ task: { name: 'missing' } }], catalog, [])).toThrow(
      /PromotionTask 'missing' does not exist/
    )
  })

  it('runs inflated steps: task.outputs inside, compose-output to outputs.<taskAlias>', async () => {
    const promoVars = [{ name: 'image', value: 'ghcr.io/akuity/guestbook' }]
    const steps = inflateSteps(
      [
        {
          task: { name: 'promote' },
          as: 'deploy',
          vars: [{ name: 'repoURL', value: 'https://example.com/r.git' }]
        },
        {
          uses: 'record',
          as: 'final',
          config: { tag: '${{ outputs.deploy.tag }}', commit: '${{ outputs.deploy.commit }}' }
        }
      ],
      catalog,
      promoVars
    )
    const r = await runPromotion(promotion(steps, { vars: promoVars }), options())
    expect(r.promotion.phase).toBe('Succeeded')
    expect(r.promotion.state['deploy::first']).toMatchObject({
      image: 'ghcr.io/akuity/guestbook',
      branch: 'main',
      repo: 'https://example.com/r.git',
      mode: 'task-default'
    })
    expect(r.promotion.state['deploy::step-2']).toMatchObject({
      fromFirst: 'ghcr.io/akuity/guestbook',
      viaOutputs: 'main'
    })
    expect(r.promotion.state.deploy).toEqual({ tag: 'v1.2.3', commit: 'ghcr.io/akuity/guestbook' })
    expect(r.promotion.state.final).toMatchObject({
      tag: 'v1.2.3',
      commit: 'ghcr.io/akuity/guestbook'
    })
    expect(statuses(r.promotion)).toContain('deploy::guarded=Succeeded')
  })
})
