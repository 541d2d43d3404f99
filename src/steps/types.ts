import type { z } from 'zod'
import type { Freight, FreightOrigin } from '../freight/types.js'
import type { Logger } from '../util/logger.js'
import type { HealthCheck, State } from '../state/types.js'
import type { Capabilities, Capability } from './capabilities.js'
import type { GitIdentityOptions } from '../runtime/services.js'
import type { MessageChannelLookup } from './messaging/channel.js'

/**
 * The contract between the promotion engine and a step. The engine knows no step by name: it
 * looks steps up in the registry (steps/registry.ts), evaluates expressions in their config,
 * parses the config with the step's schema, grants the step's capabilities and calls run().
 * Steps are built with defineStep (steps/define.ts).
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

/** What a step sees of the promotion it runs in; `caps` holds only what it declared. */
export interface StepContext<C extends Capability = never> {
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
  /** The capabilities the step declared (steps/capabilities.ts), and nothing else. */
  caps: Capabilities<C>
  signal?: AbortSignal
  /** Who the run commits as (action inputs commit-author/committer); unset: Waybill's own. */
  gitIdentity?: GitIdentityOptions
  /** The config's MessageChannel / ClusterMessageChannel by kind and name (read-only). */
  messageChannel?: MessageChannelLookup
  now: () => Date
}

/** Retry defaults a step brings; a step's `retry:` overrides them. */
export interface StepDefaults {
  /** Default retry.timeout for steps that return Running (e.g. 5m for argocd-*); 0 = none. */
  timeoutMs?: number
  /** Default retry.errorThreshold. */
  errorThreshold?: number
}

export interface StepDefinition<Config = unknown, C extends Capability = Capability> {
  /** Kargo's step name, e.g. `git-clone`. */
  name: string
  /** The config's zod schema; also the source of schema/steps/<name>.json. */
  schema: z.ZodType
  /** What the step may reach (credentials, GitHub, Argo CD, registries, secrets, tools). */
  capabilities: readonly C[]
  defaults: StepDefaults
  /**
   * The step's outputs also become the outputs of the task it runs in (`compose-output`:
   * `outputs.<taskAlias>.<key>`).
   */
  exportsTaskOutputs: boolean
  /** Validates and defaults the config after expressions are evaluated; throws StepConfigError. */
  parse(config: unknown): Config
  run(config: Config, ctx: StepContext<C>): Promise<StepResult>
}

/** A step of any config and capabilities, as the registry holds them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyStepDefinition = StepDefinition<any, any>

export interface OriginRef {
  origin?: FreightOrigin
}
