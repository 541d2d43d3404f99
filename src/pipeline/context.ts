import path from 'node:path'
import type { CommandContext } from '../runtime/context.js'
import { loadProjectOrThrow, type ProjectModel, type Stage } from '../config/index.js'
import { UsageError } from '../util/errors.js'
import { openStateStore } from '../state/open.js'
import { deploymentHook } from './deploy-hook.js'
import { commitStatusHooks } from './commit-status-hook.js'
import { pullRequestCleanupHook } from './pull-requests.js'
import { hasVerification } from './verification-config.js'
import { defaultWorkRoot, newRunId, type PipelineContext } from './reconcile.js'

/** A running promotion's lease: long enough for any step, short enough that a crashed run's work is resumed. */
export const DEFAULT_LEASE_MS = 30 * 60_000

/** The lease duration: env WAYBILL_LEASE_SECONDS (tests shorten it to resume crashed runs), else the default. */
export function leaseMsFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.WAYBILL_LEASE_SECONDS
  if (raw === undefined || raw.trim() === '') return DEFAULT_LEASE_MS
  const seconds = Number(raw)
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : DEFAULT_LEASE_MS
}

/** Builds the pipeline for a command: config loaded (errors become annotations), state store opened. */
export async function openPipeline(ctx: CommandContext): Promise<PipelineContext> {
  const model = await loadProjectOrThrow(ctx.repoDir, ctx.configDir, ctx.logger)
  const store = openStateStore(ctx)
  const repository = ctx.repository ?? process.env.GITHUB_REPOSITORY
  return {
    model,
    store,
    project: projectName(ctx),
    services: ctx.services,
    logger: ctx.logger,
    now: ctx.now,
    actor: ctx.actor,
    runURL: ctx.runURL,
    repository,
    ...promotionHooks(ctx, model, repository),
    waitMs: ctx.waitMs,
    parallelPromotions: ctx.parallelPromotions,
    runId: newRunId(),
    workRoot: defaultWorkRoot(),
    leaseMs: leaseMsFromEnv()
  }
}

/** GitHub Deployments and commit statuses, each when enabled and a token and repository are known. */
function promotionHooks(
  ctx: CommandContext,
  model: ProjectModel,
  repository: string | undefined
): Pick<PipelineContext, 'onPromotion' | 'onVerification'> {
  if (!ctx.services.github.token) return {}
  // Pull requests a finished promotion left open are closed, its generated branches deleted.
  const cleanup = pullRequestCleanupHook(ctx.services, ctx.logger, ctx.runURL)
  if (!repository) return { onPromotion: cleanup }
  const deploy = ctx.deployments ? deploymentHook(ctx.services, ctx.logger, repository) : undefined
  const statuses = ctx.commitStatuses
    ? commitStatusHooks({
        services: ctx.services,
        logger: ctx.logger,
        runURL: ctx.runURL,
        verifies: (stage, state) => {
          const s = model.stages.get(stage)
          return (
            (s !== undefined && hasVerification(s)) || !!state.stages[stage]?.healthChecks?.length
          )
        }
      })
    : undefined
  const hooks = [deploy, statuses?.onPromotion, cleanup].filter((h) => h !== undefined)
  return {
    onPromotion: hooks.length
      ? async (p, state) => {
          for (const h of hooks) await h(p, state)
        }
      : undefined,
    onVerification: statuses?.onVerification
  }
}

/** Kargo's project: the `project` input/flag, else the repository name. */
export function projectName(ctx: CommandContext): string {
  return ctx.project || process.env.GITHUB_REPOSITORY?.split('/')[1] || path.basename(ctx.repoDir)
}

/** The stage named by a flag or input, or a usage error listing the stages there are. */
export function requireStage(
  model: ProjectModel,
  name: string | undefined,
  flag = '--stage'
): Stage {
  if (!name) throw new UsageError(`${flag} is required`)
  const stage = model.stages.get(name)
  if (!stage)
    throw new UsageError(
      `stage '${name}' does not exist`,
      `stages: ${[...model.stages.keys()].join(', ')}`
    )
  return stage
}
