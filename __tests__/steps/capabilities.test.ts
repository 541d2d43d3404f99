import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from '@jest/globals'
import { z } from 'zod'
import { runPromotion } from '../../src/promotion/engine.js'
import { CAPABILITIES, grantCapabilities } from '../../src/steps/capabilities.js'
import { defineStep } from '../../src/steps/define.js'
import { stepRegistry } from '../../src/steps/registry.js'
import type { AnyStepDefinition, StepContext } from '../../src/steps/types.js'
import type { Services } from '../../src/runtime/services.js'
import { emptyState, type Promotion } from '../../src/state/types.js'
import { MemoryLogger } from '../../src/util/logger.js'
import { testFreight, testServices } from '../support/step-context.js'

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'waybill-caps-'))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

/** Every credential a run may hold, each a distinctive string to search for. */
const SECRETS = {
  github: 'ghp_probe_github_token_1111',
  git: 'probe_git_token_2222',
  registryPassword: 'probe_registry_password_3333',
  registryToken: 'probe_registry_token_4444',
  argocd: 'probe_argocd_token_5555',
  secret: 'probe_secret_value_6666'
}

function secretServices(): Services {
  return testServices({
    gitCredentials: [{ urlPrefix: 'https://git.example/', credentials: { token: SECRETS.git } }],
    registryCredentials: {
      'registry.example': { username: 'u', password: SECRETS.registryPassword },
      'other.example': { token: SECRETS.registryToken }
    },
    secrets: { db: SECRETS.secret },
    github: {
      token: SECRETS.github,
      apiUrl: 'http://127.0.0.1:9/api',
      serverUrl: 'http://127.0.0.1:9',
      hosts: []
    },
    argocd: { server: 'http://127.0.0.1:9', token: SECRETS.argocd, namespace: 'argocd' }
  })
}

/** Every string reachable from `root` through properties (own, enumerable or not) and prototypes. */
function reachableStrings(root: unknown): string[] {
  const out: string[] = []
  const seen = new Set<unknown>()
  const visit = (v: unknown, depth: number): void => {
    if (typeof v === 'string') {
      out.push(v)
      return
    }
    if ((typeof v !== 'object' && typeof v !== 'function') || v === null || seen.has(v)) return
    if (depth > 50) return
    seen.add(v)
    for (const key of Reflect.ownKeys(v)) {
      if (typeof key === 'string') out.push(key)
      const desc = Object.getOwnPropertyDescriptor(v, key)
      if (desc && 'value' in desc) visit(desc.value, depth + 1)
    }
    const proto = Object.getPrototypeOf(v)
    if (proto && proto !== Object.prototype && proto !== Function.prototype) visit(proto, depth + 1)
  }
  visit(root, 0)
  return out
}

function leaks(root: unknown): string[] {
  const strings = reachableStrings(root)
  return Object.values(SECRETS).filter((s) => strings.some((x) => x.includes(s)))
}

function promotion(steps: unknown[]): Promotion {
  const f = testFreight()
  return {
    name: 'dev.01jcaps.0123456',
    stage: 'dev',
    freight: f.name,
    phase: 'Pending',
    createdAt: '2026-01-01T00:00:00Z',
    steps,
    currentStep: 0,
    stepExecutionMetadata: [],
    state: {}
  }
}

/** Runs one promotion with the given steps registered, returning what each step's ctx was. */
async function runWith(defs: AnyStepDefinition[], steps: unknown[]) {
  const state = emptyState()
  const f = testFreight()
  state.freight[f.name] = f
  const r = await runPromotion(promotion(steps), {
    state,
    project: 'p',
    services: secretServices(),
    logger: new MemoryLogger(),
    workRoot: path.join(tmp, 'run'),
    now: () => new Date(),
    waitMs: 0,
    steps: new Map([...stepRegistry, ...defs.map((d) => [d.name, d] as const)])
  })
  return r
}

describe('step capabilities', () => {
  it('the search finds a credential when one is reachable (control)', () => {
    expect(leaks({ services: secretServices() }).sort()).toEqual(Object.values(SECRETS).sort())
  })

  it('a step that declared nothing cannot reach any token, password or secret', async () => {
    let seen: StepContext | undefined
    const probe = defineStep({
      name: 'probe',
      schema: z.strictObject({}),
      async run(_config, ctx) {
        seen = ctx
        return { status: 'Succeeded' }
      }
    })
    const r = await runWith([probe], [{ uses: 'probe', as: 'probe' }])
    expect(r.promotion.phase).toBe('Succeeded')
    expect(seen).toBeDefined()
    expect(Reflect.ownKeys(seen!.caps)).toEqual([])
    expect(leaks(seen)).toEqual([])
    expect('services' in seen!).toBe(false)
  })

  it('a step receives exactly the capabilities it declared', async () => {
    const got: Record<string, unknown> = {}
    const withSecret = defineStep({
      name: 'needs-secret',
      schema: z.strictObject({}),
      capabilities: ['secret'],
      async run(_config, ctx) {
        got.keys = Reflect.ownKeys(ctx.caps)
        got.secret = ctx.caps.secret('db')
        got.missing = ctx.caps.secret('nope')
        got.inherited = ctx.caps.secret('toString')
        return { status: 'Succeeded' }
      }
    })
    const withGit = defineStep({
      name: 'needs-git',
      schema: z.strictObject({}),
      capabilities: ['gitCredentials'],
      async run(_config, ctx) {
        got.gitKeys = Reflect.ownKeys(ctx.caps)
        got.creds = ctx.caps.gitCredentials('https://git.example/org/repo.git')
        got.gitLeaks = leaks(ctx)
        return { status: 'Succeeded' }
      }
    })
    const r = await runWith(
      [withSecret, withGit],
      [{ uses: 'needs-secret' }, { uses: 'needs-git' }]
    )
    expect(r.promotion.phase).toBe('Succeeded')
    expect(got).toEqual({
      keys: ['secret'],
      secret: SECRETS.secret,
      missing: undefined,
      inherited: undefined,
      gitKeys: ['gitCredentials'],
      creds: { token: SECRETS.git, urlPrefix: 'https://git.example/' },
      gitLeaks: []
    })
  })

  it('secret() in a config expression is evaluated by the engine for any step', async () => {
    let message: unknown
    const echo = defineStep({
      name: 'echo',
      schema: z.strictObject({ message: z.string() }),
      async run(config) {
        message = config.message
        return { status: 'Succeeded' }
      }
    })
    await runWith([echo], [{ uses: 'echo', config: { message: '${{ secret("db") }}' } }])
    expect(message).toBe(SECRETS.secret)
  })

  it('capabilities without credentials expose none', () => {
    const logger = new MemoryLogger()
    for (const c of ['tools', 'gitHosts'] as const) {
      expect(leaks(grantCapabilities([c], secretServices(), { logger }))).toEqual([])
    }
    expect(Reflect.ownKeys(grantCapabilities([], secretServices(), { logger }))).toEqual([])
    expect(Reflect.ownKeys(grantCapabilities(CAPABILITIES, secretServices(), { logger }))).toEqual([
      ...CAPABILITIES
    ])
  })

  it('built-in steps declare only capabilities that exist; control and file steps none', () => {
    for (const def of stepRegistry.values()) {
      for (const c of def.capabilities) expect(CAPABILITIES).toContain(c)
    }
    const none = ['compose-output', 'fail', 'set-metadata', 'set-freight-alias', 'http', 'copy']
    for (const name of none)
      expect([name, stepRegistry.get(name)!.capabilities]).toEqual([name, []])
  })
})
