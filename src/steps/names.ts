/** Kargo's open-source built-in steps, by name (kargo-reference §4.4). */
export const KARGO_OSS_STEPS = [
  'git-clone',
  'git-clear',
  'git-commit',
  'git-push',
  'git-tag',
  'git-open-pr',
  'git-wait-for-pr',
  'git-merge-pr',
  'github-push',
  'kustomize-set-image',
  'kustomize-build',
  'helm-template',
  'helm-update-chart',
  'yaml-update',
  'json-update',
  'toml-update',
  'yaml-parse',
  'json-parse',
  'toml-parse',
  'yaml-merge',
  'copy',
  'delete',
  'file-write',
  'tar',
  'untar',
  'http-download',
  'oci-download',
  'oci-push',
  'argocd-update',
  'argocd-wait',
  'http',
  'compose-output',
  'set-metadata',
  'set-freight-alias',
  'fail'
] as const

/** Kargo Enterprise-only steps: named so the error can say why they are unavailable. */
export const KARGO_ENTERPRISE_STEPS = [
  'get-user-input',
  'wait-for-approval',
  'send-message',
  'record-audit-event',
  'gha-dispatch-workflow',
  'gha-wait-for-workflow',
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
  if ((KARGO_OSS_STEPS as readonly string[]).includes(name)) return undefined
  if (REMOVED_STEPS[name]) return `step '${name}' is not available: ${REMOVED_STEPS[name]}`
  if (KARGO_ENTERPRISE_STEPS.includes(name) || /^(gh|snow|tf)-/.test(name)) {
    return `step '${name}' is not available: it is a Kargo Enterprise step that Waybill does not provide`
  }
  return `step '${name}' is not available: Waybill has no such step (see docs/steps.md for the list)`
}
