import type { DiscoveredArtifacts } from '../state/types.js'
import { singleLine } from '../util/text.js'
import { generateAlias } from './alias.js'
import { freightId } from './id.js'
import {
  emptyFreightStatus,
  type Chart,
  type Freight,
  type FreightOrigin,
  type GitCommit,
  type Image
} from './types.js'

/** The artifacts one piece of freight carries (at most one per subscription). */
export interface FreightArtifacts {
  commits: GitCommit[]
  images: Image[]
  charts: Chart[]
}

/**
 * New freight from a set of artifacts: the ID is Kargo's fingerprint (same artifacts from the same
 * warehouse → same ID), the alias is unique among `takenAliases`.
 */
export function buildFreight(
  origin: FreightOrigin,
  artifacts: FreightArtifacts,
  now: Date,
  takenAliases: ReadonlySet<string>
): Freight {
  const name = freightId({ origin, ...artifacts })
  return {
    name,
    alias: generateAlias(name, takenAliases),
    origin: { kind: origin.kind, name: origin.name },
    discoveredAt: now.toISOString(),
    commits: artifacts.commits.map((c) => cleanStrings(c)),
    images: artifacts.images.map((i) => cleanStrings(i)),
    charts: artifacts.charts.map((c) => cleanStrings(c)),
    status: emptyFreightStatus()
  }
}

/**
 * A copy with control characters replaced in every string (keys too): commit subjects, authors
 * and image annotations come from other people's repositories (ANSI colours, bells), and the
 * state refuses freight that holds them. None of these strings is part of the freight ID.
 */
function cleanStrings<T>(value: T): T {
  if (typeof value === 'string') return singleLine(value) as T
  if (Array.isArray(value)) return value.map(cleanStrings) as T
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[singleLine(k)] = cleanStrings(v)
    return out as T
  }
  return value
}

/**
 * The best candidate (`[0]`) of every discovery result, as freight artifacts; undefined when any
 * subscription has no candidate (then no freight can be made, as in Kargo).
 */
export function bestArtifacts(discovered: DiscoveredArtifacts): FreightArtifacts | undefined {
  const commits: GitCommit[] = []
  for (const g of discovered.git) {
    const c = g.commits[0]
    if (!c) return undefined
    commits.push(
      clean({
        repoURL: g.repoURL,
        id: c.id,
        branch: c.branch,
        tag: c.tag,
        message: c.subject,
        author: c.author,
        committer: c.committer,
        subscriptionName: g.subscriptionName
      })
    )
  }
  const images: Image[] = []
  for (const i of discovered.images) {
    const r = i.references[0]
    if (!r) return undefined
    images.push(
      clean({
        repoURL: i.repoURL,
        tag: r.tag,
        digest: r.digest,
        annotations: r.annotations && Object.keys(r.annotations).length ? r.annotations : undefined,
        subscriptionName: i.subscriptionName
      })
    )
  }
  const charts: Chart[] = []
  for (const h of discovered.charts) {
    const v = h.versions[0]
    if (!v) return undefined
    charts.push(
      clean({ repoURL: h.repoURL, name: h.name, version: v, subscriptionName: h.subscriptionName })
    )
  }
  return { commits, images, charts }
}

/** Drops undefined fields so stored freight stays minimal JSON. */
function clean<T extends object>(o: T): T {
  for (const k of Object.keys(o) as Array<keyof T>) if (o[k] === undefined) delete o[k]
  return o
}
