import { z } from 'zod'
import { Ajv } from 'ajv'
import {
  describeRule,
  GitHubIdentity,
  IDENTITY_CLAIMS,
  type IdentityRepo,
  type IdentityRule
} from '../../integrations/github-identity.js'
import type { StepResponse } from '../../state/types.js'
import type { StepContext } from '../types.js'
import { durationMs, durationSchema } from '../git/common.js'
import { MIN_POLL_MS } from '../git/git-wait-for-pr.js'

/** An approver/responder rule: `claim` + `value`, or `role` (never both). */
export const ruleSchema = z
  .strictObject({
    claim: z
      .enum(IDENTITY_CLAIMS, {
        error: `must be one of ${IDENTITY_CLAIMS.join(', ')} (GitHub identities)`
      })
      .optional(),
    value: z.string().min(1).optional(),
    role: z.string().min(1).optional(),
    required: z.boolean().optional()
  })
  .superRefine((r, ctx) => {
    if (r.role && (r.claim || r.value))
      ctx.addIssue({
        code: 'custom',
        path: ['role'],
        message: 'set claim and value, or role, not both'
      })
    else if (!r.role && !r.claim)
      ctx.addIssue({ code: 'custom', path: ['claim'], message: 'set claim and value, or role' })
    else if (r.claim && !r.value)
      ctx.addIssue({ code: 'custom', path: ['value'], message: 'required with claim' })
  })
export type Rule = z.infer<typeof ruleSchema>

/** The responses recorded for this step of this promotion, oldest first. */
export function recordedResponses(
  ctx: Pick<StepContext, 'state' | 'promotion' | 'alias'>
): StepResponse[] {
  const list = ctx.state.responses?.[ctx.promotion]?.[ctx.alias] ?? []
  return [...list].sort((a, b) => a.at.localeCompare(b.at))
}

/** `https://github.com/acme/app` → acme/app. */
function repoOfUrl(url: string | undefined): IdentityRepo | undefined {
  const m = url && /^https?:\/\/[^/]+\/([^/]+)\/([^/]+?)(?:\.git)?\/?$/.exec(url)
  return m ? { owner: m[1], repo: m[2] } : undefined
}

/**
 * Checks responders against rules with the GitHub API. The repository a response was given in
 * resolves roles and bare team slugs; one GitHubIdentity (one set of lookups) per repository.
 */
export class RuleMatcher {
  private readonly identities = new Map<string, GitHubIdentity>()

  constructor(private readonly ctx: StepContext<'github'>) {}

  private identity(repositoryURL: string | undefined): GitHubIdentity {
    const key = repositoryURL ?? ''
    let id = this.identities.get(key)
    if (!id) {
      // Without a repository only `login` rules can match (no API to ask).
      const repo = repositoryURL
        ? this.ctx.caps.github.repo(repositoryURL, 'github', 'repository')
        : undefined
      id = new GitHubIdentity(repo && this.ctx.caps.github.client(repo), repo)
      this.identities.set(key, id)
    }
    return id
  }

  /** The rules (by index) a response's actor matches; every index when there are no rules. */
  async matching(rules: readonly Rule[], r: StepResponse): Promise<number[]> {
    if (rules.length === 0) return [-1]
    const id = this.identity(r.repositoryURL)
    const out: number[] = []
    for (const [i, rule] of rules.entries()) {
      if (await id.matches(r.actor, rule)) out.push(i)
    }
    return out
  }
}

/** `team acme/sre or role maintain` (anyone when there are no rules). */
export function whoMayRespond(rules: readonly IdentityRule[], repositoryURL?: string): string {
  if (rules.length === 0) return 'anyone'
  return rules.map((r) => describeRule(r, repoOfUrl(repositoryURL))).join(' or ')
}

export function pollIntervalMs(pollInterval: string | undefined): number {
  return Math.max(MIN_POLL_MS, durationMs(pollInterval ?? '30s'))
}

export const pollIntervalSchema = durationSchema

/**
 * Checks a get-user-input submission against the step's JSON Schema (draft-07, which ajv reads
 * draft-06 schemas as too). Returns the problems, one per line-worthy message; empty when valid.
 * Throws when the schema itself does not compile.
 */
export function inputProblems(schema: Record<string, unknown>, values: unknown): string[] {
  const validate = compileInputSchema(schema)
  if (validate(values)) return []
  return (validate.errors ?? []).map((e) => {
    const where = e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : '(root)'
    const extra =
      e.keyword === 'additionalProperties'
        ? ` '${String((e.params as { additionalProperty?: string }).additionalProperty)}'`
        : ''
    return `${where}: ${e.message ?? 'is invalid'}${extra}`
  })
}

function compileInputSchema(schema: Record<string, unknown>) {
  return new Ajv({ allErrors: true, strict: false }).compile(schema)
}

/** Why a JSON Schema does not compile, or undefined. */
export function schemaProblem(schema: Record<string, unknown>): string | undefined {
  try {
    compileInputSchema(schema)
    return undefined
  } catch (err) {
    return err instanceof Error ? err.message : String(err)
  }
}
