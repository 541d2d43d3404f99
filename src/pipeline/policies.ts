import type { ProjectModel } from '../config/index.js'
import type { Stage } from '../config/schema.js'

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

interface PolicyLike {
  stage?: string
  stageSelector?: StageSelector
  autoPromotionEnabled?: boolean
}

function nameMatches(pattern: string, name: string): boolean {
  if (pattern.startsWith('glob:')) return globToRegExp(pattern.slice(5)).test(name)
  if (pattern.startsWith('regex:')) return new RegExp(pattern.slice(6)).test(name)
  if (pattern.startsWith('regexp:')) return new RegExp(pattern.slice(7)).test(name)
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

function policyMatches(policy: PolicyLike, stageName: string, stage: Stage): boolean {
  const sel = policy.stageSelector
  if (sel) {
    if (sel.name && !nameMatches(sel.name, stageName)) return false
    return labelsMatch(sel, (stage.metadata.labels ?? {}) as Record<string, string>)
  }
  return policy.stage === stageName
}

/**
 * Whether freight is promoted to this stage automatically: ProjectConfig policies first (in order,
 * first match wins), then the legacy Project.spec.promotionPolicies. No matching policy → manual.
 */
export function autoPromotionEnabled(model: ProjectModel, stageName: string): boolean {
  const stage = model.stages.get(stageName)
  if (!stage) return false
  const policies: PolicyLike[] = [
    ...((model.projectConfig?.spec?.promotionPolicies ?? []) as PolicyLike[]),
    ...(((model.project?.spec as { promotionPolicies?: PolicyLike[] } | undefined)
      ?.promotionPolicies ?? []) as PolicyLike[])
  ]
  for (const p of policies)
    if (policyMatches(p, stageName, stage)) return Boolean(p.autoPromotionEnabled)
  return false
}
