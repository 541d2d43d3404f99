import { stepRegistry } from './registry.js'

/** Names of the steps Waybill provides (the registry's). */
export const STEP_NAMES: readonly string[] = [...stepRegistry.keys()]

/** Kargo Enterprise-only steps: named so the error can say why they are unavailable. */
export const KARGO_ENTERPRISE_STEPS = [
  'record-audit-event',
  'jira',
  'hcl-update',
  'jfrog-evidence',
  'tf-plan',
  'tf-apply',
  'tf-output'
]

/** Steps Kargo removed, with what replaces them. */
export const REMOVED_STEPS: Record<string, string> = {
  'helm-update-image': "removed in Kargo v1.3.0: use 'yaml-update' with imageFrom()"
}

export function unknownStepMessage(name: string): string | undefined {
  if (stepRegistry.has(name)) return undefined
  if (REMOVED_STEPS[name]) return `step '${name}' is not available: ${REMOVED_STEPS[name]}`
  if (KARGO_ENTERPRISE_STEPS.includes(name) || /^(gh|snow|tf)-/.test(name)) {
    return `step '${name}' is not available: it is a Kargo Enterprise step that Waybill does not provide`
  }
  return `step '${name}' is not available: Waybill has no such step (see docs/steps.md for the list)`
}
