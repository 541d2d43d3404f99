import { describe, expect, it } from '@jest/globals'
import path from 'node:path'
import { createContext, servicesFromOptions } from '../../src/runtime/create-context.js'
import { optionsFromFlags, optionsFromInputs } from '../../src/runtime/options.js'
import { MemoryLogger } from '../../src/util/logger.js'

/** Action inputs as the runner passes them: every declared input, empty when not set. */
function inputs(values: Record<string, string>) {
  return {
    get: (name: string) => values[name] ?? '',
    multiline: (name: string) =>
      (values[name] ?? '')
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean)
  }
}

const ENV = { PATH: '/usr/bin' }

describe('WaybillOptions', () => {
  it('the same credentials as inputs or flags give the same services', () => {
    const fromInputs = optionsFromInputs(
      inputs({
        token: 'ghs_options0001',
        'github-api-url': 'http://127.0.0.1:9/api',
        'github-hosts': 'git.example\nghe.example',
        'insecure-registries': 'reg.example:5000',
        'registry-credentials': 'reg.example:5000=u:regpass0002',
        secrets: 'api=apikey0003',
        'argocd-server': 'https://argocd.example',
        'argocd-token': 'argotoken0004',
        'argocd-namespace': 'apps',
        'argocd-insecure': 'true'
      }),
      ENV
    )
    const fromFlags = optionsFromFlags(
      {
        token: 'ghs_options0001',
        'github-api-url': 'http://127.0.0.1:9/api',
        'github-host': ['git.example', 'ghe.example'],
        'insecure-registry': ['reg.example:5000'],
        'registry-credentials': 'reg.example:5000=u:regpass0002',
        secrets: 'api=apikey0003',
        'argocd-server': 'https://argocd.example',
        'argocd-token': 'argotoken0004',
        'argocd-namespace': 'apps',
        'argocd-insecure': true
      },
      ENV
    )
    expect(fromFlags.services).toEqual(fromInputs.services)
    const services = servicesFromOptions(fromInputs.services, ENV)
    expect(services.github).toMatchObject({
      token: 'ghs_options0001',
      apiUrl: 'http://127.0.0.1:9/api',
      hosts: ['git.example', 'ghe.example']
    })
    expect(services.registryCredentials['reg.example:5000']).toEqual({
      username: 'u',
      password: 'regpass0002'
    })
    expect(services.secrets).toEqual({ api: 'apikey0003' })
    expect(services.argocd).toEqual({
      server: 'https://argocd.example',
      token: 'argotoken0004',
      insecure: true,
      namespace: 'apps'
    })
  })

  it('unset credentials fall back to the environment, for either entry point', () => {
    const env = {
      GITHUB_TOKEN: 'ghs_fromenv0005',
      WAYBILL_SECRETS: 'k=envsecret0006',
      ARGOCD_SERVER: 'https://argocd.env'
    }
    for (const o of [optionsFromInputs(inputs({}), env), optionsFromFlags({}, env)]) {
      const s = servicesFromOptions(o.services, env)
      expect(s.github.token).toBe('ghs_fromenv0005')
      expect(s.secrets).toEqual({ k: 'envsecret0006' })
      expect(s.argocd).toMatchObject({ server: 'https://argocd.env', namespace: 'argocd' })
    }
  })

  it('the action defaults to the workspace, the run URL, JSON output and deployments', () => {
    const env = {
      GITHUB_WORKSPACE: '/ws',
      GITHUB_REPOSITORY: 'acme/gitops',
      GITHUB_RUN_ID: '42',
      GITHUB_ACTOR: 'octocat'
    }
    const o = optionsFromInputs(inputs({ 'repo-dir': 'sub', wait: '30' }), env)
    expect(o).toMatchObject({
      repoDir: '/ws/sub',
      configDir: '.waybill',
      stateBranch: 'waybill/state',
      remote: 'origin',
      project: 'gitops',
      json: true,
      actor: 'octocat',
      repository: 'acme/gitops',
      runURL: 'https://github.com/acme/gitops/actions/runs/42',
      deployments: true,
      waitSeconds: 30
    })
    expect(optionsFromInputs(inputs({ deployments: 'false' }), env).deployments).toBe(false)
  })

  it('the CLI defaults to the current directory and no deployments', () => {
    const o = optionsFromFlags({ json: true, wait: '5', 'state-branch': 'st' }, {})
    expect(o).toMatchObject({
      repoDir: path.resolve('.'),
      configDir: '.waybill',
      stateBranch: 'st',
      remote: 'origin',
      project: undefined,
      json: true,
      verbose: false,
      deployments: false,
      waitSeconds: 5
    })
  })

  it('createContext turns options into the command context', () => {
    const logger = new MemoryLogger()
    const printed: string[] = []
    const ctx = createContext(optionsFromFlags({ wait: '2', actor: 'me' }, {}), {
      logger,
      env: {},
      print: (t) => printed.push(t)
    })
    expect(ctx).toMatchObject({ waitMs: 2000, actor: 'me', logger, json: false })
    ctx.print('hello')
    expect(printed).toEqual(['hello'])
    expect(ctx.services.github.apiUrl).toBe('https://api.github.com')
  })

  it('wait takes Go durations or plain seconds, from either entry point', () => {
    for (const [raw, seconds] of [
      ['5m', 300],
      ['1h30m', 5400],
      ['90', 90],
      ['1.5s', 1.5],
      ['', 0]
    ] as const) {
      expect(optionsFromInputs(inputs({ wait: raw }), {}).waitSeconds).toBe(seconds)
      expect(optionsFromFlags({ wait: raw }, {}).waitSeconds).toBe(seconds)
    }
    expect(() => optionsFromInputs(inputs({ wait: 'soon' }), {})).toThrow(
      /input 'wait' is not a duration: "soon"/
    )
    expect(() => optionsFromInputs(inputs({ wait: '-5m' }), {})).toThrow(
      /'wait' must not be negative/
    )
  })

  it('boolean inputs follow YAML 1.2 (true/True/TRUE, false/False/FALSE); anything else is an error', () => {
    for (const v of ['false', 'False', 'FALSE'])
      expect(optionsFromInputs(inputs({ deployments: v }), {}).deployments).toBe(false)
    for (const v of ['true', 'True', 'TRUE']) {
      const o = optionsFromInputs(inputs({ 'argocd-insecure': v, 'dry-run': v }), {})
      expect(o.services.argocdInsecure).toBe(true)
      expect(o.dryRun).toBe(true)
    }
    expect(optionsFromInputs(inputs({}), {}).dryRun).toBe(false)
    for (const [name, v] of [
      ['deployments', 'no'],
      ['argocd-insecure', 'yes'],
      ['dry-run', '1']
    ])
      expect(() => optionsFromInputs(inputs({ [name]: v }), {})).toThrow(
        new RegExp(`input '${name}' must be true or false`)
      )
  })

  it('git identity: github-actions[bot] in the action, Waybill in the CLI, Name <email> when given', () => {
    const bot = {
      name: 'github-actions[bot]',
      email: '41898282+github-actions[bot]@users.noreply.github.com'
    }
    expect(optionsFromInputs(inputs({}), {}).gitIdentity).toEqual({ author: bot })
    expect(optionsFromFlags({}, {}).gitIdentity).toEqual({
      author: { name: 'Waybill', email: 'waybill@users.noreply.github.com' }
    })
    const given = optionsFromInputs(
      inputs({ 'commit-author': 'Rel Bot <rel@example.com>', committer: 'CI <ci@example.com>' }),
      {}
    ).gitIdentity
    expect(given).toEqual({
      author: { name: 'Rel Bot', email: 'rel@example.com' },
      committer: { name: 'CI', email: 'ci@example.com' }
    })
    expect(
      optionsFromFlags({ 'commit-author': 'Rel Bot <rel@example.com>' }, {}).gitIdentity
    ).toEqual({ author: { name: 'Rel Bot', email: 'rel@example.com' } })
    expect(() => optionsFromInputs(inputs({ committer: 'just a name' }), {})).toThrow(
      /input 'committer' must be 'Name <email>'/
    )
    // The context hands it to Services, where steps and state commits read it.
    const ctx = createContext(optionsFromInputs(inputs({}), {}), {
      logger: new MemoryLogger(),
      env: {},
      print: () => undefined
    })
    expect(ctx.services.gitIdentity).toEqual({ author: bot })
  })

  it('GitHub App credentials from inputs, or from flags and WAYBILL_APP_* in the CLI', () => {
    const app = { appId: '123', privateKey: 'PEM', installationId: 9 }
    expect(
      optionsFromInputs(
        inputs({ 'app-id': '123', 'private-key': 'PEM', 'installation-id': '9' }),
        {}
      ).services.app
    ).toEqual(app)
    expect(optionsFromInputs(inputs({}), {}).services.app).toBeUndefined()
    expect(
      optionsFromFlags(
        { 'app-id': '123', 'installation-id': '9' },
        { WAYBILL_APP_PRIVATE_KEY: 'PEM' }
      ).services.app
    ).toEqual(app)
    expect(
      optionsFromFlags({}, { WAYBILL_APP_ID: '123', WAYBILL_APP_PRIVATE_KEY: 'PEM' }).services.app
    ).toEqual({ appId: '123', privateKey: 'PEM' })
    expect(() => optionsFromInputs(inputs({ 'app-id': '123' }), {})).toThrow(
      /input 'app-id' needs input 'private-key'/
    )
    expect(() =>
      optionsFromInputs(inputs({ 'app-id': '1', 'private-key': 'k', 'installation-id': 'x' }), {})
    ).toThrow(/input 'installation-id' must be a number/)
  })
})
