/**
 * Kargo 0.x Stages: `spec.subscriptions` (a warehouse, or upstream stages) becomes
 * `spec.requestedFreight`, and `spec.promotionMechanisms` becomes the equivalent
 * `spec.promotionTemplate.spec.steps`.
 */
import { isMap, type YAMLMap } from 'yaml'
import { child, flag, mapChild, plain, replacePair, seqItems, text } from './nodes.js'
import {
  chartFrom,
  commitFrom,
  imageFrom,
  imageValue,
  originArg,
  output,
  wrap
} from './expressions.js'
import type { MigrationTarget } from './types.js'
import { normalizeGitUrl } from '../freight/urls.js'

type Step = { uses: string; as?: string; config: Record<string, unknown> }

/** `subscriptions: {warehouse | upstreamStages}` → `requestedFreight`. */
export function migrateSubscriptions(t: MigrationTarget, spec: YAMLMap): void {
  const subs = child(spec, 'subscriptions')
  if (!isMap(subs)) return
  const warehouse = text(subs, 'warehouse')
  const upstream = seqItems(subs, 'upstreamStages')
    .map((u) => text(u, 'name'))
    .filter((n): n is string => n !== undefined)
  const requested: unknown[] = []
  if (warehouse) {
    requested.push({ origin: { kind: 'Warehouse', name: warehouse }, sources: { direct: true } })
  }
  if (upstream.length > 0) {
    // One entry per warehouse, each listing the upstream stages its Freight comes through.
    const byWarehouse = new Map<string, string[]>()
    for (const u of upstream) {
      const ws = t.facts.warehousesOf(u)
      if (ws.length === 0)
        t.note('warning', `cannot tell which warehouse feeds upstream stage '${u}'`, subs)
      for (const w of ws) byWarehouse.set(w, [...(byWarehouse.get(w) ?? []), u])
    }
    for (const [w, stages] of byWarehouse) {
      requested.push({ origin: { kind: 'Warehouse', name: w }, sources: { stages } })
    }
  }
  if (requested.length === 0) {
    t.note('warning', 'subscriptions name no warehouse or upstream stage; nothing to migrate', subs)
    return
  }
  replacePair(t.doc, spec, 'subscriptions', 'requestedFreight', requested)
  t.note(
    'change',
    `spec.subscriptions → spec.requestedFreight (${requested.length} origin${requested.length === 1 ? '' : 's'})`,
    subs
  )
}

interface GitUpdate {
  node: unknown
  repoURL: string
  readBranch?: string
  writeBranch?: string
  origin?: string
}

function originOf(node: unknown, inherited?: string): string | undefined {
  return originArg(plain(child(node, 'origin'))) ?? inherited
}

/** `promotionMechanisms` → `promotionTemplate.spec.steps`. */
export function migrateMechanisms(t: MigrationTarget, spec: YAMLMap): void {
  const mech = child(spec, 'promotionMechanisms')
  if (!isMap(mech)) return
  if (child(spec, 'promotionTemplate') !== undefined) {
    t.note(
      'warning',
      'both promotionMechanisms and promotionTemplate are set: remove promotionMechanisms by hand',
      mech
    )
    return
  }
  const origin = originOf(mech)
  const steps: Step[] = []
  /** Normalised repo URL → expression of the commit the promotion wrote there. */
  const written = new Map<string, string>()
  const updates = seqItems(mech, 'gitRepoUpdates')
  updates.forEach((u, i) => {
    const repoURL = text(u, 'repoURL')
    if (!repoURL) {
      t.note('warning', 'gitRepoUpdates entry without repoURL skipped', u)
      return
    }
    const suffix = updates.length > 1 ? `-${i + 1}` : ''
    const update: GitUpdate = {
      node: u,
      repoURL,
      readBranch: text(u, 'readBranch'),
      writeBranch: text(u, 'writeBranch'),
      origin: originOf(u, origin)
    }
    const revision = gitRepoSteps(t, update, suffix, steps)
    written.set(normalizeGitUrl(repoURL), revision)
  })
  const apps = seqItems(mech, 'argoCDAppUpdates').map((a) => argoApp(t, a, origin, written))
  if (apps.length > 0) steps.push({ uses: 'argocd-update', as: 'sync', config: { apps } })
  if (steps.length === 0) {
    t.note('warning', 'promotionMechanisms has no gitRepoUpdates or argoCDAppUpdates', mech)
    return
  }
  replacePair(t.doc, spec, 'promotionMechanisms', 'promotionTemplate', { spec: { steps } })
  t.note(
    'change',
    `spec.promotionMechanisms → spec.promotionTemplate (${steps.length} steps: ${steps.map((s) => s.uses).join(', ')})`,
    mech
  )
}

/**
 * Steps for one gitRepoUpdate; returns the expression of the commit it leaves on the write
 * branch. Kargo 0.x read from the Freight's commit of this repository when the Freight carried
 * one (else readBranch, else the default branch), applied the updates, and committed the result
 * to writeBranch.
 */
function gitRepoSteps(t: MigrationTarget, u: GitUpdate, suffix: string, steps: Step[]): string {
  const warehouses = t.facts.warehousesOf(t.name)
  const fromFreight = t.facts.subscribesToGit(warehouses, u.repoURL)
  const write = u.writeBranch ?? u.readBranch
  const render = child(u.node, 'render') !== undefined
  const inPlace = !fromFreight && !render && (!u.readBranch || u.readBranch === write)
  const out = `./out${suffix}`
  const work = inPlace ? out : `./src${suffix}`
  const checkout: Record<string, unknown>[] = []
  if (inPlace) {
    checkout.push(write ? { branch: write, path: out } : { path: out })
  } else {
    const source = fromFreight
      ? { commit: wrap(`${commitFrom(u.repoURL, u.origin)}.ID`) }
      : u.readBranch
        ? { branch: u.readBranch }
        : {}
    checkout.push({ ...source, path: work })
    checkout.push(write ? { branch: write, create: true, path: out } : { path: out })
  }
  const clone: Record<string, unknown> = { repoURL: u.repoURL, checkout }
  if (flag(u.node, 'insecureSkipTLSVerify')) clone.insecureSkipTLSVerify = true
  steps.push({ uses: 'git-clone', as: `clone${suffix}`, config: clone })

  const messageFrom: string[] = []
  const kustomize = child(u.node, 'kustomize')
  const kOrigin = originOf(kustomize, u.origin)
  const byPath = new Map<string, Record<string, unknown>[]>()
  for (const img of seqItems(kustomize, 'images')) {
    const image = text(img, 'image')
    const path = text(img, 'path')
    if (!image || !path) continue
    const o = originOf(img, kOrigin)
    const value = flag(img, 'useDigest')
      ? { digest: wrap(`${imageFrom(image, o)}.Digest`) }
      : { tag: wrap(`${imageFrom(image, o)}.Tag`) }
    byPath.set(path, [...(byPath.get(path) ?? []), { image, ...value }])
  }
  let n = 0
  for (const [path, images] of byPath) {
    const alias = `set-image${suffix}${byPath.size > 1 ? `-${++n}` : ''}`
    steps.push({
      uses: 'kustomize-set-image',
      as: alias,
      config: { path: `${work}/${path}`, images }
    })
    messageFrom.push(alias)
  }

  const helm = child(u.node, 'helm')
  const hOrigin = originOf(helm, u.origin)
  const byFile = new Map<string, Record<string, unknown>[]>()
  for (const img of seqItems(helm, 'images')) {
    const image = text(img, 'image')
    const file = text(img, 'valuesFilePath')
    const key = text(img, 'key')
    const value = image && imageValue(text(img, 'value') ?? '', image, originOf(img, hOrigin))
    if (!file || !key || !value) {
      t.note(
        'warning',
        'helm image update needs image, valuesFilePath, key and value; skipped',
        img
      )
      continue
    }
    byFile.set(file, [...(byFile.get(file) ?? []), { key, value }])
  }
  n = 0
  for (const [file, updates] of byFile) {
    const alias = `update-values${suffix}${byFile.size > 1 ? `-${++n}` : ''}`
    steps.push({ uses: 'yaml-update', as: alias, config: { path: `${work}/${file}`, updates } })
    messageFrom.push(alias)
  }
  const byChart = new Map<string, Record<string, unknown>[]>()
  for (const c of seqItems(helm, 'charts')) {
    const repository = text(c, 'repository')
    const name = text(c, 'name')
    const chartPath = text(c, 'chartPath')
    if (!repository || !name || !chartPath) continue
    const version = wrap(`${chartFrom(repository, name, originOf(c, hOrigin))}.Version`)
    byChart.set(chartPath, [...(byChart.get(chartPath) ?? []), { repository, name, version }])
  }
  n = 0
  for (const [chartPath, charts] of byChart) {
    const alias = `update-chart${suffix}${byChart.size > 1 ? `-${++n}` : ''}`
    steps.push({
      uses: 'helm-update-chart',
      as: alias,
      config: { path: `${work}/${chartPath}`, charts }
    })
    messageFrom.push(alias)
  }

  if (!inPlace) {
    steps.push({ uses: 'git-clear', config: { path: out } })
    if (render) {
      // Kargo Render rendered with the repository's own kargo-render config, which has no step
      // equivalent; kustomize-build of the source is the usual replacement.
      steps.push({
        uses: 'kustomize-build',
        as: `render${suffix}`,
        config: { path: `${work}/${t.name}`, outPath: out }
      })
      t.note(
        'warning',
        `Kargo Render (render) became kustomize-build of ${work}/${t.name}: check that path is the overlay Kargo Render used for this stage`,
        child(u.node, 'render')
      )
    } else {
      steps.push({ uses: 'copy', config: { inPath: work, outPath: out } })
    }
  }

  const message =
    messageFrom.length === 0
      ? `Promote \${{ ctx.targetFreight.name }} to \${{ ctx.stage }}`
      : messageFrom.length === 1
        ? wrap(output(messageFrom[0], 'commitMessage'))
        : wrap(`join([${messageFrom.map((a) => output(a, 'commitMessage')).join(', ')}], "\\n")`)
  steps.push({ uses: 'git-commit', as: `commit${suffix}`, config: { path: out, message } })

  const pr = child(u.node, 'pullRequest')
  if (pr !== undefined) {
    steps.push({
      uses: 'git-push',
      as: `push${suffix}`,
      config: { path: out, generateTargetBranch: true }
    })
    steps.push({
      uses: 'git-open-pr',
      as: `open-pr${suffix}`,
      config: {
        repoURL: u.repoURL,
        sourceBranch: wrap(output(`push${suffix}`, 'branch')),
        targetBranch: write ?? 'main'
      }
    })
    if (!write) t.note('warning', 'pull request target branch assumed to be main', pr)
    steps.push({
      uses: 'git-wait-for-pr',
      as: `wait-for-pr${suffix}`,
      config: { repoURL: u.repoURL, prNumber: wrap(output(`open-pr${suffix}`, 'pr.id')) }
    })
    return wrap(output(`wait-for-pr${suffix}`, 'commit'))
  }
  const push: Record<string, unknown> = { path: out }
  if (write) push.targetBranch = write
  steps.push({ uses: 'git-push', as: `push${suffix}`, config: push })
  return wrap(output(`push${suffix}`, 'commit'))
}

function argoApp(
  t: MigrationTarget,
  app: unknown,
  inherited: string | undefined,
  written: Map<string, string>
): Record<string, unknown> {
  const out: Record<string, unknown> = { name: text(app, 'appName') }
  const namespace = text(app, 'appNamespace')
  if (namespace) out.namespace = namespace
  const appOrigin = originOf(app, inherited)
  const sources = seqItems(app, 'sourceUpdates').map((su) => {
    const repoURL = text(su, 'repoURL') ?? ''
    const chart = text(su, 'chart')
    const o = originOf(su, appOrigin)
    const source: Record<string, unknown> = { repoURL }
    if (chart) source.chart = chart
    let revision = repoURL ? written.get(normalizeGitUrl(repoURL)) : undefined
    if (!revision && flag(su, 'updateTargetRevision')) {
      revision = chart
        ? wrap(`${chartFrom(repoURL, chart, o)}.Version`)
        : wrap(`${commitFrom(repoURL, o)}.ID`)
    }
    if (revision) source.desiredRevision = revision
    if (flag(su, 'updateTargetRevision')) source.updateTargetRevision = true
    const kustomize = child(su, 'kustomize')
    const kImages = seqItems(kustomize, 'images').flatMap((img) => {
      const image = text(img, 'image')
      if (!image) return []
      const io = originOf(img, originOf(kustomize, o))
      return [
        flag(img, 'useDigest')
          ? { repoURL: image, digest: wrap(`${imageFrom(image, io)}.Digest`) }
          : { repoURL: image, tag: wrap(`${imageFrom(image, io)}.Tag`) }
      ]
    })
    if (kImages.length) source.kustomize = { images: kImages }
    const helm = child(su, 'helm')
    const hImages = seqItems(helm, 'images').flatMap((img) => {
      const image = text(img, 'image')
      const key = text(img, 'key')
      const value =
        image && imageValue(text(img, 'value') ?? '', image, originOf(img, originOf(helm, o)))
      if (!key || !value) {
        t.note('warning', 'Argo CD helm image update needs image, key and value; skipped', img)
        return []
      }
      return [{ key, value }]
    })
    if (hImages.length) source.helm = { images: hImages }
    return source
  })
  if (sources.length) out.sources = sources
  return out
}

/** A stage's 0.x fields, migrated. */
export function migrateStageV0(t: MigrationTarget): void {
  const spec = mapChild(t.doc.contents, 'spec')
  if (!spec) return
  migrateSubscriptions(t, spec)
  migrateMechanisms(t, spec)
}
