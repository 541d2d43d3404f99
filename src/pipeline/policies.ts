import type { ProjectModel } from '../config/index.js'
import type { Stage } from '../config/schema.js'
import { compileUserRegex } from '../util/regex.js'

interface LabelSelectorRequirement {
  key: string
  operator: string
  values?: string[]
}

interface StageSelector {
  name?: string
  matchLabels?: Record<string, string>
  matchExpressions?: LabelSelectorRequirement[]
}

export interface PolicyLike {
  stage?: string
  stageSelector?: StageSelector
  autoPromotionEnabled?: boolean
  autoRollback?: { onPromotion?: string[]; onVerification?: string[] }
}

function nameMatches(pattern: string, name: string): boolean {
  if (pattern.startsWith('glob:')) return globToRegExp(pattern.slice(5)).test(name)
  if (pattern.startsWith('regex:'))
    return compileUserRegex(pattern.slice(6), 'stageSelector.name').test(name)
  if (pattern.startsWith('regexp:'))
    return compileUserRegex(pattern.slice(7), 'stageSelector.name').test(name)
  return pattern === name
}

function globToRegExp(glob: string): RegExp {
  let re = ''
  for (const ch of glob) {
    if (ch === '*') re += '.*'
    else if (ch === '?') re += '.'
    else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&')
  }
  return new RegExp(`^${re}$`)
}

function labelsMatch(sel: StageSelector, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key)
    const v = labels[e.key]
    switch (e.operator) {
      case 'In':
        if (!has || !(e.values ?? []).includes(v)) return false
        break
      case 'NotIn':
        if (has && (e.values ?? []).includes(v)) return false
        break
      case 'Exists':
        if (!has) return false
        break
      case 'DoesNotExist':
        if (has) return false
        break
      default:
        return false
    }
  }
  return true
}

/** Whether a stageSelector (name pattern, labels) selects a stage. */
export function stageSelectorMatches(sel: StageSelector, stageName: string, stage: Stage): boolean {
  if (sel.name && !nameMatches(sel.name, stageName)) return false
  return labelsMatch(sel, stage.metadata.labels ?? {})
}

function policyMatches(policy: PolicyLike, stageName: string, stage: Stage): boolean {
  if (policy.stageSelector) return stageSelectorMatches(policy.stageSelector, stageName, stage)
  return policy.stage === stageName
}

/**
 * Whether freight is promoted to this stage automatically: ProjectConfig policies first (in order,
 * first match wins), then the legacy Project.spec.promotionPolicies. No matching policy → manual.
 */
export function autoPromotionEnabled(model: ProjectModel, stageName: string): boolean {
  return Boolean(stagePolicy(model, stageName)?.autoPromotionEnabled)
}

/** The promotion policy that applies to a stage (first match wins), if any. */
export function stagePolicy(model: ProjectModel, stageName: string): PolicyLike | undefined {
  const stage = model.stages.get(stageName)
  if (!stage) return undefined
  const policies: PolicyLike[] = [
    ...((model.projectConfig?.spec?.promotionPolicies ?? []) as PolicyLike[]),
    ...((model.project?.spec as { promotionPolicies?: PolicyLike[] } | undefined)
      ?.promotionPolicies ?? [])
  ]
  return policies.find((p) => policyMatches(p, stageName, stage))
}
