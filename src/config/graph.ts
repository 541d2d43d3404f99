/** The stage graph: order, upstream/downstream, and the checks that keep it sound. */
import type { ProjectModel } from './model.js'
import type { Problem } from './problems.js'
import type { Stage, Warehouse } from './schema.js'
import { NameQueue } from './name-queue.js'

/** Upstream stages of a stage, across all its requested origins, in order of first mention. */
export function upstreamStages(stage: Stage): string[] {
  const out: string[] = []
  for (const r of stage.spec.requestedFreight)
    for (const s of r.sources.stages ?? []) if (!out.includes(s)) out.push(s)
  return out
}

/** Stages that name `name` as an upstream, sorted by name. */
export function downstreamStages(model: ProjectModel, name: string): string[] {
  return [...model.stages]
    .filter(([, s]) => upstreamStages(s).includes(name))
    .map(([n]) => n)
    .sort()
}

/** A stage without promotion steps: it only passes freight on (Kargo's control-flow stage). */
export function isControlFlow(model: ProjectModel, stage: string): boolean {
  return !model.stages.get(stage)?.spec.promotionTemplate?.spec?.steps?.length
}

/**
 * Stages in topological order (every stage after all of its upstream stages); stages that are
 * ready at the same time come in name order. Stages caught in a cycle come last, by name.
 */
export function stageOrder(model: ProjectModel): readonly string[] {
  // A loaded model does not change; a reconcile asks for its order several times per write.
  let order = orderByModel.get(model)
  if (!order) {
    order = Object.freeze(computeStageOrder(model))
    orderByModel.set(model, order)
  }
  return order
}

const orderByModel = new WeakMap<ProjectModel, readonly string[]>()

function computeStageOrder(model: ProjectModel): string[] {
  // Kahn's algorithm, taking the smallest name among the stages ready at each step.
  const waitingOn = new Map<string, number>()
  const downstream = new Map<string, string[]>()
  for (const [name, stage] of model.stages) {
    const ups = upstreamStages(stage).filter((u) => model.stages.has(u) && u !== name)
    waitingOn.set(name, ups.length)
    for (const u of ups) {
      const list = downstream.get(u)
      if (list) list.push(name)
      else downstream.set(u, [name])
    }
  }
  const ready = new NameQueue()
  for (const [name, count] of waitingOn) if (count === 0) ready.push(name)
  const order: string[] = []
  for (let name = ready.pop(); name !== undefined; name = ready.pop()) {
    order.push(name)
    for (const d of downstream.get(name) ?? []) {
      const left = waitingOn.get(d)! - 1
      waitingOn.set(d, left)
      if (left === 0) ready.push(d)
    }
  }
  const inCycles = [...waitingOn].filter(([, count]) => count > 0).map(([name]) => name)
  return order.concat(inCycles.sort())
}

/** Stages that request freight from a warehouse, in stage order. */
export function stagesRequestingOrigin(model: ProjectModel, warehouse: string): string[] {
  return stageOrder(model).filter((n) =>
    model.stages.get(n)!.spec.requestedFreight.some((r) => r.origin.name === warehouse)
  )
}

/** Where a field of a resource is: its file and position. */
export type Locate = (
  kind: string,
  name: string,
  path: ReadonlyArray<PropertyKey>,
  preferKey?: boolean
) => Pick<Problem, 'file' | 'line' | 'column'>

function subscriptionKey(s: Warehouse['spec']['subscriptions'][number]): string | undefined {
  const norm = (u: string) => u.trim().replace(/\/+$/, '')
  if (s.image) return `image ${norm(s.image.repoURL)}`
  if (s.git) return `git ${norm(s.git.repoURL).replace(/\.git$/, '')}`
  if (s.chart) return `chart ${norm(s.chart.repoURL)}${s.chart.name ? ` (${s.chart.name})` : ''}`
  return undefined
}

/**
 * Cross-resource checks. `existsButInvalid` names resources that failed validation: references
 * to them are not reported again as missing.
 */
export function graphProblems(
  model: ProjectModel,
  locate: Locate,
  existsButInvalid: (kind: string, name: string) => boolean = () => false
): Problem[] {
  const problems: Problem[] = []
  const error = (
    kind: string,
    name: string,
    path: Array<string | number>,
    message: string,
    hint?: string,
    severity: Problem['severity'] = 'error'
  ) =>
    problems.push({
      severity,
      ...locate(kind, name, path),
      kind,
      name,
      field: fieldOf(path),
      message,
      hint
    })

  // Warehouses: one subscription per repository, unique subscription names.
  for (const [wname, w] of model.warehouses) {
    const keys = new Map<string, number>()
    const names = new Map<string, number>()
    w.spec.subscriptions.forEach((s, i) => {
      const key = subscriptionKey(s)
      const type = s.image ? 'image' : s.git ? 'git' : 'chart'
      if (key) {
        const prev = keys.get(key)
        if (prev !== undefined)
          error(
            'Warehouse',
            wname,
            ['spec', 'subscriptions', i, type, 'repoURL'],
            `subscribes to ${key} twice (also subscriptions[${prev}])`,
            'a warehouse may subscribe to a repository only once'
          )
        else keys.set(key, i)
      }
      if (s.name) {
        const prev = names.get(s.name)
        if (prev !== undefined)
          error(
            'Warehouse',
            wname,
            ['spec', 'subscriptions', i, 'name'],
            `subscription name '${s.name}' is used twice (also subscriptions[${prev}])`
          )
        else names.set(s.name, i)
      }
    })
  }

  const stageExists = (n: string) => model.stages.has(n) || existsButInvalid('Stage', n)
  const warehouseExists = (n: string) => model.warehouses.has(n) || existsButInvalid('Warehouse', n)
  const suggest = (n: string, names: Iterable<string>) => {
    const all = [...names].sort()
    return all.length ? `known: ${all.join(', ')}` : undefined
  }

  for (const [sname, stage] of model.stages) {
    const origins = new Map<string, number>()
    stage.spec.requestedFreight.forEach((r, i) => {
      const base = ['spec', 'requestedFreight', i]
      const prev = origins.get(r.origin.name)
      if (prev !== undefined)
        error(
          'Stage',
          sname,
          [...base, 'origin', 'name'],
          `requests freight from Warehouse '${r.origin.name}' twice (also requestedFreight[${prev}])`,
          'list each warehouse once; put all its upstream stages in one sources.stages list'
        )
      else origins.set(r.origin.name, i)
      if (!warehouseExists(r.origin.name))
        error(
          'Stage',
          sname,
          [...base, 'origin', 'name'],
          `Warehouse '${r.origin.name}' not found`,
          suggest(r.origin.name, model.warehouses.keys())
        )
      ;(r.sources.stages ?? []).forEach((up, j) => {
        const p = [...base, 'sources', 'stages', j]
        if (up === sname) return // reported as a cycle
        if (!stageExists(up)) {
          error(
            'Stage',
            sname,
            p,
            `upstream Stage '${up}' not found`,
            suggest(
              up,
              [...model.stages.keys()].filter((n) => n !== sname)
            )
          )
          return
        }
        const upstream = model.stages.get(up)
        if (
          upstream &&
          !upstream.spec.requestedFreight.some((u) => u.origin.name === r.origin.name)
        )
          error(
            'Stage',
            sname,
            p,
            `upstream Stage '${up}' does not request freight from Warehouse '${r.origin.name}'`,
            `add Warehouse '${r.origin.name}' to ${up}'s requestedFreight, or take it from another stage`
          )
      })
    })

    // Steps: referenced tasks exist; aliases are unique.
    const steps = stage.spec.promotionTemplate?.spec.steps ?? []
    const provided = new Set([
      ...(stage.spec.vars ?? []).map((v) => v.name),
      ...(stage.spec.promotionTemplate?.spec.vars ?? []).map((v) => v.name)
    ])
    steps.forEach((step, i) => {
      if (!step.task) return
      const { name, kind } = step.task
      const found =
        kind === 'ClusterPromotionTask'
          ? model.clusterPromotionTasks.get(name)
          : model.promotionTasks.get(name)
      if (!found) {
        if (existsButInvalid(kind, name)) return
        const other =
          kind === 'ClusterPromotionTask'
            ? model.promotionTasks.has(name) && 'PromotionTask'
            : model.clusterPromotionTasks.has(name) && 'ClusterPromotionTask'
        error(
          'Stage',
          sname,
          ['spec', 'promotionTemplate', 'spec', 'steps', i, 'task', 'name'],
          `${kind} '${name}' not found`,
          other
            ? `a ${other} named '${name}' exists: set task.kind: ${other}`
            : `define it with kind: ${kind} in ${model.configDir}`
        )
        return
      }
      const stepVars = new Set((step.vars ?? []).map((v) => v.name))
      for (const v of found.spec.vars ?? []) {
        if (v.value === undefined && !stepVars.has(v.name) && !provided.has(v.name))
          error(
            'Stage',
            sname,
            ['spec', 'promotionTemplate', 'spec', 'steps', i],
            `${kind} '${name}' requires var '${v.name}', which this stage does not set`,
            `add vars: [{name: ${v.name}, value: …}] to this step`,
            'warning'
          )
      }
    })
    checkAliases(steps, ['spec', 'promotionTemplate', 'spec', 'steps'], 'Stage', sname, error)
  }
  for (const [kind, tasks] of [
    ['PromotionTask', model.promotionTasks],
    ['ClusterPromotionTask', model.clusterPromotionTasks]
  ] as const) {
    for (const [tname, task] of tasks)
      checkAliases(task.spec.steps, ['spec', 'steps'], kind, tname, error)
  }

  // Cycles (a stage that is its own upstream, directly or through others).
  const reported = new Set<string>()
  for (const start of [...model.stages.keys()].sort()) {
    const cycle = findCycle(model, start)
    if (!cycle) continue
    const id = [...cycle.slice(0, -1)].sort().join(',')
    if (reported.has(id)) continue
    reported.add(id)
    // cycle is in the direction freight flows: cycle[1] takes freight from cycle[0]
    const [from, at] = cycle
    const stage = model.stages.get(at)!
    let path: Array<string | number> = ['spec', 'requestedFreight']
    stage.spec.requestedFreight.forEach((r, i) => {
      const j = (r.sources.stages ?? []).indexOf(from)
      if (j >= 0 && path.length === 2)
        path = ['spec', 'requestedFreight', i, 'sources', 'stages', j]
    })
    error(
      'Stage',
      at,
      path,
      cycle.length === 2
        ? 'a stage cannot be its own upstream'
        : `stages form a cycle: ${cycle.join(' → ')}`,
      'freight must flow one way: remove one of these upstream references'
    )
  }
  return problems
}

/** A cycle through `start` following upstream references, as [start, …, start]. */
function findCycle(model: ProjectModel, start: string): string[] | undefined {
  const stack: string[] = []
  const visited = new Set<string>()
  const dfs = (n: string): string[] | undefined => {
    stack.push(n)
    for (const up of [...upstreamStages(model.stages.get(n)!)].sort()) {
      if (up === start) return [...stack, start].reverse()
      if (!model.stages.has(up) || visited.has(up)) continue
      visited.add(up)
      const found = dfs(up)
      if (found) return found
    }
    stack.pop()
    return undefined
  }
  return dfs(start)
}

function checkAliases(
  steps: Array<{ as?: string }>,
  base: Array<string | number>,
  kind: string,
  name: string,
  error: (kind: string, name: string, path: Array<string | number>, message: string) => void
): void {
  const seen = new Map<string, number>()
  steps.forEach((s, i) => {
    if (!s.as) return
    const prev = seen.get(s.as)
    if (prev !== undefined)
      error(
        kind,
        name,
        [...base, i, 'as'],
        `step alias '${s.as}' is used twice (also step ${prev + 1})`
      )
    else seen.set(s.as, i)
  })
}

function fieldOf(path: Array<string | number>): string {
  let out = ''
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${p}` : p
  return out
}
