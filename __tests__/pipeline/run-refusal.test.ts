/**
 * Which run may take a promotion of a stage that does not auto-promote: only a promote run may
 * start one; a wait that a promote run started is resumed by any run.
 */
import { describe, expect, it } from '@jest/globals'
import { emptyModel } from '../../src/config/model.js'
import { promotionRunRefusal, type PipelineContext } from '../../src/pipeline/reconcile.js'
import type { Promotion } from '../../src/state/types.js'

const model = emptyModel('.waybill')
model.stages.set('prod', {
  apiVersion: 'kargo.akuity.io/v1alpha1',
  kind: 'Stage',
  metadata: { name: 'prod' },
  spec: {}
} as never)
const reconcile = { model } as unknown as PipelineContext
const promote = { model, promoteStages: new Set(['prod']) } as unknown as PipelineContext

function promotion(phase: Promotion['phase'], startedBy?: string): Promotion {
  return {
    name: 'prod.01J.abc',
    stage: 'prod',
    freight: 'f',
    phase,
    createdAt: '2026-01-01T00:00:00Z',
    steps: [],
    currentStep: 1,
    stepExecutionMetadata: [],
    state: {},
    ...(startedBy
      ? { startedBy: { runId: 'r1', command: startedBy, at: '2026-01-01T00:00:00Z' } }
      : {})
  }
}

describe('promotionRunRefusal', () => {
  it('reconcile never starts a manual stage promotion', () => {
    expect(promotionRunRefusal(reconcile, 'prod', promotion('Pending'))).toMatch(
      /does not auto-promote/
    )
  })
  it('a promote run of that stage starts it', () => {
    expect(promotionRunRefusal(promote, 'prod', promotion('Pending'))).toBeUndefined()
  })
  it('reconcile resumes a wait that a promote run started', () => {
    expect(promotionRunRefusal(reconcile, 'prod', promotion('Running', 'promote'))).toBeUndefined()
  })
  it('reconcile does not resume a Running promotion no promote run started', () => {
    expect(promotionRunRefusal(reconcile, 'prod', promotion('Running'))).toBeDefined()
    expect(promotionRunRefusal(reconcile, 'prod', promotion('Running', 'reconcile'))).toBeDefined()
  })
})
