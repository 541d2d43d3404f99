/** Notices and warnings for what Waybill accepts but ignores, or what Kargo deprecates. */
import { IGNORED_METADATA_FIELDS, type ResourceKind, type Warehouse } from './schema.js'
import type { Problem } from './problems.js'
import type { KargoDocument } from './classify.js'
import { position, type FieldPath, type Source } from './yaml-source.js'
import { fieldPath } from '../util/zod.js'
import { DEPRECATED_SUBSCRIPTION_FIELDS, replacementHint } from './deprecated-fields.js'

interface IgnoredRule {
  kinds: ResourceKind[]
  /** Paths to check; `*` matches every item of a list. */
  path: string[]
  severity: Problem['severity']
  message: string
  hint?: string
}

const IGNORED_RULES: IgnoredRule[] = [
  {
    kinds: ['Warehouse', 'Stage'],
    path: ['spec', 'shard'],
    severity: 'notice',
    message: 'is ignored: Waybill has no sharded controllers'
  },
  {
    kinds: ['Stage'],
    path: ['spec', 'verification', 'analysisTemplates'],
    severity: 'notice',
    message:
      'AnalysisTemplate verification needs Argo Rollouts and is skipped by Waybill; use Waybill verification (docs/verification.md)'
  },
  {
    kinds: ['Stage'],
    path: ['spec', 'targets'],
    severity: 'warning',
    message: 'is not supported by Waybill and is ignored (Kargo Target fan-out)'
  },
  {
    kinds: ['ProjectConfig'],
    path: ['spec', 'webhookReceivers'],
    severity: 'notice',
    message:
      'are ignored: Waybill is triggered by GitHub events (schedule, repository_dispatch, push)'
  },
  {
    kinds: ['ProjectConfig'],
    path: ['spec', 'freightLinks'],
    severity: 'notice',
    message: 'are Kargo UI links and are ignored by Waybill'
  },
  {
    kinds: ['ProjectConfig'],
    path: ['spec', 'stageLinks'],
    severity: 'notice',
    message: 'are Kargo UI links and are ignored by Waybill'
  },
  {
    kinds: ['ProjectConfig'],
    path: ['spec', 'promotionPolicies', '*', 'stage'],
    severity: 'notice',
    message: 'is deprecated in Kargo',
    hint: 'use stageSelector: {name: <stage>}'
  },
  {
    kinds: ['Project'],
    path: ['spec', 'promotionPolicies'],
    severity: 'notice',
    message: 'on Project is deprecated in Kargo',
    hint: 'move them to a ProjectConfig'
  }
]

function expandPaths(value: unknown, pattern: string[], prefix: FieldPath = []): FieldPath[] {
  if (pattern.length === 0) return value === undefined ? [] : [prefix]
  const [head, ...rest] = pattern
  if (head === '*') {
    if (!Array.isArray(value)) return []
    return value.flatMap((v, i) => expandPaths(v, rest, [...prefix, i]))
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return []
  return expandPaths((value as Record<string, unknown>)[head], rest, [...prefix, head])
}

/**
 * Kubernetes-only metadata (and `status`) is common to every resource of a file, so it is said
 * once per file and field, with a count, instead of once per resource.
 */
export class KubernetesOnlyNotices {
  private readonly byFileAndField = new Map<string, { problem: Problem; count: number }>()

  add(src: Source, p: FieldPath, kind: string, name: string): void {
    const field = fieldPath(p)
    const key = `${src.file}|${field}`
    const existing = this.byFileAndField.get(key)
    if (existing) {
      existing.count++
      return
    }
    this.byFileAndField.set(key, {
      count: 1,
      problem: {
        severity: 'notice',
        ...position(src, p, true),
        kind,
        name,
        field,
        message: 'is Kubernetes-only and ignored by Waybill'
      }
    })
  }

  problems(): Problem[] {
    return [...this.byFileAndField.values()].map(({ problem, count }) => {
      if (count === 1) return problem
      const { kind: _kind, name: _name, ...rest } = problem
      return { ...rest, message: `${problem.message} (${count} resources in this file)` }
    })
  }
}

/**
 * Notices for fields of a valid resource that Waybill ignores or Kargo deprecates; the
 * Kubernetes-only metadata goes to `kubernetesOnly` (reported per file).
 */
export function resourceNotices(
  { kind, obj, src }: KargoDocument,
  resource: { metadata: { name: string } },
  kubernetesOnly: KubernetesOnlyNotices
): Problem[] {
  const name = resource.metadata.name
  const problems: Problem[] = []
  for (const f of IGNORED_METADATA_FIELDS) {
    if ((obj.metadata as Record<string, unknown>)[f] !== undefined)
      kubernetesOnly.add(src, ['metadata', f], kind, name)
  }
  if (obj.status !== undefined) kubernetesOnly.add(src, ['status'], kind, name)
  for (const rule of IGNORED_RULES) {
    if (!rule.kinds.includes(kind)) continue
    for (const p of expandPaths(obj, rule.path)) {
      problems.push({
        severity: rule.severity,
        ...position(src, p, true),
        kind,
        name,
        field: fieldPath(p),
        message: rule.message,
        hint: rule.hint
      })
    }
  }
  if (kind === 'Warehouse') {
    problems.push(...deprecatedFieldWarnings({ kind, obj, src }, name))
    ;(resource as Warehouse).spec.subscriptions.forEach((s, i) => {
      if (s.git && !/^(https?|file):\/\//.test(s.git.repoURL)) {
        problems.push({
          severity: 'warning',
          ...position(src, ['spec', 'subscriptions', i, 'git', 'repoURL']),
          kind,
          name,
          field: `spec.subscriptions[${i}].git.repoURL`,
          message: 'SSH URLs are deprecated since Kargo v1.10 (removal in v1.13)',
          hint: 'use an https:// URL; Waybill authenticates Git over HTTPS with the GitHub token'
        })
      }
    })
  }
  return problems
}

/** A warning per deprecated subscription field, which Waybill reads as its replacement. */
function deprecatedFieldWarnings(
  { kind, obj, src }: Pick<KargoDocument, 'kind' | 'obj' | 'src'>,
  name: string
): Problem[] {
  const problems: Problem[] = []
  const subscriptions = (obj.spec as { subscriptions?: unknown } | undefined)?.subscriptions
  if (!Array.isArray(subscriptions)) return problems
  subscriptions.forEach((sub: Record<string, unknown> | null, i) => {
    for (const [type, fields] of Object.entries(DEPRECATED_SUBSCRIPTION_FIELDS)) {
      const body = sub?.[type] as Record<string, unknown> | undefined
      for (const f of fields) {
        const value = body?.[f.field]
        if (value === undefined || value === null) continue
        const p = ['spec', 'subscriptions', i, type, f.field]
        problems.push({
          severity: 'warning',
          ...position(src, p, true),
          kind,
          name,
          field: fieldPath(p),
          message: `is deprecated (${f.status}); Waybill reads it as ${f.replacement}`,
          hint: replacementHint(f, value)
        })
      }
    }
  })
  return problems
}
