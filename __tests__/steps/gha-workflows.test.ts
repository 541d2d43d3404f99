import fs from 'node:fs'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals'
import YAML from 'yaml'
import { tempDir } from '../support/git.js'
import { startGitHubFake, type GitHubFake } from '../support/github-fake.js'
import { makeGitHubRepo } from '../support/github-repos.js'
import { stepContext, testFreight, testServices } from '../support/step-context.js'
import {
  dispatchPolling,
  ghaDispatchWorkflow,
  workflowInputs
} from '../../src/steps/github/gha-dispatch-workflow.js'
import { ghaWaitForWorkflow } from '../../src/steps/github/gha-wait-for-workflow.js'
import { stepRegistry } from '../../src/steps/registry.js'
import { unknownStepMessage } from '../../src/steps/names.js'
import { runPromotion } from '../../src/promotion/engine.js'
import { emptyState, type Promotion, type State } from '../../src/state/types.js'
import type { Services } from '../../src/runtime/services.js'
import { MemoryLogger } from '../../src/util/logger.js'

const TOKEN = 'ghs_ghaWorkflowsTESTtoken7'
/** The API and web URLs the tests use: github.com names, served by the fake. */
const REPO_URL = 'https://github.com/acme/deployer'
let fake: GitHubFake
let services: Services
let root: string

beforeAll(async () => {
  root = tempDir()
  fake = await startGitHubFake({ token: TOKEN })
  const r = makeGitHubRepo(root, 'acme', 'deployer', { 'README.md': '# deployer\n' })
  fake.addRepo('acme', 'deployer', r.bare)
  fake.addWorkflow('acme/deployer', 'deploy.yml', { name: 'Deploy' })
  fake.addWorkflow('acme/deployer', 'build.yml', { dispatchable: false })
  // github.com repositories reach the fake's API: the server is github.com, the API the fake.
  services = testServices({
    github: { token: TOKEN, apiUrl: fake.url, serverUrl: 'https://github.com', hosts: [] }
  })
  dispatchPolling.intervalMs = 50
})
afterEach(() => {
  fake.forbidden.clear()
  fake.legacyDispatch = false
  fake.assertNoViolations()
})
afterAll(async () => {
  await fake?.close()
  fs.rmSync(root, { recursive: true, force: true })
})

const ctx = () => stepContext({ services, stage: 'prod' })

async function dispatch(config: Record<string, unknown>) {
  return ghaDispatchWorkflow.run(ghaDispatchWorkflow.parse(config), ctx())
}
async function wait(config: Record<string, unknown>) {
  return ghaWaitForWorkflow.run(ghaWaitForWorkflow.parse(config), ctx())
}

describe('gha-dispatch-workflow', () => {
  it('dispatches with the token and outputs the run ID GitHub returns', async () => {
    const res = await dispatch({
      repoURL: REPO_URL,
      workflowFile: 'deploy.yml',
      ref: 'main',
      inputs: { environment: 'prod', replicas: 3, dryRun: false },
      timeout: 120,
      insecureSkipTLSVerify: false
    })
    expect(res.status).toBe('Succeeded')
    const run = fake.workflowRuns.at(-1)!
    expect(res.outputs).toEqual({
      runID: run.id,
      runURL: `${fake.serverUrl}/acme/deployer/actions/runs/${run.id}`
    })
    expect(run).toMatchObject({ event: 'workflow_dispatch', headBranch: 'main', status: 'queued' })
    // Inputs travel as strings, as workflow_dispatch inputs do.
    expect(run.inputs).toEqual({ environment: 'prod', replicas: '3', dryRun: 'false' })
    const req = fake.requests.find((r) => r.operationId === 'actions/create-workflow-dispatch')!
    expect(req.authorized).toBe(true)
    expect(req.body).toMatchObject({ ref: 'main', return_run_details: true })
  })

  it('finds the run by listing when the server answers 204 without details', async () => {
    fake.legacyDispatch = true
    const before = fake.workflowRuns.length
    const res = await dispatch({
      repoURL: REPO_URL,
      workflowFile: '.github/workflows/deploy.yml',
      ref: 'main'
    })
    expect(fake.workflowRuns).toHaveLength(before + 1)
    expect(res.outputs?.runID).toBe(fake.workflowRuns.at(-1)!.id)
    expect(fake.requests.some((r) => r.operationId === 'actions/list-workflow-runs')).toBe(true)
  })

  it('validates config with Kargo v1.9 names (errors name the field)', () => {
    const base = { repoURL: REPO_URL, workflowFile: 'deploy.yml', ref: 'main' }
    expect(() => ghaDispatchWorkflow.parse({ ...base, timeout: 301 })).toThrow(
      /gha-dispatch-workflow\.timeout/
    )
    expect(() => ghaDispatchWorkflow.parse({ ...base, ref: undefined })).toThrow(
      /gha-dispatch-workflow\.ref/
    )
    // v1.8's owner/repo/credentials are gone in v1.9.
    expect(() => ghaDispatchWorkflow.parse({ ...base, owner: 'acme' })).toThrow(
      /gha-dispatch-workflow\.owner: unknown field/
    )
    const inputs = Object.fromEntries(Array.from({ length: 26 }, (_, i) => [`i${i}`, 'x']))
    expect(() => ghaDispatchWorkflow.parse({ ...base, inputs })).toThrow(
      /gha-dispatch-workflow\.inputs: GitHub accepts at most 25 inputs/
    )
  })

  it('says which permission is missing on 403 (actions: write)', async () => {
    fake.forbidden.add('actions/create-workflow-dispatch')
    const err = await dispatch({ repoURL: REPO_URL, workflowFile: 'deploy.yml', ref: 'main' })
      .then(() => undefined)
      .catch((e: unknown) => e as Error & { hint?: string })
    expect(err?.message).toMatch(/^gha-dispatch-workflow\.repoURL: .*HTTP 403/)
    expect(err?.hint).toMatch(/permissions: \{ actions: write \}/)
  })

  it('names workflowFile for a missing or non-dispatchable workflow, ref for a missing ref', async () => {
    const cases: Array<[Record<string, unknown>, RegExp, RegExp]> = [
      [
        { workflowFile: 'nope.yml', ref: 'main' },
        /gha-dispatch-workflow\.workflowFile: .*HTTP 404/,
        /status 404 is not declared/
      ],
      [
        { workflowFile: 'build.yml', ref: 'main' },
        /gha-dispatch-workflow\.workflowFile: build\.yml .* cannot be dispatched/,
        /status 422 is not declared/
      ],
      [
        { workflowFile: 'deploy.yml', ref: 'no-such-branch' },
        /gha-dispatch-workflow\.ref: GitHub did not find 'no-such-branch'/,
        /status 422 is not declared/
      ]
    ]
    for (const [config, message, violation] of cases) {
      await expect(dispatch({ repoURL: REPO_URL, ...config })).rejects.toThrow(message)
      // GitHub's description lists only 200/204 for this endpoint; GitHub still answers these.
      expect(fake.violations.splice(0)).toEqual([expect.stringMatching(violation)])
    }
  })

  it('stringifies inputs as workflow_dispatch takes them', () => {
    expect(workflowInputs({ a: 'x', b: 1.5, c: true, d: { k: 1 }, e: null })).toEqual({
      a: 'x',
      b: '1.5',
      c: 'true',
      d: '{"k":1}'
    })
  })
})

describe('gha-wait-for-workflow', () => {
  const newRun = async () => {
    const res = await dispatch({ repoURL: REPO_URL, workflowFile: 'deploy.yml', ref: 'main' })
    return res.outputs!.runID as number
  }

  it('waits while the run is queued, then succeeds with its conclusion', async () => {
    const runID = await newRun()
    const waiting = await wait({ repoURL: REPO_URL, runID, pollInterval: '15s' })
    expect(waiting.status).toBe('Running')
    expect(waiting.pollIntervalMs).toBe(15_000)
    expect(waiting.message).toMatch(/waiting for workflow run \d+ \(Deploy\) to complete: queued/)
    fake.finishRun(runID, 'success')
    const done = await wait({ repoURL: REPO_URL, runID, expectedConclusion: 'success' })
    expect(done.status).toBe('Succeeded')
    expect(done.outputs).toMatchObject({ conclusion: 'success' })
  })

  it('fails when the conclusion is not the expected one; accepts any without expectedConclusion', async () => {
    const runID = await newRun()
    fake.finishRun(runID, 'failure')
    const failed = await wait({ repoURL: REPO_URL, runID, expectedConclusion: 'success' })
    expect(failed.status).toBe('Failed')
    expect(failed.message).toMatch(/concluded 'failure', expected 'success'/)
    expect(failed.outputs).toMatchObject({ conclusion: 'failure' })
    const any = await wait({ repoURL: REPO_URL, runID })
    expect(any).toMatchObject({ status: 'Succeeded', outputs: { conclusion: 'failure' } })
  })

  it('polls no faster than every 10s, 30s by default', async () => {
    const runID = await newRun()
    expect((await wait({ repoURL: REPO_URL, runID, pollInterval: '1s' })).pollIntervalMs).toBe(
      10_000
    )
    expect((await wait({ repoURL: REPO_URL, runID })).pollIntervalMs).toBe(30_000)
  })

  it('validates config and explains 403 (actions: read) and an unknown run', async () => {
    expect(() => ghaWaitForWorkflow.parse({ repoURL: REPO_URL, runID: 'abc' })).toThrow(
      /gha-wait-for-workflow\.runID/
    )
    expect(() =>
      ghaWaitForWorkflow.parse({ repoURL: REPO_URL, runID: 1, expectedConclusion: 'green' })
    ).toThrow(/gha-wait-for-workflow\.expectedConclusion/)
    fake.forbidden.add('actions/get-workflow-run')
    await expect(wait({ repoURL: REPO_URL, runID: 1 })).rejects.toMatchObject({
      hint: expect.stringMatching(/actions: read/)
    })
    fake.forbidden.clear()
    await expect(wait({ repoURL: REPO_URL, runID: 424242 })).rejects.toThrow(
      /gha-wait-for-workflow\.runID: .*HTTP 404/
    )
    expect(fake.violations.splice(0)).toEqual([
      expect.stringMatching(/get-workflow-run: status 404 is not declared/)
    ])
  })
})

describe('dispatch and wait in a promotion (Kargo-style config, resumed across runs)', () => {
  /** The multi-step example as Kargo documents its v1.9+ shape, written for this test. */
  const kargoSteps = YAML.parse(`
- uses: gha-dispatch-workflow
  as: dispatch-deployment
  config:
    repoURL: https://github.com/acme/deployer
    workflowFile: deploy.yml
    ref: main
    inputs:
      environment: "\${{ ctx.stage }}"
      promotion_id: "\${{ ctx.promotion }}"
    timeout: 120
- uses: gha-wait-for-workflow
  as: wait-deployment
  config:
    repoURL: https://github.com/acme/deployer
    runID: "\${{ outputs['dispatch-deployment'].runID }}"
    expectedConclusion: success
    pollInterval: 30s
`) as Array<{ uses: string; as: string; config: unknown }>

  const freight = testFreight()
  const state: State = emptyState()
  state.freight[freight.name] = freight
  const promotion = (): Promotion => ({
    name: 'prod.01jgha.0123456',
    stage: 'prod',
    freight: freight.name,
    phase: 'Pending',
    createdAt: new Date().toISOString(),
    steps: kargoSteps,
    currentStep: 0,
    stepExecutionMetadata: [],
    state: {}
  })
  const run = (p: Promotion) =>
    runPromotion(p, {
      state,
      project: 'shop',
      services,
      logger: new MemoryLogger(),
      workRoot: fs.mkdtempSync(path.join(root, 'work-')),
      now: () => new Date(),
      waitMs: 0
    })

  it('the steps are registered (no longer refused as Enterprise-only)', () => {
    for (const name of ['gha-dispatch-workflow', 'gha-wait-for-workflow']) {
      expect(stepRegistry.has(name)).toBe(true)
      expect(unknownStepMessage(name)).toBeUndefined()
    }
  })

  it('saves the run ID, resumes on the next run without dispatching again, succeeds', async () => {
    const first = await run(promotion())
    expect(first.promotion.phase).toBe('Running')
    expect(first.promotion.currentStep).toBe(1)
    const runID = (first.promotion.state['dispatch-deployment'] as { runID: number }).runID
    const dispatched = fake.workflowRuns.find((r) => r.id === runID)!
    expect(dispatched.inputs).toEqual({ environment: 'prod', promotion_id: 'prod.01jgha.0123456' })
    const count = fake.workflowRuns.length

    // A later run: still in progress.
    dispatched.status = 'in_progress'
    const second = await run(first.promotion)
    expect(second.promotion.phase).toBe('Running')
    expect(second.promotion.message).toMatch(/in_progress/)

    fake.finishRun(runID, 'success')
    const third = await run(second.promotion)
    expect(third.promotion.phase).toBe('Succeeded')
    expect(third.promotion.state['wait-deployment']).toMatchObject({ conclusion: 'success' })
    expect(fake.workflowRuns).toHaveLength(count)
  })

  it('a failed workflow fails the promotion', async () => {
    const first = await run({ ...promotion(), name: 'prod.01jgha.failed1' })
    const runID = (first.promotion.state['dispatch-deployment'] as { runID: number }).runID
    fake.finishRun(runID, 'failure')
    const second = await run(first.promotion)
    expect(second.promotion.phase).toBe('Failed')
    expect(second.promotion.message).toMatch(/concluded 'failure', expected 'success'/)
  })
})
