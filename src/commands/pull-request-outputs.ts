import { promotionPrUrls } from '../report/view.js'
import type { Promotion, State } from '../state/types.js'

/**
 * The `pull-request-url` / `pull-request-number` outputs: the pull request the first of these
 * promotions opened or waits on (git-open-pr / git-wait-for-pr record it in the step outputs), as
 * the state has the promotion now. Nothing when none has one.
 */
export function pullRequestOutputs(
  promotions: readonly Promotion[],
  state: State
): Record<string, string> {
  for (const p of promotions) {
    const url = promotionPrUrls(state.promotions[p.name] ?? p)[0]
    if (!url) continue
    const number = /\/pull\/(\d+)/.exec(url)?.[1]
    return { 'pull-request-url': url, ...(number ? { 'pull-request-number': number } : {}) }
  }
  return {}
}
