import { describe, expect, it } from '@jest/globals'
import {
  argocdDrift,
  branchDrift,
  recordedBranches,
  type LsRemote
} from '../../src/pipeline/drift.js'
import { stageState } from '../../src/pipeline/collections.js'
import { defaultServices } from '../../src/runtime/services.js'
import { emptyState, type Promotion, type State } from '../../src/state/types.js'
import { MemoryLogger } from '../../src/util/logger.js'

const sha = (c: string) => c.repeat(40)
const REPO = 'https://git.example.com/acme/deploy.git'

function promotion(
  name: string,
  stage: string,
  phase: Promotion['phase'],
  outputs: Record<string, unknown>
): Promotion {
  return {
    name,
    stage,
    freight: 'f'.repeat(40),
    phase,
    createdAt: '2025-01-01T00:00:00Z',
    steps: [],
    currentStep: 0,
    stepExecutionMetadata: [],
    state: outputs
  }
}

function stateWith(...ps: Promotion[]): State {
  const s = emptyState()
  for (const p of ps) {
    s.promotions[p.name] = p
    stageState(s, p.stage)
  }
  return s
}

const push = (branch: string, commit: string, repoURL = REPO) => ({
  push: { branch, commit, repoURL }
})

function fakeRemote(heads: Record<string, string>, defaultBranch = 'main') {
  const calls: string[][] = []
  const ls: LsRemote = (url, branches) => {
    calls.push([url, ...branches])
    return Promise.resolve({ defaultBranch, heads: new Map(Object.entries(heads)) })
  }
  return { ls, calls }
}

const opts = (ls: LsRemote) => ({
  services: defaultServices({}),
  logger: new MemoryLogger(),
  lsRemote: ls
})

describe('drift of stage branches', () => {
  it('records the newest commit each branch got, ignoring pending promotions and PR heads', () => {
    const state = stateWith(
      promotion('prod.01a.x', 'prod', 'Succeeded', push('stage/prod', sha('a'))),
      promotion('prod.01b.x', 'prod', 'Failed', {
        ...push('waybill/promotion/prod.01b.x', sha('b')),
        wait: { branch: 'stage/prod', commit: sha('c'), repoURL: REPO, pr: { id: 1 } }
      }),
      promotion('prod.01c.x', 'prod', 'Pending', push('stage/prod', sha('d')))
    )
    expect(recordedBranches(state, 'prod')).toEqual([
      {
        stage: 'prod',
        repoURL: REPO,
        branch: 'stage/prod',
        commit: sha('c'),
        promotion: 'prod.01b.x'
      }
    ])
  })

  it('one ls-remote per repository; only branches that moved are drift', async () => {
    const state = stateWith(
      promotion('test.01a.x', 'test', 'Succeeded', push('stage/test', sha('a'))),
      promotion('prod.01a.x', 'prod', 'Succeeded', push('stage/prod', sha('b')))
    )
    const { ls, calls } = fakeRemote({ 'stage/test': sha('a'), 'stage/prod': sha('9') })
    const found = await branchDrift(state, opts(ls))
    expect(calls).toHaveLength(1)
    expect(found).toEqual([
      expect.objectContaining({
        stage: 'prod',
        kind: 'branch',
        expected: sha('b'),
        actual: sha('9'),
        promotion: 'prod.01a.x'
      })
    ])
  })

  it('skips shared branches, the default branch, running stages and unlistable URLs', async () => {
    const state = stateWith(
      promotion('a.01a.x', 'a', 'Succeeded', push('shared', sha('a'))),
      promotion('b.01a.x', 'b', 'Succeeded', push('shared', sha('b'))),
      promotion('c.01a.x', 'c', 'Succeeded', push('main', sha('c'))),
      promotion('d.01a.x', 'd', 'Succeeded', push('stage/d', sha('d'))),
      promotion('d.01b.x', 'd', 'Running', {}),
      promotion('e.01a.x', 'e', 'Succeeded', push('stage/e', sha('e'), 'ext::sh -c evil'))
    )
    const { ls, calls } = fakeRemote({})
    expect(await branchDrift(state, opts(ls))).toEqual([])
    expect(calls.flat()).not.toContain('stage/d')
    expect(calls.flat().join(' ')).not.toContain('ext::')
  })

  it('a repository that cannot be listed is a warning, not an error', async () => {
    const state = stateWith(promotion('p.01a.x', 'p', 'Succeeded', push('stage/p', sha('a'))))
    const logger = new MemoryLogger()
    const found = await branchDrift(state, {
      ...opts(() => Promise.reject(new Error('connection refused'))),
      logger
    })
    expect(found).toEqual([])
    expect(logger.text()).toMatch(/cannot list the branches/)
  })
})

describe('drift of Argo CD applications', () => {
  const withHealth = (
    revisions: string[] | undefined,
    status: 'Healthy' | 'Unhealthy' | 'Unknown'
  ) => {
    const s = emptyState()
    const st = stageState(s, 'prod')
    st.healthChecks = [
      {
        uses: 'argocd-update',
        input: { apps: [{ name: 'shop-prod', namespace: 'argocd', desiredRevisions: [sha('a')] }] }
      }
    ]
    st.health = {
      status,
      checkedAt: '2025-01-01T00:00:00Z',
      output: {
        applicationStatuses: [{ name: 'shop-prod', namespace: 'argocd', status, revisions }]
      }
    }
    return s
  }

  it('an Application synced to another revision than Waybill set is drift', () => {
    expect(argocdDrift(withHealth([sha('b')], 'Unhealthy'))).toEqual([
      expect.objectContaining({
        stage: 'prod',
        kind: 'argocd',
        target: 'argocd/shop-prod',
        expected: sha('a'),
        actual: sha('b')
      })
    ])
  })

  it('the desired revision, or an Application being synced, is not', () => {
    expect(argocdDrift(withHealth([sha('a')], 'Healthy'))).toEqual([])
    expect(argocdDrift(withHealth([sha('b')], 'Unknown'))).toEqual([])
  })
})
