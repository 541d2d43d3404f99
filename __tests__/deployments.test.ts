import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals'
import { startGitHubFake, type GitHubFake } from './support/github-fake.js'
import { makeGitHubRepo } from './support/github-repos.js'
import { gitIn, tempDir } from './support/git.js'
import { testServices } from './support/step-context.js'
import {
  deploymentStateFor,
  environmentUrlFromMetadata,
  recordDeployment
} from '../src/integrations/deployments.js'
import type { Services } from '../src/runtime/services.js'
import type { Promotion } from '../src/state/types.js'
import { MemoryLogger } from '../src/util/logger.js'

const TOKEN = 'ghs_deploymentsTESTtoken42'
let fake: GitHubFake
let services: Services
let sha: string

beforeAll(async () => {
  const root = tempDir()
  fake = await startGitHubFake({ token: TOKEN })
  const r = makeGitHubRepo(root, 'acme', 'shop')
  gitIn(r.work, 'push', '-q', 'origin', 'main:stage/prod')
  sha = gitIn(r.work, 'rev-parse', 'HEAD')
  fake.addRepo('acme', 'shop', r.bare)
  services = testServices({
    github: { token: TOKEN, apiUrl: fake.url, serverUrl: 'https://github.com', hosts: [] }
  })
})
afterEach(() => fake.assertNoViolations())
afterAll(async () => fake.close())

function promotion(name: string, phase: Promotion['phase'] = 'Running'): Promotion {
  return {
    name,
    stage: 'prod',
    freight: 'a'.repeat(40),
    phase,
    createdAt: '2025-01-01T00:00:00Z',
    runURL: 'https://github.com/acme/shop/actions/runs/77',
    steps: [],
    currentStep: 0,
    stepExecutionMetadata: [],
    state: {}
  }
}

const base = () => ({
  services,
  logger: new MemoryLogger(),
  repository: 'acme/shop',
  stage: 'prod',
  freightAlias: 'brave-otter',
  ref: 'stage/prod'
})

describe('recordDeployment', () => {
  it('creates one deployment per promotion and moves it in_progress → success', async () => {
    const p = promotion('prod.01abc.aaaaaaa')
    const first = await recordDeployment({
      ...base(),
      promotion: p,
      state: 'in_progress',
      stageMetadata: { url: 'https://shop.example.com' }
    })
    expect(first.created).toBe(true)
    const d = fake.deployments.find((x) => x.id === first.deploymentId)!
    expect(d.environment).toBe('prod')
    expect(d.ref).toBe('stage/prod')
    expect(d.sha).toBe(sha)
    expect(d.task).toBe('deploy')
    expect(d.payload).toMatchObject({
      waybill: { promotion: p.name, freight: p.freight, alias: 'brave-otter', stage: 'prod' }
    })
    const create = fake.requests.find((r) => r.operationId === 'repos/create-deployment')!
    expect(create.body).toMatchObject({ auto_merge: false, required_contexts: [] })
    expect(create.authorized).toBe(true)

    // A later run (no remembered ID) finds the same deployment by its payload.
    const second = await recordDeployment({
      ...base(),
      promotion: { ...p, phase: 'Succeeded' },
      state: 'success',
      stageMetadata: { url: 'https://shop.example.com' }
    })
    expect(second).toMatchObject({ deploymentId: first.deploymentId, created: false })
    expect(fake.deployments.filter((x) => x.environment === 'prod')).toHaveLength(1)
    expect(d.statuses.map((s) => s.state)).toEqual(['in_progress', 'success'])
    expect(d.statuses[1].environment_url).toBe('https://shop.example.com')
    expect(d.statuses[1].log_url).toBe(p.runURL)
    expect(d.statuses[1].description).toBe('Promoted brave-otter → prod')

    // Idempotent: the same state again posts nothing.
    const again = await recordDeployment({
      ...base(),
      promotion: { ...p, phase: 'Succeeded' },
      state: 'success',
      deploymentId: first.deploymentId
    })
    expect(again.statusPosted).toBe(false)
    expect(d.statuses).toHaveLength(2)
  })

  it('records a failed promotion, with environmentUrl from metadata', async () => {
    const p = promotion('prod.01abd.aaaaaaa', 'Failed')
    const r = await recordDeployment({
      ...base(),
      promotion: p,
      state: 'failure',
      stageMetadata: { environmentUrl: 'https://prod.example.com', url: 42 }
    })
    const d = fake.deployments.find((x) => x.id === r.deploymentId)!
    expect(d.statuses.map((s) => [s.state, s.environment_url, s.description])).toEqual([
      ['failure', 'https://prod.example.com', 'Promotion of brave-otter → prod failed']
    ])
    // Another promotion gets its own deployment.
    expect(fake.deployments.filter((x) => x.environment === 'prod').length).toBe(2)
  })

  it('names the promotion, the repository and the status on errors', async () => {
    // A remembered deployment that no longer exists.
    await expect(
      recordDeployment({
        ...base(),
        promotion: promotion('prod.01abe.aaaaaaa'),
        state: 'in_progress',
        deploymentId: 999999
      })
    ).rejects.toThrow(/deployment of prod\.01abe\.aaaaaaa in acme\/shop failed \(HTTP 404\)/)
    await expect(
      recordDeployment({
        ...base(),
        repository: 'not a repo',
        promotion: promotion('x'),
        state: 'success'
      })
    ).rejects.toThrow(/is not owner\/repo/)
  })
})

describe('helpers', () => {
  it('reads the environment URL from stage metadata, http(s) only', () => {
    expect(environmentUrlFromMetadata({ url: 'https://a.example' })).toBe('https://a.example')
    expect(environmentUrlFromMetadata({ environmentUrl: 'http://b.example/x' })).toBe(
      'http://b.example/x'
    )
    expect(environmentUrlFromMetadata({ url: 'javascript:alert(1)' })).toBeUndefined()
    expect(environmentUrlFromMetadata(undefined)).toBeUndefined()
  })
  it('maps promotion phases to deployment states', () => {
    expect(deploymentStateFor('Running')).toBe('in_progress')
    expect(deploymentStateFor('Succeeded')).toBe('success')
    expect(deploymentStateFor('Errored')).toBe('failure')
    expect(deploymentStateFor('Pending')).toBeUndefined()
  })
})
