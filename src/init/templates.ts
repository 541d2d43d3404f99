/**
 * What `waybill init` writes: Kargo resources for one of the three starter patterns and the two
 * workflow files. Pure functions of the options, so tests can check the text without a repo.
 */
import { stringify } from 'yaml'

export const PATTERNS = ['image-updater', 'config-updater', 'common-case'] as const
export type InitPattern = (typeof PATTERNS)[number]
export const LAYOUTS = ['kustomize', 'helm'] as const
export type InitLayout = (typeof LAYOUTS)[number]

/** The action reference generated workflows use (documented in docs/workflows.md). */
export const ACTION_REF = 'waybill-dev/waybill@v1'
/** JSON Schema for editors (yaml-language-server), from the Waybill repository. */
export const SCHEMA_URL =
  'https://raw.githubusercontent.com/waybill-dev/waybill/v1/schema/waybill.schema.json'
const API_VERSION = 'kargo.akuity.io/v1alpha1'

export interface InitOptions {
  pattern: InitPattern
  /** Image repository (image-updater, common-case). */
  image?: string
  /** Config repository URL: the one the promotion clones and pushes stage branches to. */
  gitRepo: string
  /** Branch of the config repository holding the base configuration. */
  branch: string
  /** In promotion order; the last one is promoted by hand. */
  stages: string[]
  layout: InitLayout
  /** ProjectConfig name. */
  project: string
  /** Config folder relative to the repository root (default .waybill). */
  configDir: string
  /** Name of the warehouse (default: project name). */
  warehouse?: string
}

export interface InitFile {
  /** Relative to the repository root, with `/`. */
  path: string
  content: string
}

/** A YAML file with a schema line and one document per resource. */
function resourcesFile(comment: string[], docs: object[]): string {
  const head = [`# yaml-language-server: $schema=${SCHEMA_URL}`, ...comment.map((c) => `# ${c}`)]
  const body = docs.map((d) => stringify(d, { lineWidth: 0 }).trimEnd()).join('\n---\n')
  return `${head.join('\n')}\n${body}\n`
}

function usesImage(p: InitPattern): boolean {
  return p === 'image-updater' || p === 'common-case'
}
function usesGit(p: InitPattern): boolean {
  return p === 'config-updater' || p === 'common-case'
}

function warehouseName(o: InitOptions): string {
  return o.warehouse ?? o.project
}

export function warehouseResource(o: InitOptions): object {
  const subscriptions: object[] = []
  if (usesImage(o.pattern))
    subscriptions.push({
      image: { repoURL: o.image, imageSelectionStrategy: 'SemVer', discoveryLimit: 20 }
    })
  if (usesGit(o.pattern)) {
    subscriptions.push({
      git: {
        repoURL: o.gitRepo,
        branch: o.branch,
        commitSelectionStrategy: 'NewestFromBranch',
        // Waybill's own files are not configuration to promote.
        excludePaths: [o.configDir, '.github']
      }
    })
  }
  return {
    apiVersion: API_VERSION,
    kind: 'Warehouse',
    metadata: { name: warehouseName(o) },
    spec: { interval: '5m0s', subscriptions }
  }
}

export function stageResources(o: InitOptions): object[] {
  return o.stages.map((name, i) => ({
    apiVersion: API_VERSION,
    kind: 'Stage',
    metadata: { name },
    spec: {
      requestedFreight: [
        {
          origin: { kind: 'Warehouse', name: warehouseName(o) },
          sources: i === 0 ? { direct: true } : { stages: [o.stages[i - 1]] }
        }
      ],
      promotionTemplate: { spec: { steps: [{ task: { name: 'promote' } }] } }
    }
  }))
}

/**
 * The promotion: check out the base config (at the freight's commit when the warehouse
 * subscribes to the repository) and the stage branch, point the stage's overlay/values at the
 * freight's image, render the stage's manifests into the stage branch, commit and push.
 */
export function promotionTaskResource(o: InitOptions): object {
  const vars: Array<{ name: string; value: string }> = [{ name: 'gitRepo', value: o.gitRepo }]
  if (usesImage(o.pattern)) vars.push({ name: 'image', value: o.image! })
  const srcCheckout = usesGit(o.pattern)
    ? { commit: '${{ commitFrom(vars.gitRepo).ID }}', path: './src' }
    : { branch: o.branch, path: './src' }
  const stageDir = './src/stages/${{ ctx.stage }}'
  const steps: object[] = [
    {
      uses: 'git-clone',
      config: {
        repoURL: '${{ vars.gitRepo }}',
        checkout: [srcCheckout, { branch: 'stage/${{ ctx.stage }}', create: true, path: './out' }]
      }
    },
    { uses: 'git-clear', config: { path: './out' } }
  ]
  if (usesImage(o.pattern)) {
    if (o.layout === 'kustomize')
      steps.push({
        uses: 'kustomize-set-image',
        as: 'update-image',
        config: {
          path: stageDir,
          images: [{ image: '${{ vars.image }}', tag: '${{ imageFrom(vars.image).Tag }}' }]
        }
      })
    else
      steps.push({
        uses: 'yaml-update',
        as: 'update-image',
        config: {
          path: `${stageDir}/values.yaml`,
          updates: [{ key: 'image.tag', value: '${{ imageFrom(vars.image).Tag }}' }]
        }
      })
  }
  if (o.layout === 'kustomize')
    steps.push({
      uses: 'kustomize-build',
      config: { path: stageDir, outPath: './out/manifests.yaml' }
    })
  else
    steps.push({
      uses: 'helm-template',
      config: {
        path: './src',
        releaseName: '${{ ctx.project }}',
        valuesFiles: [`${stageDir}/values.yaml`],
        outPath: './out/manifests.yaml'
      }
    })
  const what = usesImage(o.pattern)
    ? usesGit(o.pattern)
      ? '${{ imageFrom(vars.image).Tag }} at ${{ commitFrom(vars.gitRepo).ID }}'
      : '${{ imageFrom(vars.image).Tag }}'
    : '${{ commitFrom(vars.gitRepo).ID }}'
  steps.push(
    {
      uses: 'git-commit',
      as: 'commit',
      config: { path: './out', message: `Promote ${what} to \${{ ctx.stage }}` }
    },
    {
      uses: 'git-push',
      as: 'push',
      config: { path: './out', targetBranch: 'stage/${{ ctx.stage }}' }
    }
  )
  return {
    apiVersion: API_VERSION,
    kind: 'PromotionTask',
    metadata: { name: 'promote' },
    spec: { vars, steps }
  }
}

export function projectConfigResource(o: InitOptions): object {
  return {
    apiVersion: API_VERSION,
    kind: 'ProjectConfig',
    metadata: { name: o.project },
    spec: {
      promotionPolicies: o.stages.slice(0, -1).map((s) => ({
        stageSelector: { name: s },
        autoPromotionEnabled: true
      }))
    }
  }
}

/** YAML-quotes a string for a workflow file (always single-quoted: no expression surprises). */
function q(s: string): string {
  return `'${s.replace(/'/g, "''")}'`
}

export function reconcileWorkflow(o: InitOptions): string {
  return `# The pipeline: discovers new freight, resumes waiting promotions, verifies and
# auto-promotes as far as the promotion policies allow. See docs/workflows.md.
name: Waybill

on:
  schedule:
    # Every 15 minutes, off the top of the hour (GitHub delays runs at :00).
    - cron: '7,22,37,52 * * * *'
  # A new image in GitHub Packages (only for packages connected to this repository).
  registry_package:
    types: [published, updated]
  # Registry webhooks relayed to POST /repos/{owner}/{repo}/dispatches, and manual nudges.
  repository_dispatch:
    types: [waybill-discover, image-pushed]
  # Config changes on ${o.branch}; stage branches are written by Waybill and never trigger it.
  push:
    branches: [${q(o.branch)}]
  # A promotion's pull request was merged or closed. GitHub starts \`pull_request\` runs from the
  # workflow in the PR's merge commit, and stage branches hold only manifests, so that event never
  # runs this file. \`delete\` runs from the default branch: with "Automatically delete head
  # branches" on (Settings → General), merging the PR deletes its branch and resumes the
  # promotion at once; otherwise the schedule above resumes it (within 15 minutes).
  delete:
  # Kept for repositories whose stage branches carry this workflow (e.g. promotion PRs into main).
  pull_request:
    types: [closed]

permissions:
  contents: write
  pull-requests: write
  deployments: write
  statuses: write
  packages: read

# One writer at a time; runs queue instead of cancelling each other.
concurrency:
  group: waybill-\${{ github.repository }}
  cancel-in-progress: false
  queue: max

jobs:
  reconcile:
    runs-on: ubuntu-latest
    timeout-minutes: 30
    # Pull requests from forks never drive promotions; tag deletions are not promotions.
    if: >-
      (github.event_name != 'pull_request' || github.event.pull_request.head.repo.full_name == github.repository)
      && (github.event_name != 'delete' || github.event.ref_type == 'branch')
    steps:
      - uses: actions/checkout@v5
      - uses: ${ACTION_REF}
        with:
          config: ${q(o.configDir)}
`
}

export function promoteWorkflow(o: InitOptions): string {
  const stageOptions = o.stages.map((s) => `          - ${q(s)}`).join('\n')
  return `# Manual actions: promote or approve freight for a stage, abort a promotion, re-verify.
# Promote and approve run in the stage's GitHub Environment: add required reviewers to the
# "${o.stages[o.stages.length - 1]}" environment (Settings → Environments) to gate it. See docs/workflows.md.
name: Waybill promote
run-name: waybill \${{ inputs.command }} \${{ inputs.freight }} → \${{ inputs.stage }}

on:
  workflow_dispatch:
    inputs:
      command:
        description: What to do (discover = refresh now, looking for new freight at once)
        type: choice
        default: promote
        options:
          - promote
          - approve
          - abort
          - verify
          - discover
      stage:
        description: Stage
        type: choice
        required: true
        options:
${stageOptions}
      freight:
        description: Freight alias, ID or "latest" (promote, approve)
        type: string
        default: latest

permissions:
  contents: write
  pull-requests: write
  deployments: write
  statuses: write
  packages: read

jobs:
  promote:
    if: inputs.command == 'promote' || inputs.command == 'approve'
    runs-on: ubuntu-latest
    timeout-minutes: 60
    # Required reviewers and wait timers of the stage's environment gate this job.
    environment: \${{ inputs.stage }}
    # Its own group per stage, not the pipeline's: a job waiting for an environment's reviewers
    # already holds its concurrency group, and sharing the pipeline's would stall every scheduled,
    # registry and push run until someone approves. The state branch's compare-and-swap writes
    # and promotion leases keep concurrent runs safe.
    concurrency:
      group: waybill-promote-\${{ github.repository }}-\${{ inputs.stage }}
      cancel-in-progress: false
      queue: max
    steps:
      - uses: actions/checkout@v5
      - uses: ${ACTION_REF}
        with:
          config: ${q(o.configDir)}
          command: \${{ inputs.command }}
          stage: \${{ inputs.stage }}
          freight: \${{ inputs.freight }}

  manage:
    if: inputs.command == 'abort' || inputs.command == 'verify' || inputs.command == 'discover'
    runs-on: ubuntu-latest
    timeout-minutes: 30
    concurrency:
      group: waybill-\${{ github.repository }}
      cancel-in-progress: false
      queue: max
    steps:
      - uses: actions/checkout@v5
      - uses: ${ACTION_REF}
        with:
          config: ${q(o.configDir)}
          command: \${{ inputs.command }}
          stage: \${{ inputs.stage }}
`
}

/** Every file init writes, paths relative to the repository root. */
export function initFiles(o: InitOptions): InitFile[] {
  const dir = o.configDir.replace(/\/+$/, '')
  const patternNote = `Waybill (Kargo resources), ${o.pattern} pattern, ${o.layout} layout: docs/patterns/${o.pattern}.md`
  return [
    {
      path: `${dir}/warehouse.yaml`,
      content: resourcesFile([patternNote], [warehouseResource(o)])
    },
    {
      path: `${dir}/stages.yaml`,
      content: resourcesFile(
        [`Stages in promotion order: ${o.stages.join(' → ')}`],
        stageResources(o)
      )
    },
    {
      path: `${dir}/promotion-task.yaml`,
      content: resourcesFile(
        [
          `Renders stages/<stage> of ${o.gitRepo} into its stage/<stage> branch.`,
          'Point an Argo CD Application of each stage at that branch.'
        ],
        [promotionTaskResource(o)]
      )
    },
    {
      path: `${dir}/project-config.yaml`,
      content: resourcesFile(
        [
          `Auto-promotion for every stage but the last (${o.stages[o.stages.length - 1]}, promoted by hand).`
        ],
        [projectConfigResource(o)]
      )
    },
    { path: '.github/workflows/waybill.yml', content: reconcileWorkflow(o) },
    { path: '.github/workflows/waybill-promote.yml', content: promoteWorkflow(o) }
  ]
}

/**
 * How to let only the workflow push the state branch: whoever can push it steers auto-promotion
 * and queues promotions (docs/reliability.md, threat model). Lines for init's next steps.
 */
export function stateBranchRulesetSteps(stateBranch = 'waybill/state'): string[] {
  return [
    `Limit who can push ${stateBranch}: Settings → Rules → Rulesets → New branch ruleset,`,
    `     target ${stateBranch}; enable Restrict updates, Restrict deletions, Block force pushes;`,
    '     bypass list: only the identity the workflows run as (GitHub Actions, or your GitHub App)'
  ]
}
