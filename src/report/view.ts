/**
 * The pipeline as reports show it: stages with their current freight, health, verification and
 * last promotion; edges from warehouses and upstream stages; columns by longest path. Shared by
 * the job summary, the status page and the terminal table.
 */
import type { ProjectModel } from '../config/index.js'
import { isControlFlow, stageOrder } from '../config/graph.js'
import type { Freight } from '../freight/types.js'
import type {
  HealthStatus,
  Promotion,
  PromotionPhase,
  State,
  VerificationPhase
} from '../state/types.js'
import { isTerminalPhase } from '../state/types.js'
import { frozenStages, frozenText } from '../pipeline/gates.js'

export type StageStatus = 'healthy' | 'failed' | 'progressing' | 'unknown'

export interface StageCurrentFreight {
  warehouse: string
  alias: string
  id: string
  verified: boolean
}

export interface StageView {
  name: string
  /** Stages it takes freight from (any origin). */
  upstream: string[]
  /** Warehouses it takes freight from directly. */
  direct: string[]
  /** Every warehouse it requests freight from. */
  origins: string[]
  controlFlow: boolean
  current: StageCurrentFreight[]
  health?: HealthStatus
  healthIssues: string[]
  verification?: { phase: VerificationPhase | 'Verified'; message?: string; at?: string }
  lastPromotion?: Promotion
  /** Promotions queued or running. */
  pending: Promotion[]
  /** Promotion windows hold its promotions: "frozen until … (…)" (absent when open). */
  frozen?: string
  status: StageStatus
  column: number
}

export interface EdgeView {
  from: { kind: 'Warehouse' | 'Stage'; name: string }
  to: string
  /** The warehouse whose freight flows along the edge. */
  origin: string
}

export interface PipelineView {
  warehouses: string[]
  stages: StageView[]
  edges: EdgeView[]
  /** Number of stage columns (warehouses are column 0). */
  columns: number
}

/** Each stage's queued or running promotions (by name) and newest finished one, in one pass. */
interface StagePromotions {
  pending: Promotion[]
  lastTerminal?: Promotion
}

function promotionsByStage(state: State): Map<string, StagePromotions> {
  const out = new Map<string, StagePromotions>()
  for (const p of Object.values(state.promotions)) {
    let entry = out.get(p.stage)
    if (!entry) out.set(p.stage, (entry = { pending: [] }))
    if (p.phase === 'Pending' || p.phase === 'Running') entry.pending.push(p)
    if (isTerminalPhase(p.phase) && (!entry.lastTerminal || p.name > entry.lastTerminal.name))
      entry.lastTerminal = p
  }
  for (const entry of out.values()) entry.pending.sort((a, b) => (a.name < b.name ? -1 : 1))
  return out
}

function lastPromotionOf(
  state: State,
  stage: string,
  byStage: Map<string, StagePromotions>
): Promotion | undefined {
  const name = state.stages[stage]?.lastPromotion?.name
  if (name && state.promotions[name]) return state.promotions[name]
  return byStage.get(stage)?.lastTerminal
}

const FAILED_PHASES: ReadonlyArray<PromotionPhase | VerificationPhase> = [
  'Failed',
  'Errored',
  'Error'
]

function statusOf(v: Omit<StageView, 'status' | 'column'>): StageStatus {
  if (
    v.health === 'Unhealthy' ||
    (v.verification && FAILED_PHASES.includes(v.verification.phase as VerificationPhase)) ||
    (v.lastPromotion && FAILED_PHASES.includes(v.lastPromotion.phase) && !v.pending.length)
  )
    return 'failed'
  if (
    v.pending.length ||
    v.health === 'Progressing' ||
    v.verification?.phase === 'Running' ||
    v.verification?.phase === 'Pending'
  )
    return 'progressing'
  if (v.current.length) return 'healthy'
  return 'unknown'
}

/** Longest path from a warehouse, per stage (warehouses are column 0). */
export function stageColumns(model: ProjectModel): Map<string, number> {
  const col = new Map<string, number>()
  // stageOrder is topological; cycles (invalid configs) are appended and resolved best-effort.
  for (const name of stageOrder(model)) {
    const stage = model.stages.get(name)!
    let c = 1
    for (const r of stage.spec.requestedFreight)
      for (const up of r.sources.stages ?? []) {
        const uc = col.get(up)
        if (uc !== undefined) c = Math.max(c, uc + 1)
      }
    col.set(name, c)
  }
  return col
}

export function pipelineView(model: ProjectModel, state: State, now = new Date()): PipelineView {
  const frozen = frozenStages(model, now)
  const columns = stageColumns(model)
  const warehouses = [...model.warehouses.keys()].sort()
  const knownWarehouses = new Set(warehouses)
  const edges: EdgeView[] = []
  const stageEdges = new Set<string>()
  const byStage = promotionsByStage(state)
  const stages: StageView[] = []
  for (const name of stageOrder(model)) {
    const stage = model.stages.get(name)!
    const upstream: string[] = []
    const direct: string[] = []
    const origins: string[] = []
    for (const r of stage.spec.requestedFreight) {
      const origin = r.origin.name
      if (!origins.includes(origin)) origins.push(origin)
      if (r.sources.direct) {
        if (!direct.includes(origin)) direct.push(origin)
        edges.push({ from: { kind: 'Warehouse', name: origin }, to: name, origin })
      }
      for (const up of r.sources.stages ?? []) {
        if (!upstream.includes(up)) upstream.push(up)
        const edgeKey = JSON.stringify([up, name, origin])
        if (!stageEdges.has(edgeKey)) {
          stageEdges.add(edgeKey)
          edges.push({ from: { kind: 'Stage', name: up }, to: name, origin })
        }
      }
    }
    for (const o of origins)
      if (!knownWarehouses.has(o)) {
        knownWarehouses.add(o)
        warehouses.push(o)
      }
    const st = state.stages[name]
    const collection = st?.freightHistory[0]
    const current: StageCurrentFreight[] = []
    for (const ref of Object.values(collection?.items ?? {})) {
      const f = state.freight[ref.name]
      current.push({
        warehouse: ref.origin.name,
        alias: f?.alias ?? ref.name.slice(0, 7),
        id: ref.name,
        verified: Boolean(f?.status.verifiedIn[name])
      })
    }
    current.sort((a, b) => origins.indexOf(a.warehouse) - origins.indexOf(b.warehouse))
    const lastVerification = collection?.verificationHistory[0]
    const verification = lastVerification
      ? {
          phase: lastVerification.phase,
          message: lastVerification.message,
          at: lastVerification.finishTime ?? lastVerification.startTime
        }
      : current.length && current.every((c) => c.verified)
        ? { phase: 'Verified' as const }
        : undefined
    const pending = byStage.get(name)?.pending ?? []
    const partial = {
      name,
      upstream,
      direct,
      origins,
      controlFlow: isControlFlow(model, name),
      current,
      health: st?.health?.status,
      healthIssues: st?.health?.issues ?? [],
      verification,
      lastPromotion: lastPromotionOf(state, name, byStage),
      pending,
      ...(frozen.has(name) ? { frozen: frozenText(frozen.get(name)!) } : {})
    }
    stages.push({ ...partial, status: statusOf(partial), column: columns.get(name) ?? 1 })
  }
  const maxCol = stages.reduce((m, s) => Math.max(m, s.column), 0)
  return { warehouses, stages, edges, columns: maxCol }
}

/** Freight of a warehouse, newest first (discoveredAt, then ID). */
export function freightByWarehouse(state: State): Map<string, Freight[]> {
  const out = new Map<string, Freight[]>()
  for (const f of Object.values(state.freight)) {
    const list = out.get(f.origin.name) ?? []
    list.push(f)
    out.set(f.origin.name, list)
  }
  for (const list of out.values())
    list.sort((a, b) => {
      const t = Date.parse(b.discoveredAt) - Date.parse(a.discoveredAt)
      return t || (a.name < b.name ? 1 : a.name > b.name ? -1 : 0)
    })
  return out
}

/** One line per artifact: `repo:tag`, `repo@abc1234`, `chart:version`. */
export function artifactLines(f: Freight): string[] {
  return [
    ...f.images.map((i) => `${i.repoURL}:${i.tag}`),
    ...f.commits.map((c) => `${c.repoURL}@${c.tag ?? c.id.slice(0, 7)}`),
    ...f.charts.map((c) => `${c.name ? `${c.repoURL}/${c.name}` : c.repoURL}:${c.version}`)
  ]
}

/** Pull request URLs a promotion's steps reported (`pr.url` outputs, as git-open-pr writes). */
export function promotionPrUrls(p: Promotion): string[] {
  const urls: string[] = []
  for (const out of Object.values(p.state ?? {})) {
    const pr = (out as { pr?: { url?: unknown } } | undefined)?.pr
    if (pr && typeof pr.url === 'string' && !urls.includes(pr.url)) urls.push(pr.url)
  }
  return urls
}

/** Promotions newest first. */
export function promotionsNewestFirst(state: State): Promotion[] {
  return Object.values(state.promotions).sort((a, b) => {
    const t = Date.parse(b.createdAt) - Date.parse(a.createdAt)
    return t || (a.name < b.name ? 1 : a.name > b.name ? -1 : 0)
  })
}
