/**
 * GitHub Deployments for promotions, so the repository's Environments page shows what runs
 * where: one deployment per promotion (environment = stage), with statuses in_progress →
 * success/failure, or inactive for an aborted promotion (GitHub's state for a deployment that is
 * no longer live; `error`/`failure` would claim it ran and broke). The deployment is found again by its payload (`waybill.promotion`), so a
 * promotion resumed by a later run updates the same deployment.
 */
import type { Services } from '../runtime/services.js'
import type { Promotion } from '../state/types.js'
import type { Logger } from '../util/logger.js'
import { redact } from '../util/logger.js'
import { WaybillError } from '../util/errors.js'
import { githubClient, githubError, type GitHubClient } from './github.js'
import type { GitHubRepo } from './repo-url.js'

export type DeploymentState = 'in_progress' | 'success' | 'failure' | 'inactive'

export interface RecordDeploymentOptions {
  services: Services
  logger: Logger
  /** owner/repo the deployment belongs to (the repository the action runs in). */
  repository: string
  stage: string
  promotion: Promotion
  freightAlias: string
  /** Branch, tag or commit SHA deployed (e.g. the commit pushed to the stage branch). */
  ref: string
  state: DeploymentState
  /** The environment's URL; default from the stage's metadata (`url` or `environmentUrl`). */
  environmentUrl?: string
  /** The stage's metadata (set-metadata step), read for the environment URL. */
  stageMetadata?: Record<string, unknown>
  /** A deployment ID remembered from an earlier call (skips the lookup). */
  deploymentId?: number
  /** An Octokit to reuse (default: one for services.github). */
  client?: GitHubClient
  /** Only update a deployment the promotion already has; never create one. */
  existingOnly?: boolean
}

export interface DeploymentRecord {
  deploymentId: number
  /** True when this call created the deployment. */
  created: boolean
  /** False when the deployment already had this state (nothing posted). */
  statusPosted: boolean
  environmentUrl?: string
}

/** The payload Waybill stores on a deployment. */
export interface WaybillDeploymentPayload {
  waybill: { promotion: string; freight: string; alias: string; stage: string }
}

function isHttpUrl(v: unknown): v is string {
  if (typeof v !== 'string') return false
  try {
    const u = new URL(v)
    return u.protocol === 'https:' || u.protocol === 'http:'
  } catch {
    return false
  }
}

/** The environment URL a stage's metadata names (`url`, else `environmentUrl`), if http(s). */
export function environmentUrlFromMetadata(
  metadata: Record<string, unknown> | undefined
): string | undefined {
  for (const key of ['url', 'environmentUrl']) {
    const v = metadata?.[key]
    if (isHttpUrl(v)) return v
  }
  return undefined
}

function parseRepository(repository: string): { owner: string; repo: string } {
  const m = /^([\w.-]+)\/([\w.-]+)$/.exec(repository.trim())
  if (!m)
    throw new WaybillError(
      `repository '${repository}' is not owner/repo`,
      'deployments are recorded in the repository the workflow runs in (GITHUB_REPOSITORY)'
    )
  return { owner: m[1], repo: m[2] }
}

function payloadOf(raw: unknown): WaybillDeploymentPayload['waybill'] | undefined {
  let p = raw
  if (typeof p === 'string') {
    try {
      p = JSON.parse(p)
    } catch {
      return undefined
    }
  }
  const w = (p as Partial<WaybillDeploymentPayload> | null)?.waybill
  return w && typeof w.promotion === 'string' ? w : undefined
}

function describe(opts: RecordDeploymentOptions): string {
  const what = `${opts.freightAlias} → ${opts.stage}`
  const text =
    opts.state === 'in_progress'
      ? `Promoting ${what}`
      : opts.state === 'success'
        ? `Promoted ${what}`
        : opts.state === 'inactive'
          ? `Promotion of ${what} aborted`
          : `Promotion of ${what} ${opts.promotion.phase.toLowerCase()}`
  // GitHub limits descriptions to 140 characters.
  return redact(text).slice(0, 140)
}

/** The deployment a promotion created earlier, found by its payload. */
async function findDeployment(
  gh: GitHubClient,
  repo: { owner: string; repo: string },
  stage: string,
  promotion: string
): Promise<number | undefined> {
  // Newest first; a promotion's deployment is recent, so a few pages are plenty.
  for (let page = 1; page <= 3; page++) {
    const { data } = await gh.rest.repos.listDeployments({
      ...repo,
      environment: stage,
      per_page: 100,
      page
    })
    const found = data.find((d) => payloadOf(d.payload)?.promotion === promotion)
    if (found) return found.id
    if (data.length < 100) break
  }
  return undefined
}

/**
 * Creates the promotion's deployment when it has none and posts `state` to it. Idempotent: a
 * state the deployment already has is not posted again.
 */
export async function recordDeployment(
  opts: RecordDeploymentOptions & { existingOnly?: false }
): Promise<DeploymentRecord>
export async function recordDeployment(
  opts: RecordDeploymentOptions
): Promise<DeploymentRecord | undefined>
export async function recordDeployment(
  opts: RecordDeploymentOptions
): Promise<DeploymentRecord | undefined> {
  const repo = parseRepository(opts.repository)
  const gh = opts.client ?? githubClient(opts.services, opts.logger)
  const where: GitHubRepo = {
    ...repo,
    host: '',
    apiUrl: opts.services.github.apiUrl,
    serverUrl: opts.services.github.serverUrl
  }
  const environmentUrl = isHttpUrl(opts.environmentUrl)
    ? opts.environmentUrl
    : environmentUrlFromMetadata(opts.stageMetadata)
  let deploymentId = opts.deploymentId
  let created = false
  try {
    deploymentId ??= await findDeployment(gh, repo, opts.stage, opts.promotion.name)
    if (deploymentId === undefined && opts.existingOnly) return undefined
    if (deploymentId === undefined) {
      const payload: WaybillDeploymentPayload = {
        waybill: {
          promotion: opts.promotion.name,
          freight: opts.promotion.freight,
          alias: opts.freightAlias,
          stage: opts.stage
        }
      }
      const res = await gh.rest.repos.createDeployment({
        ...repo,
        ref: opts.ref,
        environment: opts.stage,
        task: 'deploy',
        auto_merge: false,
        required_contexts: [],
        transient_environment: false,
        description: describe(opts),
        payload: payload as unknown as Record<string, unknown>
      })
      if (res.status !== 201 || !('id' in res.data))
        throw new WaybillError(
          `GitHub did not create a deployment for ${opts.stage}: ${redact(JSON.stringify(res.data)).slice(0, 200)}`
        )
      deploymentId = res.data.id
      created = true
      opts.logger.info(`deployment ${deploymentId} created for environment ${opts.stage}`)
    } else {
      const { data: statuses } = await gh.rest.repos.listDeploymentStatuses({
        ...repo,
        deployment_id: deploymentId,
        per_page: 1
      })
      if (statuses[0]?.state === opts.state)
        return { deploymentId, created, statusPosted: false, environmentUrl }
    }
    await gh.rest.repos.createDeploymentStatus({
      ...repo,
      deployment_id: deploymentId,
      state: opts.state,
      description: describe(opts),
      ...(opts.promotion.runURL && isHttpUrl(opts.promotion.runURL)
        ? { log_url: opts.promotion.runURL }
        : {}),
      ...(environmentUrl ? { environment_url: environmentUrl } : {}),
      auto_inactive: opts.state === 'success'
    })
    opts.logger.debug(`deployment ${deploymentId} (${opts.stage}): ${opts.state}`)
    return { deploymentId, created, statusPosted: true, environmentUrl }
  } catch (err) {
    if (err instanceof WaybillError) throw err
    const e = githubError(err, `recording the deployment of ${opts.promotion.name}`, where)
    throw /HTTP 403/.test(e.message)
      ? new WaybillError(e.message, 'the workflow needs permissions: deployments: write')
      : e
  }
}

/** The deployment state for a promotion phase, or undefined while it has not started. */
export function deploymentStateFor(phase: Promotion['phase']): DeploymentState | undefined {
  switch (phase) {
    case 'Running':
      return 'in_progress'
    case 'Succeeded':
      return 'success'
    case 'Failed':
    case 'Errored':
      return 'failure'
    case 'Aborted':
      return 'inactive'
    default:
      return undefined
  }
}
