import { z } from 'zod'
import { describeRule } from '../../integrations/github-identity.js'
import type { StepResponse } from '../../state/types.js'
import { defineStep } from '../define.js'
import type { StepResult } from '../types.js'
import {
  pollIntervalMs,
  pollIntervalSchema,
  recordedResponses,
  RuleMatcher,
  ruleSchema,
  whoMayRespond
} from './responses.js'

const STEP = 'wait-for-approval'

const schema = z.strictObject({
  approvers: z.array(ruleSchema).optional(),
  minApprovals: z.number().int().min(1).optional(),
  pollInterval: pollIntervalSchema.optional()
})
export type WaitForApprovalConfig = z.infer<typeof schema>

/** Kargo's output entry: who, what, when, and the optional message. */
function outputEntry(r: StepResponse) {
  return {
    user: r.actor,
    action: r.action,
    time: r.at,
    ...(r.message ? { message: r.message } : {})
  }
}

/**
 * Waits until `minApprovals` distinct users matching `approvers` approve (and every `required`
 * rule is matched by one of them), or fails on the first rejection by an eligible user.
 * Responses come from `waybill respond` (recorded in the state); responses from users no rule
 * matches are ignored. Running until then: a later run (the respond run itself) checks again.
 */
export const waitForApproval = defineStep({
  name: STEP,
  schema,
  capabilities: ['github'],
  async run(cfg, ctx): Promise<StepResult> {
    const rules = cfg.approvers ?? []
    const min = cfg.minApprovals ?? 1
    const matcher = new RuleMatcher(ctx)
    const counted: StepResponse[] = []
    const approvers = new Set<string>()
    const requiredMet = new Set<number>()
    const ignored: string[] = []
    for (const r of recordedResponses(ctx)) {
      if (r.action !== 'approve' && r.action !== 'reject') continue
      const matched = await matcher.matching(rules, r)
      if (matched.length === 0) {
        ignored.push(r.actor)
        continue
      }
      const user = r.actor.toLowerCase()
      if (r.action === 'reject') {
        counted.push(r)
        return {
          status: 'Failed',
          outputs: { responses: counted.map(outputEntry) },
          message: `rejected by ${r.actor} at ${r.at}${r.message ? `: ${r.message}` : ''}`
        }
      }
      if (approvers.has(user)) continue
      approvers.add(user)
      counted.push(r)
      for (const i of matched) if (i >= 0 && rules[i].required) requiredMet.add(i)
    }
    const outputs = { responses: counted.map(outputEntry) }
    const missing = rules.flatMap((r, i) => (r.required && !requiredMet.has(i) ? [r] : []))
    if (approvers.size >= min && missing.length === 0) {
      ctx.logger.info(`approved by ${[...approvers].join(', ')}`)
      return { status: 'Succeeded', outputs }
    }
    const repoURL = recordedResponses(ctx).find((r) => r.repositoryURL)?.repositoryURL
    const parts = [
      `waiting for approval: ${approvers.size} of ${min} from ${whoMayRespond(rules, repoURL)}`
    ]
    if (missing.length)
      parts.push(`required: one from ${missing.map((r) => describeRule(r)).join(', ')}`)
    if (ignored.length)
      parts.push(`not counted (no rule matches): ${[...new Set(ignored)].join(', ')}`)
    return {
      status: 'Running',
      outputs,
      message: `${parts.join('; ')} (waybill respond --stage ${ctx.stage} --approve|--reject)`,
      pollIntervalMs: pollIntervalMs(cfg.pollInterval)
    }
  }
})
