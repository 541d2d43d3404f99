import { z } from 'zod'
import { defineStep } from '../define.js'
import { isOperationCompleted, type ArgoCDApplication } from '../../integrations/argocd.js'
import type { StepResult } from '../types.js'
import { ARGOCD_DEFAULT_TIMEOUT_MS } from './argocd-update.js'
import { appLabel, clientFor, nameXorSelector, resolveApps, selectorSchema } from './common.js'

/**
 * argocd-wait: returns Running until every Application meets its conditions. Health-related
 * conditions (health, suspended, degraded) are OR'd; the others (sync, operation) are AND'd.
 * Default: health, sync and operation.
 */

export const WAIT_CONDITIONS = ['health', 'sync', 'operation', 'suspended', 'degraded'] as const
export type WaitCondition = (typeof WAIT_CONDITIONS)[number]

const appWaitSchema = z
  .strictObject({
    name: z.string().nullish(),
    namespace: z.string().min(1).optional(),
    selector: selectorSchema.nullish(),
    waitFor: z
      .array(z.enum(WAIT_CONDITIONS))
      .min(1)
      .refine((a) => new Set(a).size === a.length, { message: 'waitFor entries must be unique' })
      .optional()
  })
  .superRefine(nameXorSelector)

export const argocdWaitConfigSchema = z.strictObject({ apps: z.array(appWaitSchema).min(1) })
export type ArgoCDWaitConfig = z.output<typeof argocdWaitConfigSchema>

const DEFAULT_WAIT_FOR: WaitCondition[] = ['health', 'sync', 'operation']
const HEALTH_WANTED: Partial<Record<WaitCondition, string>> = {
  health: 'Healthy',
  suspended: 'Suspended',
  degraded: 'Degraded'
}

/** What the app still lacks for the conditions, or [] when it meets them. */
export function unmetConditions(app: ArgoCDApplication, waitFor: WaitCondition[]): string[] {
  const unmet: string[] = []
  const healthWanted = waitFor.map((c) => HEALTH_WANTED[c]).filter((s): s is string => !!s)
  const health = app.status?.health?.status || 'Unknown'
  if (healthWanted.length && !healthWanted.includes(health)) {
    const msg = app.status?.health?.message
    unmet.push(
      `health is ${health}${msg ? ` (${msg})` : ''}, waiting for ${healthWanted.join(' or ')}`
    )
  }
  if (waitFor.includes('sync')) {
    const sync = app.status?.sync?.status || 'Unknown'
    if (sync !== 'Synced') unmet.push(`sync status is ${sync}`)
  }
  if (waitFor.includes('operation')) {
    const phase = app.status?.operationState?.phase
    if (app.operation) unmet.push('an operation is pending')
    else if (phase && !isOperationCompleted(phase)) unmet.push(`an operation is ${phase}`)
  }
  return unmet
}

export const argocdWaitStep = defineStep({
  name: 'argocd-wait',
  schema: argocdWaitConfigSchema,
  capabilities: ['argocd'],
  defaults: { timeoutMs: ARGOCD_DEFAULT_TIMEOUT_MS },
  async run(config, ctx): Promise<StepResult> {
    const { client, namespace: defaultNamespace } = clientFor(ctx)
    const waiting: string[] = []
    const apps: Array<{ name: string; namespace: string; health?: string; sync?: string }> = []
    for (const entry of config.apps) {
      const namespace = entry.namespace ?? defaultNamespace
      const found = await resolveApps(
        client,
        { name: entry.name || undefined, namespace, selector: entry.selector ?? undefined },
        defaultNamespace
      )
      const waitFor = entry.waitFor ?? DEFAULT_WAIT_FOR
      for (const app of found) {
        const unmet = unmetConditions(app, waitFor)
        if (unmet.length) waiting.push(`${appLabel(app, namespace)}: ${unmet.join(', ')}`)
        apps.push({
          name: app.metadata?.name ?? '',
          namespace: app.metadata?.namespace ?? namespace,
          health: app.status?.health?.status,
          sync: app.status?.sync?.status
        })
      }
    }
    if (waiting.length) {
      return {
        status: 'Running',
        outputs: { apps },
        message: `waiting for ${waiting.join('; ')}`,
        pollIntervalMs: 10_000
      }
    }
    return {
      status: 'Succeeded',
      outputs: { apps },
      message: `${apps.length} Application(s) ready`
    }
  }
})
