import { z } from 'zod'
import { defineStep } from '../define.js'
import {
  AUTHORIZED_STAGE_ANNOTATION,
  PROMOTION_INFO_KEY,
  appSources,
  isOperationCompleted,
  type ArgoCDApplication,
  type ArgoCDApplicationSource,
  type ArgoCDClient,
  type ArgoCDOperation
} from '../../integrations/argocd.js'
import { WaybillError, errorMessage } from '../../util/errors.js'
import type { StepContext, StepResult } from '../types.js'
import { appLabel, clientFor, nameXorSelector, resolveApps, selectorSchema } from './common.js'

/**
 * argocd-update (Kargo's argocd_updater.go): points Argo CD Applications at what is being
 * promoted (optionally moving targetRevision, Kustomize images, Helm parameters), then syncs
 * them and waits (by returning Running) until the sync for this promotion has finished at the
 * desired revisions. On success it registers a health check for the stage.
 */

const kustomizeImageSchema = z
  .strictObject({
    repoURL: z.string().min(1),
    tag: z.string().optional(),
    digest: z.string().optional(),
    newName: z.string().min(1).optional()
  })
  .refine((i) => !(i.tag && i.digest), {
    message: 'tag and digest are mutually exclusive',
    path: ['digest']
  })

const sourceUpdateSchema = z
  .strictObject({
    repoURL: z.string().min(1),
    chart: z.string().min(1).optional(),
    desiredRevision: z.string().min(1).optional(),
    updateTargetRevision: z.boolean().optional(),
    kustomize: z
      .strictObject({ images: z.array(kustomizeImageSchema).min(1).optional() })
      .optional(),
    helm: z
      .strictObject({
        images: z.array(z.strictObject({ key: z.string().min(1), value: z.string() })).min(1)
      })
      .optional()
  })
  .refine((s) => !s.updateTargetRevision || Boolean(s.desiredRevision), {
    message: 'updateTargetRevision requires desiredRevision',
    path: ['desiredRevision']
  })

const appUpdateSchema = z
  .strictObject({
    name: z.string().nullish(),
    namespace: z.string().min(1).optional(),
    selector: selectorSchema.nullish(),
    sources: z.array(sourceUpdateSchema).min(1).optional()
  })
  .superRefine(nameXorSelector)

export const argocdUpdateConfigSchema = z.strictObject({
  apps: z.array(appUpdateSchema).min(1)
})

export type ArgoCDUpdateConfig = z.output<typeof argocdUpdateConfigSchema>
type AppUpdate = ArgoCDUpdateConfig['apps'][number]
type SourceUpdate = NonNullable<AppUpdate['sources']>[number]

export const ARGOCD_DEFAULT_TIMEOUT_MS = 5 * 60_000
const POLL_MS = 10_000

// ---------- authorization ----------

/**
 * Whether the Application delegates to `<project>:<stage>`. Returns the reason when not.
 * Globs are rejected, as Kargo does since they were deprecated.
 */
export function authorizationProblem(
  app: ArgoCDApplication,
  project: string,
  stage: string
): string | undefined {
  const value = app.metadata?.annotations?.[AUTHORIZED_STAGE_ANNOTATION]
  if (value === undefined) {
    return `it has no ${AUTHORIZED_STAGE_ANNOTATION} annotation`
  }
  const entries = value
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)
  const globs = entries.filter((e) => e.includes('*'))
  if (entries.some((e) => e === `${project}:${stage}`)) return undefined
  const why = `its ${AUTHORIZED_STAGE_ANNOTATION} annotation ("${value}") does not name ${project}:${stage}`
  return globs.length ? `${why} (glob patterns such as "${globs[0]}" are not supported)` : why
}

// ---------- source updates ----------

function sourceMatches(src: ArgoCDApplicationSource, upd: SourceUpdate): boolean {
  return src.repoURL === upd.repoURL && (src.chart ?? '') === (upd.chart ?? '')
}

/** The name part of an Argo CD Kustomize image override (`[old=]name[:tag|@digest]`). */
function kustomizeImageName(image: string): string {
  const left = image.split('=')[0]
  return left.replace(/@.*$/, '').replace(/:[^/:]*$/, '')
}

function kustomizeImageString(
  img: NonNullable<NonNullable<SourceUpdate['kustomize']>['images']>[number],
  ctx: StepContext
): string {
  const { digest } = img
  let { tag } = img
  if (!tag && !digest) {
    const found = ctx.freight.flatMap((f) => f.images).find((i) => i.repoURL === img.repoURL)
    if (!found) {
      throw new WaybillError(
        `kustomize image ${img.repoURL}: no tag or digest given and the freight has no such image`,
        'set tag or digest, e.g. ${{ imageFrom("' + img.repoURL + '").tag }}'
      )
    }
    tag = found.tag
  }
  let out = img.repoURL
  if (img.newName) out += `=${img.newName}`
  return digest ? `${out}@${digest}` : `${out}:${tag}`
}

/** Applies the updates to a copy of the sources; reports whether anything changed. */
export function applySourceUpdates(
  sources: ArgoCDApplicationSource[],
  updates: SourceUpdate[],
  ctx: StepContext
): { sources: ArgoCDApplicationSource[]; changed: boolean; desiredRevisions: string[] } {
  const out = sources.map((s) => JSON.parse(JSON.stringify(s)) as ArgoCDApplicationSource)
  const desiredRevisions = sources.map(() => '')
  for (const upd of updates) {
    const idx = out.findIndex((s) => sourceMatches(s, upd))
    if (idx < 0) continue
    const src = out[idx]
    if (upd.desiredRevision) desiredRevisions[idx] = upd.desiredRevision
    if (upd.updateTargetRevision && upd.desiredRevision) src.targetRevision = upd.desiredRevision
    if (upd.kustomize?.images?.length) {
      const images = [...(src.kustomize?.images ?? [])]
      for (const img of upd.kustomize.images) {
        const value = kustomizeImageString(img, ctx)
        const at = images.findIndex((i) => kustomizeImageName(i) === img.repoURL)
        if (at >= 0) images[at] = value
        else images.push(value)
      }
      src.kustomize = { ...(src.kustomize ?? {}), images }
    }
    if (upd.helm?.images.length) {
      const params = [...(src.helm?.parameters ?? [])]
      for (const { key, value } of upd.helm.images) {
        const at = params.findIndex((p) => p.name === key)
        if (at >= 0) params[at] = { ...params[at], value }
        else params.push({ name: key, value })
      }
      src.helm = { ...(src.helm ?? {}), parameters: params }
    }
  }
  const changed = JSON.stringify(out) !== JSON.stringify(sources)
  return { sources: out, changed, desiredRevisions }
}

function unmatchedUpdates(app: ArgoCDApplication, updates: SourceUpdate[]): SourceUpdate[] {
  const sources = appSources(app)
  return updates.filter((u) => !sources.some((s) => sourceMatches(s, u)))
}

// ---------- operations ----------

function isOurs(op: ArgoCDOperation | undefined, promotion: string): boolean {
  return Boolean(op?.info?.some((i) => i.name === PROMOTION_INFO_KEY && i.value === promotion))
}

function startedBy(op: ArgoCDOperation | undefined): string {
  const promo = op?.info?.find((i) => i.name === PROMOTION_INFO_KEY)?.value
  if (promo) return `promotion ${promo}`
  if (op?.initiatedBy?.automated) return 'automated sync'
  return op?.initiatedBy?.username ? `user ${op.initiatedBy.username}` : 'someone else'
}

/** Revisions a finished sync applied, per source. */
function syncedRevisions(app: ArgoCDApplication): string[] {
  const r = app.status?.operationState?.syncResult
  if (r?.revisions?.length) return r.revisions
  return r?.revision ? [r.revision] : []
}

function revisionMismatch(observed: string[], desired: string[]): string | undefined {
  for (let i = 0; i < desired.length; i++) {
    if (desired[i] && observed[i] !== desired[i]) {
      return `source ${i} synced to ${observed[i] || '(nothing)'}, desired ${desired[i]}`
    }
  }
  return undefined
}

interface AppOutcome {
  status: 'Running' | 'Succeeded' | 'Errored'
  message: string
  name: string
  namespace: string
  desiredRevisions: string[]
}

async function updateOne(
  client: ArgoCDClient,
  app: ArgoCDApplication,
  updates: SourceUpdate[],
  ctx: StepContext,
  namespace: string
): Promise<AppOutcome> {
  const name = app.metadata!.name!
  const label = `${namespace}/${name}`
  const planned = applySourceUpdates(appSources(app), updates, ctx)
  const base = { name, namespace, desiredRevisions: planned.desiredRevisions }
  const running = (message: string): AppOutcome => ({ ...base, status: 'Running', message })

  // An operation requested but not yet picked up by the controller.
  if (app.operation) {
    return isOurs(app.operation, ctx.promotion)
      ? running(`${label}: sync requested, waiting for Argo CD to start it`)
      : running(`${label}: waiting for an operation requested by ${startedBy(app.operation)}`)
  }
  const state = app.status?.operationState
  if (state && !isOperationCompleted(state.phase)) {
    return isOurs(state.operation, ctx.promotion)
      ? running(
          `${label}: sync ${state.phase ?? 'Running'}${state.message ? `: ${state.message}` : ''}`
        )
      : running(
          `${label}: waiting for the operation started by ${startedBy(state.operation)} to finish (${state.phase})`
        )
  }
  if (state && isOurs(state.operation, ctx.promotion)) {
    if (state.phase === 'Failed' || state.phase === 'Error') {
      return {
        ...base,
        status: 'Errored',
        message: `${label}: sync ${state.phase}${state.message ? `: ${state.message}` : ''}`
      }
    }
    const mismatch = revisionMismatch(syncedRevisions(app), planned.desiredRevisions)
    if (!mismatch && !planned.changed) {
      return { ...base, status: 'Succeeded', message: `${label}: synced` }
    }
    ctx.logger.info(
      `${label}: the sync for this promotion did not apply what is desired (${mismatch ?? 'spec changed since'}); syncing again`
    )
  }

  if (planned.changed) {
    const patch = app.spec?.sources?.length
      ? { spec: { sources: planned.sources } }
      : { spec: { source: planned.sources[0] } }
    ctx.logger.info(`${label}: updating the Application's source`)
    await client.patchApplication(name, namespace, patch)
  }
  // Hard refresh so that Argo CD resolves targetRevision afresh before the sync.
  const fresh = await client.getApplication(name, namespace, { refresh: 'hard' })
  const policy = fresh.spec?.syncPolicy ?? app.spec?.syncPolicy
  await client.syncApplication(name, namespace, {
    syncOptions: policy?.syncOptions,
    retryStrategy: policy?.retry,
    infos: [
      { name: 'Reason', value: 'Promotion triggered a sync of this Application resource.' },
      { name: PROMOTION_INFO_KEY, value: ctx.promotion }
    ]
  })
  ctx.logger.info(`${label}: sync started for promotion ${ctx.promotion}`)
  return running(`${label}: sync started`)
}

export const argocdUpdateStep = defineStep({
  name: 'argocd-update',
  schema: argocdUpdateConfigSchema,
  capabilities: ['argocd'],
  defaults: { timeoutMs: ARGOCD_DEFAULT_TIMEOUT_MS },
  async run(config, ctx): Promise<StepResult> {
    const { client, namespace: defaultNamespace } = clientFor(ctx)

    // Resolve every app first: selector updates must fit every matched app (no partial updates).
    const work: Array<{ app: ArgoCDApplication; updates: SourceUpdate[]; namespace: string }> = []
    const seen = new Set<string>()
    for (const [i, entry] of config.apps.entries()) {
      const namespace = entry.namespace ?? defaultNamespace
      const apps = await resolveApps(
        client,
        { name: entry.name || undefined, namespace, selector: entry.selector ?? undefined },
        defaultNamespace
      )
      for (const app of apps) {
        const label = appLabel(app, namespace)
        const missing = unmatchedUpdates(app, entry.sources ?? [])
        if (missing.length) {
          throw new WaybillError(
            `apps[${i}]: Application ${label} has no source with repoURL ${missing[0].repoURL}${missing[0].chart ? ` and chart ${missing[0].chart}` : ''}`,
            'sources[].repoURL (and chart) must equal the Application source exactly'
          )
        }
        if (seen.has(label)) continue
        seen.add(label)
        work.push({ app, updates: entry.sources ?? [], namespace })
      }
    }

    // Authorization: the Application must delegate to this project's stage.
    const authorized = work.filter(({ app, namespace }) => {
      const problem = authorizationProblem(app, ctx.project, ctx.stage)
      if (problem) {
        ctx.logger.notice(
          `argocd-update: skipping Application ${appLabel(app, namespace)}: ${problem}`
        )
      }
      return !problem
    })
    if (!authorized.length) {
      throw new WaybillError(
        `argocd-update: none of the Applications (${work.map((w) => appLabel(w.app, w.namespace)).join(', ')}) is authorized for stage ${ctx.stage}`,
        `annotate each Application with ${AUTHORIZED_STAGE_ANNOTATION}: "${ctx.project}:${ctx.stage}"`
      )
    }

    const outcomes: AppOutcome[] = []
    for (const { app, updates, namespace } of authorized) {
      try {
        outcomes.push(await updateOne(client, app, updates, ctx, namespace))
      } catch (err) {
        outcomes.push({
          status: 'Errored',
          message: errorMessage(err),
          name: app.metadata!.name!,
          namespace,
          desiredRevisions: []
        })
      }
    }

    const outputs = { apps: outcomes.map((o) => ({ name: o.name, namespace: o.namespace })) }
    const errored = outcomes.filter((o) => o.status === 'Errored')
    if (errored.length) {
      return { status: 'Errored', outputs, message: errored.map((o) => o.message).join('; ') }
    }
    const pending = outcomes.filter((o) => o.status === 'Running')
    if (pending.length) {
      return {
        status: 'Running',
        outputs,
        message: pending.map((o) => o.message).join('; '),
        pollIntervalMs: POLL_MS
      }
    }
    return {
      status: 'Succeeded',
      outputs,
      message: `synced ${outcomes.map((o) => `${o.namespace}/${o.name}`).join(', ')}`,
      healthCheck: {
        uses: 'argocd-update',
        input: {
          apps: outcomes.map((o) => ({
            name: o.name,
            namespace: o.namespace,
            desiredRevisions: o.desiredRevisions
          }))
        }
      }
    }
  }
})
