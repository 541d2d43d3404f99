import fs from 'node:fs'
import type { CommandContext } from '../runtime/context.js'
import { defineCommand } from './define.js'
import { formatTable, renderStatusTable } from '../report/table.js'
import { artifactLines } from '../report/view.js'
import { renderStatusPage } from '../report/status-page.js'
import { projectName } from '../pipeline/context.js'
import { publishStatusPage } from '../report/publish.js'
import { renderStatusSummary } from '../report/summary.js'
import { loadProject, annotateProblems } from '../config/load.js'
import { stageOrder } from '../config/graph.js'
import { openStateStore } from '../state/open.js'
import { evaluateHealthChecks } from '../promotion/health.js'
import { detectDrift, type DriftFinding } from '../pipeline/drift.js'
import { driftText } from '../report/drift.js'
import { shortId } from '../freight/id.js'
import { frozenStages, frozenText } from '../pipeline/gates.js'
import type { Freight } from '../freight/types.js'
import type { PromotionPhase, State } from '../state/types.js'

/** `waybill status --json`: a stable, documented shape (docs/state.md). */
export interface StatusJson {
  stages: Array<{
    name: string
    /** Current freight, one per requested origin (missing origins have id/alias null). */
    freight: Array<{ origin: string; id: string | null; alias: string | null }>
    lastPromotion: {
      name: string
      phase: PromotionPhase
      freight: string
      finishedAt: string | null
    } | null
    /** A promotion queued or running for the stage, by name. */
    currentPromotion: string | null
    health: string | null
    /** Every current freight is verified in the stage. */
    verified: boolean
    /** Changes made outside Waybill: the stage branch or Argo CD app is not what it recorded. */
    drift: Array<Omit<DriftFinding, 'stage'>>
    /** Present while promotion windows freeze the stage: "frozen until <time> (<reason>)". */
    frozen?: string
  }>
  warehouses: Array<{
    name: string
    latestFreight: {
      id: string
      alias: string
      discoveredAt: string
      artifacts: string[]
    } | null
    lastDiscoveredAt: string | null
    lastError: string | null
  }>
}

function latestFreight(state: State, warehouse: string): Freight | undefined {
  let best: Freight | undefined
  for (const f of Object.values(state.freight)) {
    if (f.origin.name !== warehouse) continue
    if (
      !best ||
      f.discoveredAt > best.discoveredAt ||
      (f.discoveredAt === best.discoveredAt && f.name > best.name)
    )
      best = f
  }
  return best
}

/** The status document from the config model (stage order, requested origins) and the state. */
export function buildStatus(
  stages: Array<{ name: string; origins: string[] }>,
  warehouses: string[],
  state: State,
  drift: DriftFinding[] = [],
  frozen: ReadonlyMap<string, string> = new Map()
): StatusJson {
  return {
    stages: stages.map(({ name, origins }) => {
      const s = state.stages[name]
      const current = s?.freightHistory[0]
      const freight = origins.map((origin) => {
        const id = current?.items[`Warehouse/${origin}`]?.name ?? null
        return { origin, id, alias: id ? (state.freight[id]?.alias ?? null) : null }
      })
      for (const ref of Object.values(current?.items ?? {}))
        if (!origins.includes(ref.origin.name))
          freight.push({
            origin: ref.origin.name,
            id: ref.name,
            alias: state.freight[ref.name]?.alias ?? null
          })
      const present = freight.filter((f) => f.id)
      const verified =
        present.length > 0 &&
        present.every((f) => Boolean(state.freight[f.id]?.status.verifiedIn[name]))
      const last = s?.lastPromotion
      return {
        name,
        freight,
        lastPromotion: last
          ? {
              name: last.name,
              phase: last.phase,
              freight: last.freight,
              finishedAt: last.finishedAt ?? null
            }
          : null,
        currentPromotion: s?.currentPromotion ?? null,
        health: s?.health?.status ?? null,
        verified,
        drift: drift.filter((d) => d.stage === name).map(({ stage: _stage, ...rest }) => rest),
        ...(frozen.has(name) ? { frozen: frozen.get(name) } : {})
      }
    }),
    warehouses: warehouses.map((name) => {
      const w = state.warehouses[name]
      const f = latestFreight(state, name)
      return {
        name,
        latestFreight: f
          ? {
              id: f.name,
              alias: f.alias,
              discoveredAt: f.discoveredAt,
              artifacts: artifactLines(f)
            }
          : null,
        lastDiscoveredAt: w?.lastDiscoveredAt ?? null,
        lastError: w?.lastError ?? null
      }
    })
  }
}

/** The human rendering of `waybill status`: stages, then warehouses. */
export function formatStatus(status: StatusJson, state: State): string {
  const drift = driftText(driftOf(status))
  return [formatStages(status), ...(drift ? [drift] : []), formatWarehouses(status, state)].join(
    '\n\n'
  )
}

/** The drift findings of a status document, stage by stage. */
function driftOf(status: StatusJson): DriftFinding[] {
  return status.stages.flatMap((s) => s.drift.map((d) => ({ stage: s.name, ...d })))
}

function formatStages(status: StatusJson): string {
  const lines: string[] = ['Stages (in promotion order)']
  if (status.stages.length === 0) lines.push('  (none)')
  else {
    const rows = [['', 'STAGE', 'FREIGHT', 'LAST PROMOTION', 'HEALTH', 'VERIFIED']]
    for (const s of status.stages) {
      const freight =
        s.freight
          .map((f) =>
            f.id ? `${f.origin}: ${f.alias ?? '?'} (${shortId(f.id)})` : `${f.origin}: -`
          )
          .join(', ') || '-'
      const last = s.lastPromotion
        ? `${s.lastPromotion.phase}${s.currentPromotion ? ' (+1 queued)' : ''}`
        : s.currentPromotion
          ? 'queued'
          : '-'
      rows.push([
        '',
        s.name,
        freight,
        s.frozen ? `${last}, ${s.frozen}` : last,
        s.health ?? '-',
        s.verified ? 'yes' : 'no'
      ])
    }
    lines.push(formatTable(rows))
  }
  return lines.join('\n')
}

function formatWarehouses(status: StatusJson, state: State): string {
  const lines: string[] = ['Warehouses']
  if (status.warehouses.length === 0) lines.push('  (none)')
  else {
    const rows = [['', 'WAREHOUSE', 'LATEST FREIGHT', 'ARTIFACTS', 'DISCOVERED']]
    for (const w of status.warehouses) {
      const f = w.latestFreight
      rows.push([
        '',
        w.name,
        f ? `${f.alias} (${shortId(f.id)})` : '-',
        f ? f.artifacts.join(', ') : '-',
        (w.lastDiscoveredAt ?? 'never') + (w.lastError ? ` (error: ${w.lastError})` : '')
      ])
    }
    lines.push(formatTable(rows))
  }
  const freightCount = Object.keys(state.freight).length
  lines.push('', `${freightCount} freight, ${Object.keys(state.promotions).length} promotions`)
  return lines.join('\n')
}

async function status(ctx: CommandContext) {
  const { model, problems } = await loadProject(ctx.repoDir, ctx.configDir)
  annotateProblems(problems, ctx.logger, ['error', 'warning'])
  const store = openStateStore(ctx)
  const snapshot = await store.snapshot()
  // Health is live: the state records it only while verification waits for it.
  const state: State = { ...snapshot, stages: { ...snapshot.stages } }
  for (const [name, st] of Object.entries(snapshot.stages))
    if (st.healthChecks?.length)
      state.stages[name] = {
        ...st,
        health: await evaluateHealthChecks(st.healthChecks, {
          services: ctx.services,
          logger: ctx.logger,
          now: ctx.now
        })
      }
  const stages = stageOrder(model).map((name) => ({
    name,
    origins: [...new Set(model.stages.get(name)!.spec.requestedFreight.map((r) => r.origin.name))]
  }))
  const warehouses = [...model.warehouses.keys()].sort()
  // Live, like health: one ls-remote per repository the stages' last promotions wrote to.
  const drift = await detectDrift(state, {
    services: ctx.services,
    logger: ctx.logger,
    stages: stages.map((s) => s.name)
  })
  const frozen = new Map(
    [...frozenStages(model, ctx.now())].map(([name, s]) => [name, frozenText(s)])
  )
  return {
    status: buildStatus(stages, warehouses, state, drift, frozen),
    state,
    model,
    store,
    drift
  }
}

/**
 * `waybill status [--json]`: the pipeline as the state branch records it: stages in promotion
 * (DAG) order with their current freight, last promotion, health and verification; warehouses with
 * their latest freight and last discovery.
 */
export const statusCommand = defineCommand({
  name: 'status',
  description: 'Show stages (current freight, last promotion, health) and warehouses',
  dryRun: true,
  flags: {
    html: {
      type: 'string',
      description: 'Also write the pipeline page (self-contained HTML) to this file'
    },
    publish: {
      type: 'boolean',
      description: 'Publish the pipeline page as index.html on the state branch (for GitHub Pages)'
    }
  },
  async run(ctx, args) {
    const { status: s, state, model, store, drift } = await status(ctx)
    if (ctx.json) ctx.print(JSON.stringify(s, null, 2))
    // A terminal gets the coloured stage table; pipes and files the plain one.
    else if (process.stdout.isTTY)
      ctx.print(
        [
          renderStatusTable(model, state, { color: true, now: ctx.now() }),
          ...(drift.length ? [driftText(drift)] : []),
          formatWarehouses(s, state)
        ].join('\n\n')
      )
    else ctx.print(formatStatus(s, state))
    const outputs: Record<string, string> = { status: JSON.stringify(s) }
    if (typeof args.html === 'string') {
      const html = renderStatusPage({
        model,
        state,
        project: projectName(ctx),
        generatedAt: ctx.now(),
        drift
      })
      fs.writeFileSync(args.html, html)
      ctx.logger.info(`wrote ${args.html}`)
    }
    // Reuses the state this command fetched: no second fetch.
    if (args.publish && ctx.dryRun) ctx.logger.info('dry run: the pipeline page is not published')
    else if (args.publish) await publishStatusPage(ctx, model, store, { drift })
    return {
      exitCode: 0,
      outputs,
      summary: renderStatusSummary({ model, state, runURL: ctx.runURL, drift, now: ctx.now() })
    }
  }
})
