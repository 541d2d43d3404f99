import {
  ArgoCDClient,
  isOperationCompleted,
  type ArgoCDApplication
} from '../integrations/argocd.js'
import type { Services } from '../runtime/services.js'
import type { HealthCheck, HealthStatus, StageHealth } from '../state/types.js'
import { errorMessage } from '../util/errors.js'
import type { Logger } from '../util/logger.js'
import { redact } from '../util/logger.js'

/**
 * Stage health from the health checks the last successful promotion registered (Kargo's
 * pkg/health/checker/builtin/argocd.go). Only argocd-update registers any; no checks → Healthy.
 */

export interface ArgoCDAppHealthInput {
  name: string
  namespace?: string
  /** Per source; '' = any revision. */
  desiredRevisions?: string[]
}

export interface ApplicationHealthStatus {
  name: string
  namespace: string
  status: HealthStatus
  message?: string
  health?: string
  sync?: string
  revisions?: string[]
}

export interface HealthOptions {
  services: Services
  logger: Logger
  /** For tests: a ready client. */
  client?: ArgoCDClient
  now?: () => Date
}

const RANK: Record<HealthStatus, number> = {
  NotApplicable: 0,
  Healthy: 1,
  Progressing: 2,
  Unknown: 3,
  Unhealthy: 4
}

/** The more severe of two states (Kargo's HealthState.Merge). */
export function mergeHealth(a: HealthStatus, b: HealthStatus): HealthStatus {
  return RANK[a] >= RANK[b] ? a : b
}

const ERROR_CONDITION = /Error$/

/** The health of one Application as Kargo judges it, from the Application alone. */
export function applicationHealth(
  app: ArgoCDApplication,
  desiredRevisions: string[] = []
): { status: HealthStatus; message?: string } {
  const st = app.status
  const op = st?.operationState
  // Not reconciled since the last operation finished: what we see may be stale.
  if (op?.finishedAt) {
    const reconciled = st?.reconciledAt ? Date.parse(st.reconciledAt) : NaN
    if (!Number.isFinite(reconciled) || reconciled < Date.parse(op.finishedAt)) {
      return {
        status: 'Unknown',
        message: 'Argo CD has not reconciled the Application since its last operation finished'
      }
    }
  }
  const errors = (st?.conditions ?? []).filter((c) => c.type && ERROR_CONDITION.test(c.type))
  if (errors.length) {
    return {
      status: 'Unhealthy',
      message: errors.map((c) => `${c.type}: ${c.message ?? ''}`.trim()).join('; ')
    }
  }
  if (desiredRevisions.some(Boolean)) {
    if (app.operation || (op && !isOperationCompleted(op.phase))) {
      return { status: 'Unknown', message: 'the Application is being synced' }
    }
    const observed = st?.sync?.revisions?.length
      ? st.sync.revisions
      : st?.sync?.revision
        ? [st.sync.revision]
        : []
    for (let i = 0; i < desiredRevisions.length; i++) {
      const desired = desiredRevisions[i]
      if (desired && observed[i] !== desired) {
        return {
          status: 'Unhealthy',
          message: `sync revision ${observed[i] || '(none)'} does not match desired revision ${desired}`
        }
      }
    }
  }
  const health = st?.health?.status ?? ''
  const msg = st?.health?.message
  switch (health) {
    case 'Healthy':
      return { status: 'Healthy' }
    case '':
    case 'Progressing':
      return { status: 'Progressing', message: msg || 'the Application is progressing' }
    case 'Suspended':
      return { status: 'Progressing', message: msg || 'the Application is suspended' }
    default:
      return {
        status: 'Unhealthy',
        message: `Argo CD reports health ${health}${msg ? `: ${msg}` : ''}`
      }
  }
}

function inputApps(check: HealthCheck): ArgoCDAppHealthInput[] | undefined {
  const input = check.input as { apps?: unknown } | undefined
  if (!input || !Array.isArray(input.apps)) return undefined
  const apps = input.apps.filter(
    (a): a is ArgoCDAppHealthInput =>
      !!a && typeof a === 'object' && typeof (a as { name?: unknown }).name === 'string'
  )
  return apps.length === input.apps.length ? apps : undefined
}

export async function evaluateHealthChecks(
  checks: HealthCheck[],
  opts: HealthOptions
): Promise<StageHealth> {
  const checkedAt = (opts.now?.() ?? new Date()).toISOString()
  if (!checks.length) return { status: 'Healthy', checkedAt }
  let status: HealthStatus = 'Healthy'
  const issues: string[] = []
  const applicationStatuses: ApplicationHealthStatus[] = []
  let client = opts.client
  let defaultNamespace = opts.services.argocd?.namespace || 'argocd'
  for (const check of checks) {
    if (check.uses !== 'argocd-update') {
      status = mergeHealth(status, 'Unknown')
      issues.push(`unknown health check '${check.uses}'`)
      continue
    }
    const apps = inputApps(check)
    if (!apps) {
      status = mergeHealth(status, 'Unknown')
      issues.push('argocd-update health check has no valid apps list')
      continue
    }
    if (!client) {
      try {
        const made = ArgoCDClient.fromServices(opts.services, { attempts: 2 })
        client = made.client
        defaultNamespace = made.namespace
      } catch (err) {
        status = mergeHealth(status, 'Unknown')
        issues.push(errorMessage(err))
        continue
      }
    }
    for (const a of apps) {
      const namespace = a.namespace || defaultNamespace
      let result: ApplicationHealthStatus
      try {
        const app = await client.getApplication(a.name, namespace)
        const h = applicationHealth(app, a.desiredRevisions ?? [])
        const rev = app.status?.sync?.revisions?.length
          ? app.status.sync.revisions
          : app.status?.sync?.revision
            ? [app.status.sync.revision]
            : undefined
        result = {
          name: a.name,
          namespace,
          status: h.status,
          ...(h.message ? { message: h.message } : {}),
          ...(app.status?.health?.status ? { health: app.status.health.status } : {}),
          ...(app.status?.sync?.status ? { sync: app.status.sync.status } : {}),
          ...(rev ? { revisions: rev } : {})
        }
      } catch (err) {
        result = { name: a.name, namespace, status: 'Unknown', message: errorMessage(err) }
      }
      if (result.message) result.message = redact(result.message)
      applicationStatuses.push(result)
      status = mergeHealth(status, result.status)
      if (result.status !== 'Healthy' && result.message) {
        issues.push(`Application ${namespace}/${a.name}: ${result.message}`)
      }
    }
  }
  opts.logger.debug(`stage health: ${status}${issues.length ? ` (${issues.join('; ')})` : ''}`)
  return {
    status,
    ...(issues.length ? { issues } : {}),
    output: { applicationStatuses },
    checkedAt
  }
}

/** One line for status output, the job summary and the status page. */
export function summarizeHealth(h: StageHealth): string {
  const apps = (h.output as { applicationStatuses?: ApplicationHealthStatus[] } | undefined)
    ?.applicationStatuses
  const count = apps?.length
    ? ` (${apps.filter((a) => a.status === 'Healthy').length}/${apps.length} Applications healthy)`
    : ''
  const issues = h.issues?.length ? `: ${h.issues.join('; ')}` : ''
  return `${h.status}${count}${issues}`
}

/**
 * For verification: Healthy at the desired revisions. Returns true when the stage may be
 * verified, false while it should keep waiting.
 */
export function isHealthyForVerification(h: StageHealth): boolean {
  return h.status === 'Healthy' || h.status === 'NotApplicable'
}
