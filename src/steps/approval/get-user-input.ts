import { z } from 'zod'
import type { StepResponse } from '../../state/types.js'
import { errorMessage } from '../../util/errors.js'
import { StepConfigError, defineStep } from '../define.js'
import type { StepResult } from '../types.js'
import {
  inputProblems,
  schemaProblem,
  pollIntervalMs,
  pollIntervalSchema,
  recordedResponses,
  RuleMatcher,
  ruleSchema,
  whoMayRespond
} from './responses.js'

const STEP = 'get-user-input'

const schema = z.strictObject({
  schema: z.record(z.string(), z.unknown()).superRefine((s, c) => {
    if (s.type !== 'object')
      c.addIssue({
        code: 'custom',
        message: "the schema's root must be `type: object` (a submission is a set of named fields)"
      })
    else {
      const problem = schemaProblem(s)
      if (problem) c.addIssue({ code: 'custom', message: `is not a valid JSON Schema: ${problem}` })
    }
  }),
  responders: z.array(ruleSchema).optional(),
  display: z.string().optional(),
  pollInterval: pollIntervalSchema.optional()
})
export type GetUserInputConfig = z.infer<typeof schema>

/**
 * Waits for a user matching `responders` to submit values (`waybill respond --input '{…}'`) that
 * validate against `schema`; outputs them as `values` with `respondedBy` and `respondedAt`.
 * Submissions from users no rule matches, or that do not validate, are ignored (the message says
 * why) and the step keeps waiting.
 */
export const getUserInput = defineStep({
  name: STEP,
  schema,
  capabilities: ['github'],
  async run(cfg, ctx): Promise<StepResult> {
    const rules = cfg.responders ?? []
    const matcher = new RuleMatcher(ctx)
    const notes: string[] = []
    let repoURL: string | undefined
    for (const r of recordedResponses(ctx)) {
      if (r.action !== 'input') continue
      repoURL ??= r.repositoryURL
      if ((await matcher.matching(rules, r)).length === 0) {
        notes.push(`input from ${r.actor} not counted (no rule matches)`)
        continue
      }
      const problems = check(cfg.schema, r)
      if (problems.length) {
        notes.push(`input from ${r.actor} is invalid: ${problems.join('; ')}`)
        continue
      }
      ctx.logger.info(`input submitted by ${r.actor} at ${r.at}`)
      return {
        status: 'Succeeded',
        outputs: { values: r.values ?? {}, respondedBy: r.actor, respondedAt: r.at }
      }
    }
    const display = cfg.display ? ` (${cfg.display})` : ''
    return {
      status: 'Running',
      outputs: {},
      message:
        [`waiting for input${display} from ${whoMayRespond(rules, repoURL)}`, ...notes].join('; ') +
        ` (waybill respond --stage ${ctx.stage} --input '{…}')`,
      pollIntervalMs: pollIntervalMs(cfg.pollInterval)
    }
  }
})

function check(jsonSchema: Record<string, unknown>, r: StepResponse): string[] {
  try {
    return inputProblems(jsonSchema, r.values ?? {})
  } catch (err) {
    throw new StepConfigError(STEP, 'schema', `is not a valid JSON Schema: ${errorMessage(err)}`)
  }
}
