import { ConfigFieldError } from '../util/errors.js'

/** A `{name, value}` variable (Stage, promotion template, task, or step vars). */
export interface StepVar {
  name: string
  value?: string
}

/** The fields of a Kargo PromotionStep (src/config/schema.ts PromotionStep), structurally. */
export interface PromotionStepLike {
  uses?: string
  task?: { name: string; kind?: string } // kind: PromotionTask (default) or ClusterPromotionTask
  as?: string
  if?: string
  continueOnError?: boolean
  retry?: { errorThreshold?: number; timeout?: string }
  vars?: StepVar[]
  config?: Record<string, unknown>
}

/** A (Cluster)PromotionTask resource, structurally. */
export interface PromotionTaskLike {
  spec: { vars?: StepVar[]; steps: PromotionStepLike[] }
}

export interface TaskCatalog {
  promotionTasks: ReadonlyMap<string, PromotionTaskLike>
  clusterPromotionTasks: ReadonlyMap<string, PromotionTaskLike>
}

/**
 * A step as stored in Promotion.steps: always `uses`; tasks expanded. Steps from a task carry
 * their task's alias so the engine can offer `task.outputs` and propagate compose-output.
 */
export interface InflatedStep {
  uses: string
  /** Unset for a template step without `as`: the engine names it step-<index+1>. */
  as?: string
  if?: string
  continueOnError?: boolean
  retry?: { errorThreshold?: number; timeout?: string }
  vars?: StepVar[]
  config?: Record<string, unknown>
  /** Alias of the task step this step was inflated from. */
  taskAlias?: string
}

/** The expression inside `${{ … }}` (or the text itself when it has no delimiters). */
function unwrap(expr: string): string {
  const m = /^\s*\$\{[{%]([\s\S]*)[}%]\}\s*$/.exec(expr)
  return (m ? m[1] : expr).trim()
}

/**
 * Kargo's InflateSteps: every `task:` step is replaced by the task's steps, aliased
 * `<taskAlias>::<stepAlias>` (task alias defaults to `task-<i+1>`, step alias to `step-<j+1>`).
 * Vars: task defaults < promotion/template vars < the task step's vars; a task var without a
 * default that nothing sets is an error. An `if` on the task step is ANDed into each step's.
 */
export function inflateSteps(
  steps: readonly PromotionStepLike[],
  tasks: TaskCatalog,
  promotionVars: readonly StepVar[] = []
): InflatedStep[] {
  const out: InflatedStep[] = []
  const promoNames = new Set(promotionVars.map((v) => v.name))
  steps.forEach((step, i) => {
    if (!step.task) {
      if (!step.uses) {
        throw new ConfigFieldError(`steps[${i}]`, "a step must set exactly one of 'uses' or 'task'")
      }
      out.push(stripUndefined({ ...step, uses: step.uses, task: undefined }))
      return
    }
    const kind = step.task.kind || 'PromotionTask'
    const catalog =
      kind === 'ClusterPromotionTask' ? tasks.clusterPromotionTasks : tasks.promotionTasks
    const task = catalog.get(step.task.name)
    if (!task) {
      throw new ConfigFieldError(
        `steps[${i}].task`,
        `${kind} '${step.task.name}' does not exist`,
        `defined ${kind}s: ${[...catalog.keys()].join(', ') || '(none)'}`
      )
    }
    const taskAlias = step.as || `task-${i + 1}`
    const stepVars = step.vars ?? []
    const stepVarNames = new Set(stepVars.map((v) => v.name))
    const vars: StepVar[] = []
    for (const tv of task.spec.vars ?? []) {
      if (stepVarNames.has(tv.name)) continue // set below, highest precedence
      if (promoNames.has(tv.name)) continue // the promotion's value is visible as vars.<name>
      if (tv.value === undefined) {
        throw new ConfigFieldError(
          `steps[${i}].vars`,
          `${kind} '${step.task.name}' needs a value for variable '${tv.name}'`,
          `set it on the task step (vars: [{name: ${tv.name}, value: …}]) or in the stage's vars`
        )
      }
      vars.push({ name: tv.name, value: tv.value })
    }
    vars.push(...stepVars)
    task.spec.steps.forEach((ts, j) => {
      if (ts.task || !ts.uses) {
        throw new ConfigFieldError(
          `${kind}/${step.task!.name}.spec.steps[${j}]`,
          "a PromotionTask step must set 'uses' (tasks do not nest)"
        )
      }
      let cond = ts.if
      if (step.if) {
        cond = ts.if ? `\${{ (${unwrap(step.if)}) && (${unwrap(ts.if)}) }}` : step.if
      }
      const ownVars = ts.vars ?? []
      out.push(
        stripUndefined({
          uses: ts.uses,
          as: `${taskAlias}::${ts.as || `step-${j + 1}`}`,
          if: cond,
          continueOnError: ts.continueOnError,
          retry: ts.retry,
          vars: vars.length || ownVars.length ? [...vars, ...ownVars] : undefined,
          config: ts.config,
          taskAlias
        })
      )
    })
  })
  return out
}

function stripUndefined<T extends object>(o: T): T {
  const out = {} as Record<string, unknown>
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v
  return structuredClone(out) as T
}
