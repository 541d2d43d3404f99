import { deploymentStateFor, recordDeployment } from '../integrations/deployments.js'
import type { Services } from '../runtime/services.js'
import type { Promotion, State } from '../state/types.js'
import type { Logger } from '../util/logger.js'
import { errorMessage } from '../util/errors.js'

/** Called when a promotion starts and when it ends a run (see PipelineContext.onPromotion). */
export type PromotionHook = (promotion: Promotion, state: State) => Promise<void>

/** The commit a promotion deployed: the last `commit` output of its steps, else the workflow's commit. */
function deployedRef(p: Promotion): string {
  let ref: string | undefined
  for (const out of Object.values(p.state ?? {})) {
    const c = (out as { commit?: unknown } | undefined)?.commit
    if (typeof c === 'string' && /^[0-9a-f]{7,40}$/.test(c)) ref = c
  }
  return ref ?? process.env.GITHUB_SHA ?? 'HEAD'
}

/**
 * GitHub Deployments for promotions: environment = stage, status in_progress while it runs, then
 * success or failure, so the repository's Environments page shows what runs where. Failures to
 * record are warnings: a deployment record never fails a promotion.
 */
export function deploymentHook(
  services: Services,
  logger: Logger,
  repository: string
): PromotionHook {
  const ids = new Map<string, number>()
  return async (p, state) => {
    const phase = deploymentStateFor(p.phase)
    if (!phase) return
    try {
      const rec = await recordDeployment({
        services,
        logger,
        repository,
        stage: p.stage,
        promotion: p,
        freightAlias: state.freight[p.freight]?.alias ?? p.freight.slice(0, 7),
        ref: deployedRef(p),
        state: phase,
        stageMetadata: state.stages[p.stage]?.metadata,
        deploymentId: ids.get(p.name)
      })
      ids.set(p.name, rec.deploymentId)
    } catch (err) {
      logger.warn(`could not record the GitHub deployment of ${p.name}: ${errorMessage(err)}`)
    }
  }
}
