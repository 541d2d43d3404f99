import type { Freight, FreightOrigin } from '../freight/types.js'
import type { Logger } from '../util/logger.js'
import type { HealthCheck, State } from '../state/types.js'
import type { Services } from '../runtime/services.js'

/**
 * The contract between the promotion engine and a step. The engine knows no step by name: it
 * looks steps up in the registry (steps/index.ts), evaluates expressions in their config, checks
 * the config with the step's schema and calls run().
 */
export type StepOutcome = 'Succeeded' | 'Failed' | 'Errored' | 'Running' | 'Skipped'

export interface StepResult {
  status: StepOutcome
  /** Available to later steps as outputs.<alias>.<key>. */
  outputs?: Record<string, unknown>
  message?: string
  /** Registered on success, re-evaluated as the stage's health (argocd-update). */
  healthCheck?: HealthCheck
  /** Changes to state that the engine applies when it saves the promotion. */
  effects?: StepEffect[]
  /** For Running: when to check again (the engine polls in place only if the run may wait). */
  pollIntervalMs?: number
}

export type StepEffect =
  | { kind: 'metadata'; target: 'Stage' | 'Freight'; name: string; values: Record<string, unknown> }
  | { kind: 'freight-alias'; freight: string; alias: string }

/** What a step sees of the promotion it runs in. */
export interface StepContext {
  /** The promotion's working directory; every path in step config is confined to it. */
  workDir: string
  project: string
  stage: string
  promotion: string
  /** The freight being promoted. */
  targetFreight: Freight
  /** The whole collection being deployed (target freight plus other origins' current freight). */
  freight: Freight[]
  /** Alias of this step (as / step-N, or task::step). */
  alias: string
  actor?: string
  /** Outputs of earlier steps by alias (read-only). */
  outputs: Record<string, unknown>
  /** Outputs this step saved on an earlier run when it returned Running (resume). */
  previousOutputs?: Record<string, unknown>
  /** A snapshot of the state at the start of the promotion (read-only). */
  state: State
  logger: Logger
  services: Services
  signal?: AbortSignal
  now(): Date
}

export interface StepDefinition<C = Record<string, unknown>> {
  /** Kargo's step name, e.g. `git-clone`. */
  name: string
  /** Validates and defaults the config after expressions are evaluated; throws ConfigFieldError. */
  parse(config: unknown): C
  run(config: C, ctx: StepContext): Promise<StepResult>
  /** Default retry.timeout for steps that return Running (e.g. 5m for argocd-*). */
  defaultTimeoutMs?: number
  /** Default retry.errorThreshold. */
  defaultErrorThreshold?: number
}

export interface OriginRef {
  origin?: FreightOrigin
}
