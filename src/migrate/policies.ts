/**
 * Promotion policies, moved to where current Kargo reads them: 0.x `PromotionPolicy` resources
 * (`stage`, `enableAutoPromotion` at the top level) and the Project's `spec.promotionPolicies`
 * (Project spec removed in Kargo 1.7) become `ProjectConfig.spec.promotionPolicies` entries with
 * a `stageSelector`.
 */
import { child, flag, plain, text } from './nodes.js'
import type { MigrationTarget } from './types.js'

export interface PolicyEntry {
  stageSelector: { name: string }
  autoPromotionEnabled: boolean
}

/** The policy a 0.x PromotionPolicy document stands for (the document itself is then removed). */
export function policyFromPromotionPolicy(t: MigrationTarget): PolicyEntry | undefined {
  const root = t.doc.contents
  const stage = text(root, 'stage') ?? text(child(root, 'spec'), 'stage')
  if (!stage) {
    t.note('warning', 'PromotionPolicy without a stage: removed with nothing to migrate', root)
    return undefined
  }
  const enabled =
    flag(root, 'enableAutoPromotion') || flag(child(root, 'spec'), 'enableAutoPromotion')
  return { stageSelector: { name: stage }, autoPromotionEnabled: enabled }
}

/**
 * A legacy Project's spec.promotionPolicies as ProjectConfig entries (`stage: x` becomes
 * `stageSelector: {name: x}`; everything else is kept), or undefined when it has none.
 */
export function policiesFromProject(t: MigrationTarget): Record<string, unknown>[] | undefined {
  const policies = plain(child(child(t.doc.contents, 'spec'), 'promotionPolicies'))
  if (!Array.isArray(policies)) return undefined
  return policies.map((p: Record<string, unknown>) => {
    if (typeof p.stage !== 'string' || p.stageSelector !== undefined) return p
    const { stage, ...rest } = p
    return { stageSelector: { name: stage }, ...rest }
  })
}
