import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals'
import { startGitHubFake, type GitHubFake } from '../support/github-fake.js'
import { emptyState, stepContext, testServices } from '../support/step-context.js'
import { waitForApproval } from '../../src/steps/approval/wait-for-approval.js'
import { getUserInput } from '../../src/steps/approval/get-user-input.js'
import { unknownStepMessage } from '../../src/steps/names.js'
import type { Services } from '../../src/runtime/services.js'
import type { StepResponse } from '../../src/state/types.js'
import type { StepDefinition } from '../../src/steps/types.js'
import type { Capability } from '../../src/steps/capabilities.js'

const TOKEN = 'ghs_waybillApprovalToken123'
const SERVER = 'http://github.test'
const REPO_URL = `${SERVER}/acme/app`
const PROMOTION = 'prod.01japproval.0123456'

let fake: GitHubFake
let services: Services

beforeAll(async () => {
  fake = await startGitHubFake({ token: TOKEN })
  fake.addRepo('acme', 'app', '/nonexistent')
  fake.teams.set('acme/sre', new Set(['alice', 'bob']))
  fake.teams.set('other/leads', new Set(['carol']))
  fake.collaborators.set(
    'acme/app',
    new Map([
      ['alice', 'write'],
      ['bob', 'maintain'],
      ['carol', 'admin'],
      ['dave', 'release-manager'],
      ['erin', 'triage']
    ])
  )
  fake.users.set('alice', { email: 'alice@acme.test' })
  fake.users.set('bob', {})
  services = testServices({
    github: { token: TOKEN, apiUrl: fake.url, serverUrl: SERVER, hosts: ['github.test'] }
  })
})
afterEach(() => fake?.assertNoViolations())
afterAll(async () => {
  await fake?.close()
})

let clock = Date.parse('2026-03-01T10:00:00Z')
function response(
  actor: string,
  action: StepResponse['action'],
  extra: Partial<StepResponse> = {}
) {
  clock += 1000
  return {
    actor,
    action,
    at: new Date(clock).toISOString(),
    repositoryURL: REPO_URL,
    ...extra
  } satisfies StepResponse
}

async function run<C>(
  step: StepDefinition<C, Capability>,
  config: unknown,
  responses: StepResponse[]
) {
  const state = emptyState()
  state.responses = { [PROMOTION]: { approve: responses } }
  const ctx = stepContext({
    services,
    state,
    promotion: PROMOTION,
    alias: 'approve',
    stage: 'prod'
  })
  return step.run(step.parse(config), ctx)
}

describe('wait-for-approval', () => {
  it('is a step now, no longer refused as Enterprise-only', () => {
    expect(unknownStepMessage('wait-for-approval')).toBeUndefined()
    expect(unknownStepMessage('get-user-input')).toBeUndefined()
  })

  it('waits with no responses and says on whom', async () => {
    const res = await run(
      waitForApproval,
      { minApprovals: 2, approvers: [{ claim: 'team', value: 'acme/sre' }] },
      []
    )
    expect(res.status).toBe('Running')
    expect(res.message).toContain('waiting for approval: 0 of 2 from team acme/sre')
    expect(res.pollIntervalMs).toBe(30_000)
  })

  it('counts team members (GitHub teams API) and ignores others', async () => {
    const cfg = { minApprovals: 2, approvers: [{ claim: 'team', value: 'acme/sre' }] }
    const partial = await run(waitForApproval, cfg, [
      response('carol', 'approve'),
      response('alice', 'approve')
    ])
    expect(partial.status).toBe('Running')
    expect(partial.message).toContain('1 of 2 from team acme/sre')
    expect(partial.message).toContain('not counted (no rule matches): carol')
    const done = await run(waitForApproval, cfg, [
      response('alice', 'approve'),
      response('alice', 'approve'), // the same user counts once
      response('bob', 'approve', { message: 'lgtm' })
    ])
    expect(done.status).toBe('Succeeded')
    expect(done.outputs?.responses).toEqual([
      expect.objectContaining({ user: 'alice', action: 'approve' }),
      expect.objectContaining({ user: 'bob', action: 'approve', message: 'lgtm' })
    ])
  })

  it('a distinct user counts once', async () => {
    const res = await run(waitForApproval, { minApprovals: 2 }, [
      response('alice', 'approve'),
      response('Alice', 'approve')
    ])
    expect(res.status).toBe('Running')
    expect(res.message).toContain('1 of 2 from anyone')
  })

  it('maps roles to repository permission levels and custom roles', async () => {
    const maintain = { approvers: [{ role: 'maintain' }] }
    expect((await run(waitForApproval, maintain, [response('alice', 'approve')])).status).toBe(
      'Running'
    )
    expect((await run(waitForApproval, maintain, [response('bob', 'approve')])).status).toBe(
      'Succeeded'
    )
    expect((await run(waitForApproval, maintain, [response('carol', 'approve')])).status).toBe(
      'Succeeded'
    )
    // A custom role matches by name; and grants its base permission (write) to level rules.
    const custom = { approvers: [{ role: 'release-manager' }] }
    expect((await run(waitForApproval, custom, [response('dave', 'approve')])).status).toBe(
      'Succeeded'
    )
    expect((await run(waitForApproval, custom, [response('carol', 'approve')])).status).toBe(
      'Running'
    )
    const write = { approvers: [{ role: 'write' }] }
    expect((await run(waitForApproval, write, [response('dave', 'approve')])).status).toBe(
      'Succeeded'
    )
    expect((await run(waitForApproval, write, [response('erin', 'approve')])).status).toBe(
      'Running'
    )
    // Not a collaborator at all.
    expect((await run(waitForApproval, write, [response('zed', 'approve')])).status).toBe('Running')
  })

  it('matches login and public email claims; a bare team slug is the repository owner’s', async () => {
    const byLogin = { approvers: [{ claim: 'login', value: 'Bob' }] }
    expect((await run(waitForApproval, byLogin, [response('bob', 'approve')])).status).toBe(
      'Succeeded'
    )
    const byEmail = { approvers: [{ claim: 'email', value: 'alice@acme.test' }] }
    expect((await run(waitForApproval, byEmail, [response('alice', 'approve')])).status).toBe(
      'Succeeded'
    )
    expect((await run(waitForApproval, byEmail, [response('bob', 'approve')])).status).toBe(
      'Running'
    )
    // Kargo's `groups` claim reads as a team; without an org, the repository's.
    const groups = { approvers: [{ claim: 'groups', value: 'sre' }] }
    expect((await run(waitForApproval, groups, [response('alice', 'approve')])).status).toBe(
      'Succeeded'
    )
  })

  it('waits for a required rule even with enough approvals', async () => {
    const cfg = {
      minApprovals: 2,
      approvers: [{ claim: 'team', value: 'other/leads', required: true }, { role: 'write' }]
    }
    const res = await run(waitForApproval, cfg, [
      response('alice', 'approve'),
      response('bob', 'approve')
    ])
    expect(res.status).toBe('Running')
    expect(res.message).toContain('2 of 2')
    expect(res.message).toContain('required: one from team other/leads')
    const done = await run(waitForApproval, cfg, [
      response('alice', 'approve'),
      response('carol', 'approve')
    ])
    expect(done.status).toBe('Succeeded')
  })

  it('fails on a rejection by an eligible user, not by an ineligible one', async () => {
    const cfg = { approvers: [{ claim: 'team', value: 'acme/sre' }] }
    const ignored = await run(waitForApproval, cfg, [response('carol', 'reject')])
    expect(ignored.status).toBe('Running')
    const res = await run(waitForApproval, cfg, [
      response('alice', 'reject', { message: 'not during the freeze' })
    ])
    expect(res.status).toBe('Failed')
    expect(res.message).toContain('rejected by alice')
    expect(res.message).toContain('not during the freeze')
    expect(res.outputs?.responses).toEqual([
      expect.objectContaining({ user: 'alice', action: 'reject' })
    ])
  })

  it('validates its config with field names (Kargo examples parse unchanged)', () => {
    expect(() =>
      waitForApproval.parse({
        minApprovals: 2,
        approvers: [
          { claim: 'groups', value: 'platform-leads', required: true },
          { role: 'release-manager' }
        ]
      })
    ).not.toThrow()
    expect(() => waitForApproval.parse({ approvers: [{ claim: 'login' }] })).toThrow(
      /wait-for-approval\.approvers\[0\]\.value/
    )
    expect(() =>
      waitForApproval.parse({ approvers: [{ claim: 'login', value: 'a', role: 'admin' }] })
    ).toThrow(/approvers\[0\]\.role: set claim and value, or role, not both/)
    expect(() => waitForApproval.parse({ approvers: [{ claim: 'sub', value: 'x' }] })).toThrow(
      /approvers\[0\]\.claim/
    )
    expect(() => waitForApproval.parse({ minApprovals: 0 })).toThrow(/minApprovals/)
  })
})

describe('get-user-input', () => {
  const schema = {
    type: 'object',
    additionalProperties: false,
    required: ['version'],
    properties: { version: { type: 'string', pattern: '^v?[0-9]+\\.[0-9]+\\.[0-9]+$' } }
  }

  it('refuses a submission that violates the schema and accepts a valid one', async () => {
    const bad = await run(getUserInput, { schema, responders: [{ role: 'write' }] }, [
      response('alice', 'input', { values: { version: 'latest', extra: 1 } })
    ])
    expect(bad.status).toBe('Running')
    expect(bad.message).toContain('input from alice is invalid')
    expect(bad.message).toContain('version: must match pattern')
    expect(bad.message).toContain("must NOT have additional properties 'extra'")
    const good = await run(getUserInput, { schema, responders: [{ role: 'write' }] }, [
      response('erin', 'input', { values: { version: 'v9.9.9' } }), // triage: not a responder
      response('alice', 'input', { values: { version: 'v1.2.3' } })
    ])
    expect(good.status).toBe('Succeeded')
    expect(good.outputs).toEqual({
      values: { version: 'v1.2.3' },
      respondedBy: 'alice',
      respondedAt: expect.any(String)
    })
  })

  it('requires an object schema that compiles', () => {
    expect(() => getUserInput.parse({ schema: { type: 'string' } })).toThrow(
      /get-user-input\.schema: the schema's root must be `type: object`/
    )
    expect(() =>
      getUserInput.parse({ schema: { type: 'object', properties: { a: { type: 'nope' } } } })
    ).toThrow(/get-user-input\.schema: is not a valid JSON Schema/)
    expect(() => getUserInput.parse({})).toThrow(/get-user-input\.schema/)
  })
})
