/**
 * Waybill's generated workflows under GitHub's own rules (support/github-rules.ts): which events
 * start which jobs, and which concurrency groups a pending approval holds.
 */
import { describe, expect, test } from '@jest/globals'
import { parse as parseYaml } from 'yaml'
import { initFiles } from '../../src/init/templates.js'
import {
  concurrencyGroup,
  ConcurrencyBoard,
  triggeredRuns,
  type RepoView,
  type SimEvent
} from '../support/github-rules.js'

const files = initFiles({
  pattern: 'image-updater',
  layout: 'kustomize',
  image: 'ghcr.io/acme/app',
  gitRepo: 'https://github.com/acme/gitops.git',
  branch: 'main',
  stages: ['test', 'uat', 'prod'],
  project: 'gitops',
  configDir: '.waybill'
})
const workflows = Object.fromEntries(
  files.filter((f) => f.path.startsWith('.github/workflows/')).map((f) => [f.path, f.content])
)
const reconcileWf = parseYaml(workflows['.github/workflows/waybill.yml']) as Record<string, unknown>
const promoteWf = parseYaml(workflows['.github/workflows/waybill-promote.yml']) as Record<
  string,
  unknown
>

/** main holds the workflows; stage branches hold only rendered manifests (no workflows). */
const repo: RepoView = {
  defaultBranch: 'main',
  workflowsAt: (ref) => (ref === 'main' ? workflows : ref.startsWith('stage/') ? {} : undefined),
  mergeCommitWorkflows: (base) => (base === 'main' ? workflows : {})
}

const pr = (base: string, headRepo = 'acme/gitops') => ({
  action: 'closed',
  number: 7,
  pull_request: {
    number: 7,
    merged: true,
    base: { ref: base, repo: { full_name: 'acme/gitops' } },
    head: { ref: 'waybill/promote-prod', repo: { full_name: headRepo } }
  }
})
const ev = (name: string, payload: Record<string, unknown>, actor: SimEvent['actor'] = 'user') => ({
  name,
  payload,
  actor
})

describe('GitHub rules for the generated workflows', () => {
  test('a merged promotion PR into a stage branch never runs the pull_request trigger', () => {
    // GitHub reads pull_request workflows from the merge commit: stage/prod has none.
    expect(triggeredRuns(repo, ev('pull_request', pr('stage/prod')))).toEqual([])
  })

  test('deleting the merged head branch runs the pipeline from the default branch', () => {
    const runs = triggeredRuns(
      repo,
      ev('delete', { ref: 'waybill/promote-prod', ref_type: 'branch' })
    )
    expect(runs).toEqual([{ file: '.github/workflows/waybill.yml', jobs: ['reconcile'] }])
  })

  test('a deleted tag does not run the pipeline', () => {
    expect(triggeredRuns(repo, ev('delete', { ref: 'v1', ref_type: 'tag' }))).toEqual([])
  })

  test('pushes by GITHUB_TOKEN (Waybill writing stage branches) start nothing', () => {
    expect(triggeredRuns(repo, ev('push', { ref: 'refs/heads/main' }, 'github-token'))).toEqual([])
    // The same push by a person runs the pipeline; a push to a stage branch never does.
    expect(triggeredRuns(repo, ev('push', { ref: 'refs/heads/main' }))).toHaveLength(1)
    expect(triggeredRuns(repo, ev('push', { ref: 'refs/heads/stage/prod' }, 'app'))).toEqual([])
  })

  test('a closed PR into main from a fork runs no job; from the repository it does', () => {
    expect(triggeredRuns(repo, ev('pull_request', pr('main', 'mallory/gitops')))).toEqual([])
    expect(triggeredRuns(repo, ev('pull_request', pr('main')))).toEqual([
      { file: '.github/workflows/waybill.yml', jobs: ['reconcile'] }
    ])
  })

  test('workflow_dispatch runs only the job the command asks for', () => {
    const dispatch = ev('workflow_dispatch', {})
    const run = (command: string) =>
      triggeredRuns(repo, dispatch, { command, stage: 'prod', freight: 'latest' }).find((r) =>
        r.file.endsWith('waybill-promote.yml')
      )?.jobs
    expect(run('promote')).toEqual(['promote'])
    expect(run('abort')).toEqual(['manage'])
    expect(run('discover')).toEqual(['manage'])
  })

  test('a promote job waiting for prod reviewers does not hold the pipeline group', () => {
    const board = new ConcurrencyBoard()
    const dispatch = ev('workflow_dispatch', {})
    const inputs = { command: 'promote', stage: 'prod', freight: 'latest' }
    const waiting = concurrencyGroup(promoteWf, 'promote', dispatch, inputs)
    // The job enters its group while it waits for approval.
    expect(board.start(waiting, 'promote-prod')).toBe(true)
    const schedule = ev('schedule', {})
    const pipeline = concurrencyGroup(reconcileWf, 'reconcile', schedule)
    expect(pipeline).toBe('waybill-acme/gitops')
    expect(waiting).toBe('waybill-promote-acme/gitops-prod')
    expect(board.start(pipeline, 'scheduled-run')).toBe(true)
    // A second prod promotion queues behind the first one; uat does not.
    expect(board.start(waiting, 'promote-prod-2')).toBe(false)
    const uat = concurrencyGroup(promoteWf, 'promote', dispatch, { ...inputs, stage: 'uat' })
    expect(board.start(uat, 'promote-uat')).toBe(true)
  })

  test('the model bites: a shared group would stall the schedule behind a pending approval', () => {
    const board = new ConcurrencyBoard()
    const shared = 'waybill-acme/gitops'
    expect(board.start(shared, 'promote-prod-waiting-for-review')).toBe(true)
    expect(board.start(shared, 'scheduled-run')).toBe(false)
  })
})
