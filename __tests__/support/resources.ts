/**
 * Kargo resources as YAML text for test fixtures, so tests state only what differs: a stage's
 * name, where its freight comes from, and the task its promotion runs.
 */
export interface StageFixture {
  warehouse: string
  /** The `sources` map as YAML flow text, e.g. `{ direct: true }` or `{ stages: [test] }`. */
  sources: string
  /** PromotionTask the promotion runs; omitted → a control-flow stage (no steps). */
  task?: string
  /** More YAML under `spec:` (indented two spaces), e.g. a verification block. */
  extra?: string
}

export function stageYaml(name: string, f: StageFixture): string {
  return [
    'apiVersion: kargo.akuity.io/v1alpha1',
    'kind: Stage',
    'metadata:',
    `  name: ${name}`,
    'spec:',
    '  requestedFreight:',
    `    - origin: { kind: Warehouse, name: ${f.warehouse} }`,
    `      sources: ${f.sources}`,
    ...(f.task
      ? ['  promotionTemplate:', '    spec:', '      steps:', `        - task: { name: ${f.task} }`]
      : []),
    ...(f.extra ? [f.extra.replace(/\n$/, '')] : []),
    ''
  ].join('\n')
}

/** Several stages as one multi-document YAML file. */
export function stagesYaml(stages: Record<string, StageFixture>): string {
  return Object.entries(stages)
    .map(([name, f]) => stageYaml(name, f))
    .join('---\n')
}

/** A Warehouse following one branch of a Git repository (interval 5m). */
export function gitWarehouseYaml(name: string, repoURL: string, branch = 'main'): string {
  return `apiVersion: kargo.akuity.io/v1alpha1
kind: Warehouse
metadata:
  name: ${name}
spec:
  interval: 5m
  subscriptions:
    - git:
        repoURL: ${repoURL}
        branch: ${branch}
`
}

/** A ProjectConfig that auto-promotes every stage. */
export function autoPromoteAllYaml(project: string): string {
  return `apiVersion: kargo.akuity.io/v1alpha1
kind: ProjectConfig
metadata:
  name: ${project}
spec:
  promotionPolicies:
    - stageSelector: { name: 'glob:*' }
      autoPromotionEnabled: true
`
}
