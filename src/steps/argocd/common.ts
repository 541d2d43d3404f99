import { z } from 'zod'
import {
  ArgoCDClient,
  type ArgoCDApplication,
  type LabelSelector
} from '../../integrations/argocd.js'
import type { StepContext } from '../types.js'
import { WaybillError } from '../../util/errors.js'

/** Kargo's argoCDAppSelector: matchLabels and/or matchExpressions, at least one criterion. */
export const selectorSchema = z
  .strictObject({
    matchLabels: z.record(z.string(), z.string()).optional(),
    matchExpressions: z
      .array(
        z
          .strictObject({
            key: z.string().min(1),
            operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']),
            values: z.array(z.string()).optional()
          })
          .superRefine((e, ctx) => {
            const n = e.values?.length ?? 0
            if ((e.operator === 'In' || e.operator === 'NotIn') && n === 0) {
              ctx.addIssue({
                code: 'custom',
                path: ['values'],
                message: `operator ${e.operator} needs at least one value`
              })
            }
            if ((e.operator === 'Exists' || e.operator === 'DoesNotExist') && n > 0) {
              ctx.addIssue({
                code: 'custom',
                path: ['values'],
                message: `operator ${e.operator} takes no values`
              })
            }
          })
      )
      .optional()
  })
  .refine(
    (s) => Object.keys(s.matchLabels ?? {}).length > 0 || (s.matchExpressions?.length ?? 0) > 0,
    { message: 'a selector needs matchLabels or matchExpressions' }
  )

/** name XOR selector, as Kargo's oneOf says. */
export function nameXorSelector(
  app: { name?: string | null; selector?: unknown },
  ctx: z.RefinementCtx
): void {
  const hasName = Boolean(app.name)
  const hasSelector = app.selector !== undefined && app.selector !== null
  if (hasName === hasSelector) {
    ctx.addIssue({
      code: 'custom',
      path: hasName ? ['selector'] : ['name'],
      message: hasName
        ? 'name and selector are mutually exclusive'
        : 'either name or selector is required'
    })
  }
}

export interface AppRef {
  name?: string
  namespace?: string
  selector?: LabelSelector
}

export function clientFor(ctx: StepContext<'argocd'>): {
  client: ArgoCDClient
  namespace: string
} {
  return ctx.caps.argocd()
}

/** Fetches the Applications one config entry names; a selector that matches nothing is an error. */
export async function resolveApps(
  client: ArgoCDClient,
  ref: AppRef,
  defaultNamespace: string,
  opts: { refresh?: 'hard' } = {}
): Promise<ArgoCDApplication[]> {
  const namespace = ref.namespace ?? defaultNamespace
  if (ref.name) return [await client.getApplication(ref.name, namespace, opts)]
  const found = await client.listApplications({ selector: ref.selector, namespace })
  if (!found.length) {
    throw new WaybillError(
      `no Argo CD Application in namespace ${namespace} matches selector ${JSON.stringify(ref.selector)}`,
      'check the selector labels and the namespace (argocd-namespace input, or namespace in the step config)'
    )
  }
  if (!opts.refresh) return found
  const out: ArgoCDApplication[] = []
  for (const app of found) {
    out.push(await client.getApplication(app.metadata!.name!, namespace, opts))
  }
  return out
}

export function appLabel(app: ArgoCDApplication, defaultNamespace: string): string {
  return `${app.metadata?.namespace ?? defaultNamespace}/${app.metadata?.name ?? '?'}`
}
