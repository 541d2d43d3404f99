import { z } from 'zod'
import type { Stage } from '../config/schema.js'
import { parseDuration } from '../util/duration.js'

/**
 * Waybill verification (a Stage's `spec.verification.checks`): checks that fit GitHub, run by
 * Waybill itself after a successful promotion. Each check is exactly one of:
 * - `http`: the `http` step's config (success/failure expressions, polling);
 * - `githubChecks`: wait for the check runs / commit statuses of a commit to succeed;
 * - `argocdHealth`: wait until the Argo CD apps of the last promotion are Healthy;
 * - `uses` + `config`: any built-in step used as a check (e.g. `argocd-wait`).
 * Kargo's `analysisTemplates` need Argo Rollouts: they are accepted and reported as skipped.
 */
export const GitHubChecksSchema = z.strictObject({
  /** Repository whose checks are read (default: the repository the action runs in). */
  repoURL: z.string().optional(),
  /** Commit SHA or ref whose checks must pass; expressions allowed. */
  ref: z.string().min(1),
  /** Only these check names (default: all check runs and statuses on the ref). */
  names: z.array(z.string()).optional(),
  /** Fail when no check reports at all after this long (default 10m). */
  noChecksTimeout: z.string().optional()
})

export const VerificationCheckSchema = z
  .strictObject({
    name: z.string().optional(),
    http: z.record(z.string(), z.unknown()).optional(),
    githubChecks: GitHubChecksSchema.optional(),
    argocdHealth: z.strictObject({}).optional(),
    uses: z.string().optional(),
    config: z.record(z.string(), z.unknown()).optional()
  })
  .superRefine((c, ctx) => {
    const kinds = [c.http, c.githubChecks, c.argocdHealth, c.uses].filter(
      (x) => x !== undefined
    ).length
    if (kinds !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: 'a check sets exactly one of http, githubChecks, argocdHealth or uses'
      })
    }
  })

export type VerificationCheck = z.output<typeof VerificationCheckSchema>

export const DEFAULT_VERIFICATION_TIMEOUT_MS = 30 * 60_000

export function verificationChecks(stage: Stage): VerificationCheck[] {
  const raw = stage.spec.verification?.checks ?? []
  return raw.map((c) => VerificationCheckSchema.parse(c))
}

export function verificationTimeoutMs(stage: Stage): number {
  const t = stage.spec.verification?.timeout
  return t ? parseDuration(t) : DEFAULT_VERIFICATION_TIMEOUT_MS
}

/** True when the stage has checks Waybill runs (analysisTemplates alone do not count: they are skipped). */
export function hasVerification(stage: Stage): boolean {
  return (stage.spec.verification?.checks?.length ?? 0) > 0
}
