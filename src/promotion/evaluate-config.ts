import type { Freight } from '../freight/types.js'
import type { State } from '../state/types.js'
import { ConfigFieldError, WaybillError } from '../util/errors.js'
import {
  ExpressionError,
  evaluateExpression,
  evaluateString,
  evaluateTemplate,
  freightFunctions,
  type ExprEnv,
  type ExprFunction
} from '../expressions/index.js'
import type { StepVar } from './tasks.js'
import type { StepDefinition } from '../steps/types.js'
import { StepConfigError } from '../steps/define.js'

/** What a promotion's expressions see (kargo-reference §4.3). */
export interface PromotionExprContext {
  project: string
  stage: string
  promotion: string
  actor?: string
  targetFreight: Freight
  /** The freight collection (imageFrom/commitFrom/chartFrom search it). */
  freight: Freight[]
  state: State
  secrets: Record<string, string>
}

/** The `ctx` variable. */
export function ctxVariable(c: PromotionExprContext, stepAlias?: string): Record<string, unknown> {
  return {
    project: c.project,
    stage: c.stage,
    promotion: c.promotion,
    targetFreight: {
      name: c.targetFreight.name,
      alias: c.targetFreight.alias,
      origin: { kind: c.targetFreight.origin.kind, name: c.targetFreight.origin.name }
    },
    meta: {
      promotion: { actor: c.actor ?? '' },
      ...(stepAlias ? { step: { alias: stepAlias } } : {})
    }
  }
}

export interface StepEnvInput {
  ctx: Record<string, unknown>
  vars: Record<string, unknown>
  outputs?: Record<string, unknown>
  taskOutputs?: Record<string, unknown>
  functions: Record<string, ExprFunction>
}

export function buildEnv(i: StepEnvInput): ExprEnv {
  const vars: Record<string, unknown> = { ctx: i.ctx, vars: i.vars }
  if (i.outputs) vars.outputs = i.outputs
  if (i.taskOutputs) vars.task = { outputs: i.taskOutputs }
  return { vars, functions: i.functions }
}

/** Freight functions plus secret() for a promotion. */
export function promotionFunctions(c: PromotionExprContext): Record<string, ExprFunction> {
  return freightFunctions(c.freight, { state: c.state, secrets: c.secrets })
}

/**
 * Evaluates `{name, value}` vars in order on top of `base`; each value may use `${{ }}` with the
 * env built from the vars so far (Kargo: vars may use ctx and earlier vars). Values without
 * expressions stay strings.
 */
export function evaluateVars(
  list: readonly StepVar[] | undefined,
  base: Record<string, unknown>,
  envFor: (vars: Record<string, unknown>) => ExprEnv,
  where: string
): Record<string, unknown> {
  const vars = { ...base }
  for (const v of list ?? []) {
    if (v.value === undefined) {
      if (!(v.name in vars)) vars[v.name] = null
      continue
    }
    try {
      vars[v.name] = evaluateString(v.value, envFor(vars))
    } catch (err) {
      throw new ConfigFieldError(`${where}.vars.${v.name}`, messageOf(err))
    }
  }
  return vars
}

/** Evaluates an `if:` condition (with or without `${{ }}`); it must be a bool. */
export function evaluateCondition(text: string, env: ExprEnv): boolean {
  const hasDelims = text.includes('${{') || text.includes('${%')
  let v = hasDelims ? evaluateString(text, env) : evaluateExpression(text, env)
  if (v === 'true') v = true
  else if (v === 'false') v = false
  if (typeof v !== 'boolean') {
    throw new ExpressionError(`'if' must evaluate to a bool, got ${JSON.stringify(v)}`, text)
  }
  return v
}

/**
 * Evaluates expressions in a step's config, then parses it with the step's schema. Errors name
 * the step alias and the config field: `step '<alias>' (<step>) config.<field>: …`.
 */
export function evaluateStepConfig<C>(
  def: Pick<StepDefinition<C>, 'name' | 'parse'>,
  config: Record<string, unknown> | undefined,
  env: ExprEnv,
  alias: string
): C {
  const where = (field: string) => `step '${alias}' (${def.name}) config${field ? '.' + field : ''}`
  let evaluated: unknown
  try {
    evaluated = evaluateTemplate(config ?? {}, env)
  } catch (err) {
    const field = err instanceof ConfigFieldError ? err.field : ''
    throw new ConfigFieldError(
      where(field),
      err instanceof ConfigFieldError ? err.message.replace(`${field}: `, '') : messageOf(err)
    )
  }
  try {
    return def.parse(evaluated)
  } catch (err) {
    if (err instanceof StepConfigError) {
      throw new ConfigFieldError(where(err.path), withoutField(err), err.hint)
    }
    if (err instanceof ConfigFieldError) {
      // A step not built with defineStep: its field is `<step>.<path>` by convention.
      const prefix = `${def.name}.`
      const inner =
        err.field === def.name
          ? ''
          : err.field.startsWith(prefix)
            ? err.field.slice(prefix.length)
            : err.field
      throw new ConfigFieldError(where(inner), withoutField(err), err.hint)
    }
    throw new ConfigFieldError(where(''), messageOf(err))
  }
}

/** The message of a ConfigFieldError without its `<field>: ` prefix. */
function withoutField(err: ConfigFieldError): string {
  return err.field ? err.message.slice(err.field.length + 2) : err.message
}

function messageOf(err: unknown): string {
  if (err instanceof WaybillError || err instanceof Error) return err.message
  return String(err)
}
