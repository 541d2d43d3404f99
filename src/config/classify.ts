/** Which documents are Kargo resources Waybill configures, and what to say about the others. */
import { API_VERSION, RESOURCE_KINDS, apiVersionOf, type ResourceKind } from './schema.js'
import type { Problem } from './problems.js'
import { describeValue, suggestField } from './schema-issues.js'
import { position, type Source, type YamlDocument } from './yaml-source.js'
import { legacyKindProblem } from './era.js'

/** Kargo kinds that exist at runtime only: Waybill creates them, so config files skip them. */
const KARGO_RUNTIME_KINDS = ['Freight', 'Promotion', 'ClusterConfig', 'PromotionRequest', 'Target']

/** A document that declares a supported Kargo kind and apiVersion, not validated yet. */
export interface KargoDocument {
  kind: ResourceKind
  /** metadata.name when it is a string. */
  name?: string
  obj: Record<string, unknown>
  src: Source
}

/**
 * Sorts one document: a Kargo resource to validate, or a problem (not a mapping, no
 * apiVersion/kind, unknown kind, wrong version) or a notice (another API group, a runtime kind).
 */
export function classifyDocument({ src, value }: YamlDocument): {
  resource?: KargoDocument
  problem?: Problem
} {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return {
      problem: {
        severity: 'error',
        ...position(src, []),
        message: `expected a resource (a mapping with apiVersion, kind, metadata and spec), got ${describeValue(value)}`
      }
    }
  }
  const obj = value as Record<string, unknown>
  const { apiVersion, kind } = obj
  const rawName = (obj.metadata as { name?: unknown } | undefined)?.name
  const name = typeof rawName === 'string' ? rawName : undefined
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') {
    const missing = typeof apiVersion !== 'string' ? 'apiVersion' : 'kind'
    return {
      problem: {
        severity: 'error',
        ...position(src, [missing], true),
        field: missing,
        kind: typeof kind === 'string' ? kind : undefined,
        name,
        message: obj[missing] === undefined ? 'is required' : 'must be a string',
        hint: `every document needs apiVersion: ${API_VERSION} and a kind (${RESOURCE_KINDS.filter((k) => apiVersionOf(k) === API_VERSION).join(', ')})`
      }
    }
  }
  const at = { ...position(src, ['kind']), kind, name }
  const group = apiVersion.split('/')[0]
  if (group !== 'kargo.akuity.io' && group !== 'ee.kargo.akuity.io') {
    return {
      problem: {
        severity: 'notice',
        ...at,
        message: `skipped: ${apiVersion} ${kind} is not a Kargo resource`
      }
    }
  }
  if (!RESOURCE_KINDS.includes(kind as ResourceKind)) {
    const legacy = legacyKindProblem(kind, at)
    if (legacy) return { problem: legacy }
    return {
      problem: KARGO_RUNTIME_KINDS.includes(kind)
        ? {
            severity: 'notice',
            ...at,
            message: `skipped: ${kind} resources are created by Waybill, not configured`
          }
        : {
            severity: 'error',
            ...at,
            field: 'kind',
            message: `unknown Kargo kind '${kind}'`,
            hint: suggestField(kind, RESOURCE_KINDS, 'kinds')
          }
    }
  }
  const expected = apiVersionOf(kind as ResourceKind)
  if (apiVersion !== expected) {
    return {
      problem: {
        severity: 'error',
        ...position(src, ['apiVersion']),
        field: 'apiVersion',
        kind,
        name,
        message: `unsupported apiVersion '${apiVersion}'`,
        hint: `use ${expected}`
      }
    }
  }
  return { resource: { kind: kind as ResourceKind, name, obj, src } }
}
