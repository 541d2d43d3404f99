import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { Stage } from '../config/schema.js'
import type { Freight } from '../freight/types.js'
import { evaluateTemplate, freightFunctions, type ExprEnv } from '../expressions/index.js'
import {
  evaluateHealthChecks,
  isHealthyForVerification,
  summarizeHealth
} from '../promotion/health.js'
import { stepRegistry } from '../steps/index.js'
import { grantCapabilities, type Capability } from '../steps/capabilities.js'
import type { StepContext, StepResult } from '../steps/types.js'
import { githubClient } from '../integrations/github.js'
import { requireGitHubRepo } from '../integrations/repo-url.js'
import type { Services } from '../runtime/services.js'
import type { StageHealth, State, VerificationPhase } from '../state/types.js'
import { errorMessage } from '../util/errors.js'
import type { Logger } from '../util/logger.js'
import { currentFreight } from './collections.js'
import { parseDuration } from '../util/duration.js'
import { verificationChecks, type VerificationCheck } from './verification-config.js'

export interface VerificationOptions {
  project: string
  services: Services
  logger: Logger
  now: () => Date
  /** owner/repo of the repository the action runs in (default for githubChecks). */
  repository?: string
  /** When verification started (for githubChecks' noChecksTimeout). */
  startedAt?: Date
}

export interface VerificationOutcome {
  phase: Extract<VerificationPhase, 'Running' | 'Successful' | 'Failed' | 'Error'>
  message: string
  health?: StageHealth
}

/** Variables and functions that verification check config may use in `${{ }}`. */
export function verificationEnv(
  stageName: string,
  stage: Stage,
  freight: Freight[],
  state: State,
  opts: VerificationOptions
): ExprEnv {
  const functions = freightFunctions(freight, { state, secrets: opts.services.secrets })
  const vars: Record<string, unknown> = {}
  const ctx = { project: opts.project, stage: stageName }
  for (const v of stage.spec.vars ?? []) {
    vars[v.name] =
      v.value === undefined
        ? undefined
        : evaluateTemplate(v.value, { vars: { ctx, vars }, functions })
  }
  return { vars: { ctx, vars }, functions }
}

/**
 * Evaluates a stage's verification once: stage health first (apps registered by argocd-update
 * must be Healthy at the desired revision), then every check. Running means "ask again later".
 */
export async function evaluateVerification(
  stageName: string,
  stage: Stage,
  state: State,
  opts: VerificationOptions
): Promise<VerificationOutcome> {
  const st = state.stages[stageName]
  let health: StageHealth | undefined
  if (st?.healthChecks?.length) {
    health = await evaluateHealthChecks(st.healthChecks, {
      services: opts.services,
      logger: opts.logger,
      now: opts.now
    })
    if (!isHealthyForVerification(health)) {
      return {
        phase: 'Running',
        message: `waiting for stage health: ${summarizeHealth(health)}`,
        health
      }
    }
  }
  const freight = currentFreight(state, stageName)
  const env = verificationEnv(stageName, stage, freight, state, opts)
  const pending: string[] = []
  const passed: string[] = []
  for (const [i, check] of verificationChecks(stage).entries()) {
    const label = check.name ?? `check-${i + 1}`
    let result: { status: StepResult['status']; message?: string }
    try {
      result = await runCheck(
        check,
        label,
        stageName,
        freight,
        state,
        env,
        opts,
        st?.healthChecks ?? []
      )
    } catch (err) {
      return { phase: 'Error', message: `verification ${label}: ${errorMessage(err)}`, health }
    }
    if (result.status === 'Failed')
      return {
        phase: 'Failed',
        message: `verification ${label} failed: ${result.message ?? ''}`.trim(),
        health
      }
    if (result.status === 'Errored')
      return {
        phase: 'Error',
        message: `verification ${label} errored: ${result.message ?? ''}`.trim(),
        health
      }
    if (result.status === 'Running')
      pending.push(`${label}${result.message ? ` (${result.message})` : ''}`)
    else passed.push(label)
  }
  if (pending.length)
    return { phase: 'Running', message: `waiting on ${pending.join(', ')}`, health }
  return {
    phase: 'Successful',
    message: passed.length ? `passed: ${passed.join(', ')}` : 'healthy',
    health
  }
}

async function runCheck(
  check: VerificationCheck,
  label: string,
  stageName: string,
  freight: Freight[],
  state: State,
  env: ExprEnv,
  opts: VerificationOptions,
  healthChecks: NonNullable<State['stages'][string]['healthChecks']>
): Promise<{ status: StepResult['status']; message?: string }> {
  if (check.argocdHealth) {
    if (!healthChecks.length)
      return {
        status: 'Errored',
        message: 'the last promotion registered no Argo CD apps (argocd-update)'
      }
    return { status: 'Succeeded' }
  }
  if (check.githubChecks) {
    const cfg = evaluateTemplate(check.githubChecks, env) as VerificationCheck['githubChecks'] &
      object
    return githubChecksStatus(cfg, opts)
  }
  const uses = check.http ? 'http' : check.uses!
  const step = stepRegistry.get(uses)
  if (!step) return { status: 'Errored', message: `step '${uses}' is not available` }
  const config: unknown = step.parse(evaluateTemplate(check.http ?? check.config ?? {}, env))
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'waybill-verify-'))
  try {
    const ctx: StepContext<Capability> = {
      workDir,
      project: opts.project,
      stage: stageName,
      promotion: `${stageName}.verification`,
      targetFreight: freight[0],
      freight,
      alias: label,
      outputs: {},
      state,
      logger: opts.logger,
      caps: grantCapabilities(step.capabilities, opts.services, { logger: opts.logger }),
      now: opts.now
    }
    const res = await step.run(config, ctx)
    return { status: res.status, message: res.message }
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true })
  }
}

const FAILED_CONCLUSIONS = new Set([
  'failure',
  'cancelled',
  'timed_out',
  'action_required',
  'startup_failure',
  'stale'
])

/** Waits for GitHub check runs and commit statuses on a ref: all green → Succeeded, any red → Failed. */
async function githubChecksStatus(
  cfg: NonNullable<VerificationCheck['githubChecks']>,
  opts: VerificationOptions
): Promise<{ status: StepResult['status']; message?: string }> {
  const repoURL =
    cfg.repoURL ??
    (opts.repository
      ? `${opts.services.github.serverUrl.replace(/\/$/, '')}/${opts.repository}`
      : undefined)
  if (!repoURL)
    return { status: 'Errored', message: 'githubChecks.repoURL is required outside GitHub Actions' }
  const gh = requireGitHubRepo(opts.services, repoURL, undefined, 'githubChecks.repoURL')
  const octokit = githubClient(opts.services, opts.logger, gh.apiUrl)
  const [runs, statuses] = await Promise.all([
    octokit.rest.checks.listForRef({ owner: gh.owner, repo: gh.repo, ref: cfg.ref, per_page: 100 }),
    octokit.rest.repos.getCombinedStatusForRef({
      owner: gh.owner,
      repo: gh.repo,
      ref: cfg.ref,
      per_page: 100
    })
  ])
  const wanted = cfg.names ? new Set(cfg.names) : undefined
  const results: Array<{ name: string; state: 'pending' | 'success' | 'failure' }> = []
  for (const r of runs.data.check_runs) {
    if (wanted && !wanted.has(r.name)) continue
    const state =
      r.status !== 'completed'
        ? 'pending'
        : FAILED_CONCLUSIONS.has(r.conclusion ?? '')
          ? 'failure'
          : 'success'
    results.push({ name: r.name, state })
  }
  for (const s of statuses.data.statuses) {
    if (wanted && !wanted.has(s.context)) continue
    results.push({
      name: s.context,
      state: s.state === 'success' ? 'success' : s.state === 'pending' ? 'pending' : 'failure'
    })
  }
  const failed = results.filter((r) => r.state === 'failure').map((r) => r.name)
  if (failed.length)
    return {
      status: 'Failed',
      message: `checks failed on ${cfg.ref.slice(0, 12)}: ${failed.join(', ')}`
    }
  const missing = wanted ? [...wanted].filter((n) => !results.some((r) => r.name === n)) : []
  const pending = results.filter((r) => r.state === 'pending').map((r) => r.name)
  if (results.length === 0 || missing.length) {
    const limit = parseDuration(cfg.noChecksTimeout ?? '10m')
    const started = opts.startedAt ?? opts.now()
    if (opts.now().getTime() - started.getTime() > limit) {
      return {
        status: 'Failed',
        message: `no checks reported on ${cfg.ref.slice(0, 12)}${missing.length ? ` (missing ${missing.join(', ')})` : ''}`
      }
    }
    return { status: 'Running', message: `waiting for checks on ${cfg.ref.slice(0, 12)}` }
  }
  if (pending.length) return { status: 'Running', message: `checks running: ${pending.join(', ')}` }
  return { status: 'Succeeded', message: `${results.length} checks passed` }
}
