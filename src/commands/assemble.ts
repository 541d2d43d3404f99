import { defineCommand } from './define.js'
import { openPipeline } from '../pipeline/context.js'
import { freightSummary } from './discover.js'
import { buildFreight, type FreightArtifacts } from '../freight/create.js'
import { findFreight } from '../pipeline/promotions.js'
import { normalizeGitUrl } from '../freight/urls.js'
import type { DiscoveredArtifacts } from '../state/types.js'
import { UsageError, WaybillError } from '../util/errors.js'
import type { Freight } from '../freight/types.js'
import { actionSummary } from '../report/summary.js'
import { artifactLines } from '../report/view.js'

/** `repo=value` pairs from repeated flags. */
function pairs(values: string[], flag: string): Array<{ repo: string; value: string }> {
  // Action inputs arrive as one multi-line string.
  const list = values
    .flatMap((v) => v.split('\n'))
    .map((v) => v.trim())
    .filter(Boolean)
  return list.map((v: string) => {
    const i = v.lastIndexOf('=')
    if (i <= 0) throw new UsageError(`--${flag} '${v}': expected <repoURL>=<value>`)
    return { repo: v.slice(0, i), value: v.slice(i + 1) }
  })
}

const sameRepo = (a: string, b: string) =>
  normalizeGitUrl(a) === normalizeGitUrl(b) || a.toLowerCase() === b.toLowerCase()

/**
 * Freight Assembly: picks one discovered candidate per subscription (the newest unless named) and
 * records the combination as freight. For warehouses with `freightCreationPolicy: Manual`.
 */
export function assembleArtifacts(
  warehouse: string,
  discovered: DiscoveredArtifacts,
  picks: {
    images: Array<{ repo: string; value: string }>
    commits: Array<{ repo: string; value: string }>
    charts: Array<{ repo: string; value: string }>
  },
  base?: Freight
): FreightArtifacts {
  const used = new Set<string>()
  const take = (
    kind: string,
    list: Array<{ repo: string; value: string }>,
    repoURL: string,
    name?: string
  ) => {
    const key = name ? `${repoURL}/${name}` : repoURL
    const pick = list.find(
      (p) => sameRepo(p.repo, repoURL) || sameRepo(p.repo, key) || p.repo === name
    )
    if (pick) used.add(`${kind}:${pick.repo}`)
    return pick?.value
  }
  const out: FreightArtifacts = { images: [], commits: [], charts: [] }
  for (const sub of discovered.images) {
    const want =
      take('image', picks.images, sub.repoURL) ??
      base?.images.find((i) => i.repoURL === sub.repoURL)?.tag
    const ref = want
      ? sub.references.find((r) => r.tag === want || r.digest === want)
      : sub.references[0]
    if (!ref)
      throw new WaybillError(
        `warehouse ${warehouse}: ${sub.repoURL} has no discovered candidate '${want ?? ''}'`,
        `candidates: ${
          sub.references
            .map((r) => r.tag)
            .slice(0, 10)
            .join(', ') || 'none (run discovery)'
        }`
      )
    out.images.push({
      repoURL: sub.repoURL,
      tag: ref.tag,
      digest: ref.digest,
      ...(ref.annotations ? { annotations: ref.annotations } : {}),
      ...(sub.subscriptionName ? { subscriptionName: sub.subscriptionName } : {})
    })
  }
  for (const sub of discovered.git) {
    const want =
      take('commit', picks.commits, sub.repoURL) ??
      base?.commits.find((c) => sameRepo(c.repoURL, sub.repoURL))?.id
    const c = want
      ? sub.commits.find(
          (x) => x.id === want || (want.length >= 7 && x.id.startsWith(want)) || x.tag === want
        )
      : sub.commits[0]
    if (!c)
      throw new WaybillError(
        `warehouse ${warehouse}: ${sub.repoURL} has no discovered commit '${want ?? ''}'`,
        `candidates: ${
          sub.commits
            .map((x) => x.tag ?? x.id.slice(0, 7))
            .slice(0, 10)
            .join(', ') || 'none (run discovery)'
        }`
      )
    out.commits.push({
      repoURL: sub.repoURL,
      id: c.id,
      ...(c.branch ? { branch: c.branch } : {}),
      ...(c.tag ? { tag: c.tag } : {}),
      ...(c.subject ? { message: c.subject } : {}),
      ...(c.author ? { author: c.author } : {}),
      ...(c.committer ? { committer: c.committer } : {}),
      ...(sub.subscriptionName ? { subscriptionName: sub.subscriptionName } : {})
    })
  }
  for (const sub of discovered.charts) {
    const want =
      take('chart', picks.charts, sub.repoURL, sub.name) ??
      base?.charts.find((c) => c.repoURL === sub.repoURL && c.name === sub.name)?.version
    const v = want ? sub.versions.find((x) => x === want) : sub.versions[0]
    if (!v)
      throw new WaybillError(
        `warehouse ${warehouse}: chart ${sub.repoURL}${sub.name ? `/${sub.name}` : ''} has no discovered version '${want ?? ''}'`,
        `candidates: ${sub.versions.slice(0, 10).join(', ') || 'none (run discovery)'}`
      )
    out.charts.push({
      repoURL: sub.repoURL,
      ...(sub.name ? { name: sub.name } : {}),
      version: v,
      ...(sub.subscriptionName ? { subscriptionName: sub.subscriptionName } : {})
    })
  }
  const all = [
    ...picks.images.map((p) => `image:${p.repo}`),
    ...picks.commits.map((p) => `commit:${p.repo}`),
    ...picks.charts.map((p) => `chart:${p.repo}`)
  ]
  const unknown = all.filter((k) => !used.has(k))
  if (unknown.length)
    throw new UsageError(
      `warehouse ${warehouse} has no subscription for ${unknown.map((k) => k.replace(':', ' ')).join(', ')}`
    )
  return out
}

export const assembleCommand = defineCommand({
  name: 'assemble',
  description: 'Freight Assembly: create freight from discovered candidates picked by hand',
  flags: {
    warehouse: { type: 'string', description: 'Warehouse (required)' },
    image: {
      type: 'string',
      multiple: true,
      description: '<repoURL>=<tag or digest> (default: newest candidate)'
    },
    commit: { type: 'string', multiple: true, description: '<repoURL>=<commit ID, prefix or tag>' },
    chart: { type: 'string', multiple: true, description: '<repoURL or repoURL/name>=<version>' },
    clone: {
      type: 'string',
      description: 'Start from this freight (ID or alias) and change only what is given'
    }
  },
  async run(ctx, args) {
    const warehouse = args.warehouse
    if (!warehouse) throw new UsageError('--warehouse is required')
    const pipeline = await openPipeline(ctx)
    if (!pipeline.model.warehouses.has(warehouse))
      throw new UsageError(
        `warehouse '${warehouse}' does not exist`,
        `warehouses: ${[...pipeline.model.warehouses.keys()].join(', ')}`
      )
    const picks = {
      images: pairs(args.image, 'image'),
      commits: pairs(args.commit, 'commit'),
      charts: pairs(args.chart, 'chart')
    }
    let result: { freight: Freight; created: boolean } | undefined
    await pipeline.store.update((draft) => {
      const discovered = draft.warehouses[warehouse]?.discovered
      if (!discovered)
        throw new WaybillError(
          `warehouse ${warehouse} has not been discovered yet`,
          `run: waybill discover --warehouse ${warehouse}`
        )
      const base = args.clone ? findFreight(draft, args.clone) : undefined
      if (args.clone && !base) throw new WaybillError(`freight '${args.clone}' does not exist`)
      const artifacts = assembleArtifacts(warehouse, discovered, picks, base)
      const taken = new Set(Object.values(draft.freight).map((f) => f.alias))
      const freight = buildFreight(
        { kind: 'Warehouse', name: warehouse },
        artifacts,
        ctx.now(),
        taken
      )
      const existing = draft.freight[freight.name]
      if (existing) {
        result = { freight: existing, created: false }
        return undefined
      }
      draft.freight[freight.name] = freight
      draft.audit.push({
        at: freight.discoveredAt,
        actor: ctx.actor,
        action: 'assemble',
        freight: freight.name,
        runURL: ctx.runURL
      })
      result = { freight, created: true }
      return `assemble: ${freight.alias} (${warehouse}) by ${ctx.actor ?? 'unknown'}`
    })
    const { freight, created } = result!
    const summary = { ...freightSummary(freight), created }
    ctx.print(
      ctx.json
        ? JSON.stringify(summary)
        : `${created ? 'created' : 'already exists:'} ${freight.alias} (${freight.name.slice(0, 12)})`
    )
    return {
      exitCode: 0,
      outputs: { freight: JSON.stringify([summary]) },
      summary: actionSummary(
        `${created ? 'Assembled' : 'Already exists:'} ${freight.alias} (${warehouse})`,
        [
          ['Freight', `${freight.alias} (${freight.name.slice(0, 12)})`],
          ['Warehouse', warehouse],
          ['Artifacts', artifactLines(freight).join(', ')],
          ['By', ctx.actor ?? 'unknown']
        ]
      )
    }
  }
})
