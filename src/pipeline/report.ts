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

/** Markdown tables of what the run did, for the job summary. */
export function activityMarkdown(activity: PipelineActivity, state: State): string {
  const lines: string[] = []
  const all = [...activity.finished, ...activity.waiting]
  if (all.length) {
    lines.push(
      '### Promotions',
      '',
      '| Stage | Freight | Phase | Message |',
      '| --- | --- | --- | --- |'
    )
    for (const p of all) {
      const live = state.promotions[p.name] ?? p
      lines.push(
        `| ${p.stage} | ${state.freight[p.freight]?.alias ?? p.freight.slice(0, 7)} | ${live.phase} | ${(live.message ?? '').replace(/\|/g, '\\|').split('\n')[0]} |`
      )
    }
    lines.push('')
  }
  if (activity.verified.length) {
    lines.push('### Verification', '', '| Stage | Phase | Message |', '| --- | --- | --- |')
    for (const v of activity.verified)
      lines.push(`| ${v.stage} | ${v.phase} | ${v.message.replace(/\|/g, '\\|')} |`)
    lines.push('')
  }
  if (activity.errors.length)
    lines.push('### Errors', '', ...activity.errors.map((e) => `- ${e}`), '')
  return lines.join('\n')
}
