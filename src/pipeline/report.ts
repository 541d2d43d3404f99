import type { PipelineActivity } from './reconcile.js'
import type { State } from '../state/types.js'

/** Action outputs shared by every pipeline command (stable JSON shapes, see README "Outputs"). */
export function activityOutputs(activity: PipelineActivity, state: State): Record<string, string> {
  const promotions = [
    ...activity.finished,
    ...activity.waiting,
    ...activity.created.filter(
      (c) => ![...activity.finished, ...activity.waiting].some((x) => x.name === c.name)
    )
  ].map((p) => ({
    name: p.name,
    stage: p.stage,
    freight: p.freight,
    alias: state.freight[p.freight]?.alias,
    phase: state.promotions[p.name]?.phase ?? p.phase,
    message: state.promotions[p.name]?.message ?? p.message
  }))
  const promoted = [
    ...new Set(activity.finished.filter((p) => p.phase === 'Succeeded').map((p) => p.stage))
  ]
  return {
    promotions: JSON.stringify(promotions),
    'promoted-stages': JSON.stringify(promoted),
    verified: JSON.stringify(activity.verified)
  }
}
