/**
 * What migrations need to know about the whole project: which warehouses feed each stage (0.x
 * stages named only their upstream stages) and which repositories each warehouse subscribes to
 * (0.x mechanisms checked out the Freight's commit only when it carried one).
 */
import { normalizeGitUrl } from '../freight/urls.js'

type Obj = Record<string, unknown>

interface StageLinks {
  warehouses: string[]
  upstream: string[]
}

export interface ProjectFacts {
  /** The warehouses whose Freight reaches a stage (direct or through upstream stages). */
  warehousesOf(stage: string): string[]
  /** Whether any of these warehouses subscribes to the git repository. */
  subscribesToGit(warehouses: string[], repoURL: string): boolean
  /** The project name: a Project resource's, else the namespace the resources name. */
  projectName?: string
}

function obj(v: unknown): Obj {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {}
}

function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : []
}

export function projectFacts(resources: unknown[]): ProjectFacts {
  const stages = new Map<string, StageLinks>()
  const gitRepos = new Map<string, Set<string>>()
  let projectName: string | undefined
  let namespace: string | undefined
  for (const r of resources.map(obj)) {
    const meta = obj(r.metadata)
    const name = typeof meta.name === 'string' ? meta.name : undefined
    if (typeof meta.namespace === 'string') namespace ??= meta.namespace
    if (r.kind === 'Project' && name) projectName = name
    if (!name) continue
    const spec = obj(r.spec)
    if (r.kind === 'Warehouse') {
      const repos = new Set<string>()
      for (const s of list(spec.subscriptions)) {
        const url = obj(obj(s).git).repoURL
        if (typeof url === 'string') repos.add(normalizeGitUrl(url))
      }
      gitRepos.set(name, repos)
    }
    if (r.kind === 'Stage') {
      const links: StageLinks = { warehouses: [], upstream: [] }
      const subs = obj(spec.subscriptions)
      if (typeof subs.warehouse === 'string') links.warehouses.push(subs.warehouse)
      for (const u of list(subs.upstreamStages)) {
        const n = obj(u).name
        if (typeof n === 'string') links.upstream.push(n)
      }
      for (const rf of list(spec.requestedFreight)) {
        const origin = obj(obj(rf).origin).name
        if (typeof origin === 'string') links.warehouses.push(origin)
      }
      stages.set(name, links)
    }
  }
  const warehousesOf = (stage: string, seen = new Set<string>()): string[] => {
    if (seen.has(stage)) return []
    seen.add(stage)
    const links = stages.get(stage)
    if (!links) return []
    const out = new Set(links.warehouses)
    for (const u of links.upstream) for (const w of warehousesOf(u, seen)) out.add(w)
    return [...out].sort()
  }
  return {
    warehousesOf: (stage) => warehousesOf(stage),
    subscribesToGit: (warehouses, repoURL) =>
      warehouses.some((w) => gitRepos.get(w)?.has(normalizeGitUrl(repoURL))),
    projectName: projectName ?? namespace
  }
}
