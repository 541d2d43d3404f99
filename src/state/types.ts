import type { Freight, FreightOrigin } from '../freight/types.js'

/**
 * The whole of Waybill's state: one JSON document. On the state branch it is `state.json` plus
 * one file of freight per warehouse (`freight/<warehouse>.json`, from schema version 2).
 * Every field is plain JSON so that a mutator can be a pure function of the old document.
 */
export const STATE_SCHEMA_VERSION = 2

export interface State {
  schemaVersion: number
  /** Discovery results and caches per warehouse. */
  warehouses: Record<string, WarehouseState>
  /** Freight by ID. */
  freight: Record<string, Freight>
  stages: Record<string, StageState>
  /** Promotions by name (`<stage>.<ulid>.<7 chars of freight ID>`, lexical order = creation order). */
  promotions: Record<string, Promotion>
  /** Append-only record of manual actions and notable events, newest last (bounded by GC). */
  audit: AuditEntry[]
  /**
   * Responses to wait-for-approval / get-user-input steps, by promotion name then step alias.
   * Kept apart from the promotion so a run saving the promotion cannot drop a response given meanwhile.
   */
  responses?: Record<string, Record<string, StepResponse[]>>
}

/** One answer to a waiting step, given with `waybill respond` (or the promote form). */
export interface StepResponse {
  actor: string
  at: string
  action: 'approve' | 'reject' | 'input'
  message?: string
  /** The submitted values (get-user-input). */
  values?: Record<string, unknown>
  /** The repository the response was given in: roles and unqualified teams are resolved there. */
  repositoryURL?: string
  runURL?: string
}

// ---------- discovery ----------

export interface DiscoveredImageReference {
  tag: string
  digest: string
  annotations?: Record<string, string>
  createdAt?: string
}

export interface DiscoveredImages {
  repoURL: string
  platform?: string
  subscriptionName?: string
  /** Best first. */
  references: DiscoveredImageReference[]
}

export interface DiscoveredCommit {
  id: string
  branch?: string
  tag?: string
  subject?: string
  author?: string
  committer?: string
  creatorDate?: string
}

export interface ObservedRefs {
  branchHead?: string
  tags?: Array<{ name: string; id: string }>
}

export interface DiscoveredCommits {
  repoURL: string
  subscriptionName?: string
  /** Best first. */
  commits: DiscoveredCommit[]
  observedRefs?: ObservedRefs
}

export interface DiscoveredCharts {
  repoURL: string
  name?: string
  semverConstraint?: string
  subscriptionName?: string
  /** Best first. */
  versions: string[]
}

export interface DiscoveredArtifacts {
  discoveredAt: string
  git: DiscoveredCommits[]
  images: DiscoveredImages[]
  charts: DiscoveredCharts[]
}

/** Image metadata already fetched, keyed `<repoURL>@<digest>` (or `<repoURL>:<tag>` with cacheByTag). */
export interface ImageMetadataCacheEntry {
  digest: string
  createdAt?: string
  annotations?: Record<string, string>
  /** Platforms found in an index (`os/arch[/variant]`), for platform selection. */
  platforms?: string[]
  /**
   * The image has annotations that were not kept: only the references discovery selects carry
   * them into freight, so the cache keeps them for those alone (one is fetched again if selected).
   */
  annotationsOmitted?: boolean
}

export interface WarehouseState {
  lastDiscoveredAt?: string
  /** Hash of the warehouse spec at the last discovery; a change forces rediscovery (Kargo's generation). */
  specHash?: string
  discovered?: DiscoveredArtifacts
  lastFreightID?: string
  lastError?: string
  imageCache?: Record<string, ImageMetadataCacheEntry>
}

// ---------- stages ----------

export type FreightCollectionItems = Record<string, FreightReference>

export interface FreightReference {
  name: string
  origin: FreightOrigin
}

export type VerificationPhase =
  'Pending' | 'Running' | 'Successful' | 'Failed' | 'Error' | 'Aborted' | 'Inconclusive'

export interface VerificationInfo {
  id: string
  actor?: string
  startTime: string
  finishTime?: string
  phase: VerificationPhase
  message?: string
}

export interface FreightCollection {
  /** sha1 of the sorted freight names joined with ','. */
  id: string
  items: FreightCollectionItems
  verificationHistory: VerificationInfo[]
  promotion?: string
}

export type HealthStatus = 'Healthy' | 'Progressing' | 'Unhealthy' | 'Unknown' | 'NotApplicable'

export interface StageHealth {
  status: HealthStatus
  issues?: string[]
  output?: unknown
  checkedAt?: string
}

export interface AutoPromotionHold {
  freightName: string
  origin: FreightOrigin
  promotionName: string
  actor?: string
  createdAt: string
}

export interface StageState {
  /** Newest first; [0] is the current collection. At most 10 (Kargo's limit). */
  freightHistory: FreightCollection[]
  currentPromotion?: string
  lastPromotion?: { name: string; freight: string; phase: PromotionPhase; finishedAt?: string }
  health?: StageHealth
  /** Health checks registered by the last successful promotion's steps (argocd-update). */
  healthChecks?: HealthCheck[]
  metadata: Record<string, unknown>
  autoPromotionHolds: Record<string, AutoPromotionHold>
}

export interface HealthCheck {
  uses: string
  input: unknown
}

// ---------- promotions ----------

export const PROMOTION_PHASES = [
  'Pending',
  'Running',
  'Succeeded',
  'Failed',
  'Errored',
  'Aborted'
] as const
export type PromotionPhase = (typeof PROMOTION_PHASES)[number]

/** Phases a promotion never leaves: it ran to its end, failed, or was aborted. */
export const TERMINAL_PROMOTION_PHASES: readonly PromotionPhase[] = [
  'Succeeded',
  'Failed',
  'Errored',
  'Aborted'
]

export function isTerminalPhase(phase: PromotionPhase): boolean {
  return TERMINAL_PROMOTION_PHASES.includes(phase)
}

/** A terminal phase other than Succeeded (Failed, Errored, Aborted). */
export function isUnsuccessfulPhase(phase: PromotionPhase): boolean {
  return phase !== 'Succeeded' && isTerminalPhase(phase)
}
export type StepStatus =
  'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Errored' | 'Aborted' | 'Skipped'

export interface StepExecutionMetadata {
  alias: string
  startedAt?: string
  finishedAt?: string
  errorCount: number
  status?: StepStatus
  message?: string
  continueOnError?: boolean
}

export interface Promotion {
  name: string
  stage: string
  freight: string
  /** The collection the promotion deploys: this freight plus other origins' current freight. */
  freightCollection?: FreightCollection
  phase: PromotionPhase
  message?: string
  createdAt: string
  startedAt?: string
  finishedAt?: string
  actor?: string
  /** Link to the workflow run that created it. */
  runURL?: string
  /** The run that last executed its steps (set each time a run takes it up). */
  executedBy?: PromotionRun
  /** The run that started it (a promote run for stages that do not auto-promote). */
  startedBy?: PromotionRun
  /** True when created by auto-promotion. */
  auto?: boolean
  /** Inflated steps (tasks expanded), fixed at creation time. */
  steps: unknown[]
  vars?: Array<{ name: string; value?: string }>
  currentStep: number
  stepExecutionMetadata: StepExecutionMetadata[]
  /** Step outputs by alias, persisted between runs. */
  state: Record<string, unknown>
  healthChecks?: HealthCheck[]
  /** Set while a run executes the promotion's steps, so that a concurrent run does not execute them too. */
  lease?: { holder: string; expiresAt: string }
  /** Set on a manual promotion of freight that is not the auto-promotion candidate (holds auto-promotion). */
  hold?: boolean
  /** Queued with `--override-windows`: starts even while the stage's promotion windows are closed. */
  windowOverride?: { actor?: string; runURL?: string; at: string }
  /** Set on an auto-rollback: the promotion (or the promotion whose verification) it rolls back. */
  rollbackOf?: string
  /** Why it was created, when not by a user or auto-promotion (`rollback of <promotion>: <why>`). */
  reason?: string
}

export interface PromotionRun {
  /** Waybill's run ID (host:pid:random), as in the lease. */
  runId: string
  /** The workflow run, when run by GitHub Actions. */
  runURL?: string
  actor?: string
  /** The command that ran it: `reconcile` or `promote`. */
  command?: string
  at: string
}

export interface AuditEntry {
  at: string
  actor?: string
  action: string
  stage?: string
  freight?: string
  promotion?: string
  runURL?: string
  message?: string
}

export function emptyState(): State {
  return {
    schemaVersion: STATE_SCHEMA_VERSION,
    warehouses: {},
    freight: {},
    stages: {},
    promotions: {},
    audit: []
  }
}

export function emptyStageState(): StageState {
  return { freightHistory: [], metadata: {}, autoPromotionHolds: {} }
}
