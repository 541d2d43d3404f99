import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { gitTry } from '../git/git.js'
import { runPromotion, type PromotionRunResult } from '../promotion/engine.js'
import type { PipelineContext } from '../pipeline/reconcile.js'
import { stepRegistry } from '../steps/registry.js'
import type { AnyStepDefinition, StepContext, StepResult } from '../steps/types.js'
import { generatedBranch } from '../steps/git/common.js'
import type { Promotion, State } from '../state/types.js'
import { confinedPath } from '../util/paths.js'
import { redact } from '../util/logger.js'

/**
 * Dry runs (input/flag `dry-run`): a promotion's steps run in a scratch directory, the steps whose
 * effect is remote are reported as "would run" instead of running, and the diff of the working
 * trees the steps changed is shown. Nothing is pushed, opened, merged, deployed or recorded: the
 * state branch is never written (the caller does not call StateStore.update).
 */

/** Steps whose effect is outside the scratch directory, or that wait on such an effect. */
const REMOTE_STEPS = new Set([
  'git-push',
  'github-push',
  'git-open-pr',
  'git-merge-pr',
  'git-wait-for-pr',
  'argocd-update',
  'argocd-wait',
  'oci-push',
  'gha-dispatch-workflow',
  'gha-wait-for-workflow',
  'send-message'
])

function hasRemoteEffect(def: AnyStepDefinition, config: unknown): boolean {
  if (REMOTE_STEPS.has(def.name)) return true
  if (def.name === 'http') {
    const requested = (config as { method?: unknown }).method
    const method = (typeof requested === 'string' ? requested : 'GET').toUpperCase()
    return method !== 'GET' && method !== 'HEAD'
  }
  return false
}

/** Outputs later steps read from a skipped step (`outputs.push.branch`, `outputs['open-pr'].pr`). */
async function placeholderOutputs(
  def: AnyStepDefinition,
  config: Record<string, unknown>,
  ctx: StepContext
): Promise<Record<string, unknown>> {
  if (def.name === 'git-push' || def.name === 'github-push') {
    const dir =
      typeof config.path === 'string' ? confinedPath(ctx.workDir, config.path, 'path') : ''
    const head = dir ? await gitTry(['rev-parse', 'HEAD'], { cwd: dir }) : undefined
    const branch =
      typeof config.targetBranch === 'string' && config.targetBranch
        ? config.targetBranch
        : generatedBranch(ctx.promotion)
    return { branch, commit: head?.code === 0 ? head.stdout.trim() : '' }
  }
  if (def.name === 'git-open-pr') return { pr: { id: 0, url: '' }, prNumber: 0 }
  return {}
}

export interface DryRunRecorder {
  /** `alias (step)` of every step that would have run. */
  skipped: string[]
}

/** The step registry with remote-effect steps replaced by "would run" stand-ins (config still checked). */
export function dryRunSteps(
  base: ReadonlyMap<string, AnyStepDefinition>,
  recorder: DryRunRecorder
): ReadonlyMap<string, AnyStepDefinition> {
  const out = new Map<string, AnyStepDefinition>()
  for (const [name, def] of base) {
    if (!REMOTE_STEPS.has(name) && name !== 'http') {
      out.set(name, def)
      continue
    }
    out.set(name, {
      ...def,
      // A skipped step's config may name what an earlier skipped step would have returned (a
      // pull request number): it is checked, but a problem does not stop the dry run.
      parse(config: unknown): unknown {
        if (!REMOTE_STEPS.has(name)) return def.parse(config)
        try {
          return def.parse(config)
        } catch {
          return config
        }
      },
      async run(config: Record<string, unknown>, ctx: StepContext): Promise<StepResult> {
        if (!hasRemoteEffect(def, config)) return def.run(config, ctx)
        recorder.skipped.push(`${ctx.alias} (${def.name})`)
        ctx.logger.info(`dry run: would run ${ctx.alias} (${def.name})`)
        return {
          status: 'Succeeded',
          message: 'dry run: not run',
          outputs: await placeholderOutputs(def, config, ctx)
        }
      }
    })
  }
  return out
}

/** Git working trees under `root` (a `.git` file or folder), shallowest first. */
function worktrees(root: string): string[] {
  const found: string[] = []
  const walk = (dir: string, depth: number) => {
    if (depth > 6) return
    let entries: fs.Dirent[]
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true })
    } catch {
      return
    }
    if (entries.some((e) => e.name === '.git')) {
      found.push(dir)
      return
    }
    for (const e of entries) if (e.isDirectory()) walk(path.join(dir, e.name), depth + 1)
  }
  walk(root, 0)
  return found
}

/** The empty tree: the base of a branch the promotion creates. */
async function emptyTree(dir: string): Promise<string> {
  const r = await gitTry(['hash-object', '-t', 'tree', '--stdin'], { cwd: dir, input: '' })
  return r.stdout.trim()
}

/**
 * What the steps changed in one working tree: its branch's remote state (or nothing, for a new
 * branch) against the working tree, commits made by the steps included.
 */
async function worktreeDiff(dir: string, label: string): Promise<string> {
  // Untracked files the steps wrote are shown as new files.
  await gitTry(['add', '-A', '--intent-to-add', '.'], { cwd: dir })
  const branch = await gitTry(['symbolic-ref', '-q', '--short', 'HEAD'], { cwd: dir })
  let base = 'HEAD'
  if (branch.code === 0) {
    const remote = `refs/remotes/origin/${branch.stdout.trim()}`
    const has = await gitTry(['rev-parse', '-q', '--verify', `${remote}^{commit}`], { cwd: dir })
    base = has.code === 0 ? remote : await emptyTree(dir)
  }
  const diff = await gitTry(
    [
      'diff',
      '--no-color',
      '--no-ext-diff',
      `--src-prefix=a/${label}/`,
      `--dst-prefix=b/${label}/`,
      base
    ],
    { cwd: dir }
  )
  return diff.code === 0 ? diff.stdout : ''
}

export interface DryRunResult {
  result: PromotionRunResult
  skipped: string[]
  /** Unified diff of every working tree the steps changed (paths prefixed with the tree's path). */
  diff: string
}

/** Runs `promotion` (not recorded anywhere) as a dry run; `state` is the state it would start from. */
export async function dryRunPromotion(
  pipeline: PipelineContext,
  promotion: Promotion,
  state: State
): Promise<DryRunResult> {
  const workRoot = fs.mkdtempSync(
    path.join(process.env.RUNNER_TEMP || os.tmpdir(), 'waybill-dry-run-')
  )
  try {
    const recorder: DryRunRecorder = { skipped: [] }
    const stage = pipeline.model.stages.get(promotion.stage)
    const result = await pipeline.logger.group(`dry run: ${promotion.stage}`, () =>
      runPromotion(promotion, {
        state,
        project: pipeline.project,
        stageVars: stage?.spec.vars ?? [],
        services: pipeline.services,
        logger: pipeline.logger,
        workRoot,
        now: () => pipeline.now(),
        waitMs: 0,
        steps: dryRunSteps(stepRegistry, recorder)
      })
    )
    const diffs: string[] = []
    for (const dir of worktrees(workRoot)) {
      const label = path.relative(workRoot, dir).split(path.sep).slice(1).join('/') || '.'
      const d = await worktreeDiff(dir, label)
      if (d) diffs.push(d.endsWith('\n') ? d : `${d}\n`)
    }
    return { result, skipped: recorder.skipped, diff: redact(diffs.join('')) }
  } finally {
    fs.rmSync(workRoot, { recursive: true, force: true })
  }
}
