import { defineCommand } from './define.js'
import { openPipeline } from '../pipeline/context.js'
import { reservedBranches, runDiscovery } from '../discovery/index.js'
import type { Freight } from '../freight/types.js'
import { eventFromArgs, list } from './args.js'
import { artifactLines } from '../report/view.js'
import { escapeMarkdown } from '../report/escape.js'

/** The JSON shape of new freight in `--json` output and the `freight` output. */
export function freightSummary(f: Freight) {
  return {
    id: f.name,
    alias: f.alias,
    warehouse: f.origin.name,
    images: f.images.map((i) => ({ repoURL: i.repoURL, tag: i.tag, digest: i.digest })),
    commits: f.commits.map((c) => ({
      repoURL: c.repoURL,
      id: c.id,
      ...(c.branch ? { branch: c.branch } : {}),
      ...(c.tag ? { tag: c.tag } : {}),
      ...(c.message ? { message: c.message } : {})
    })),
    charts: f.charts.map((c) => ({ repoURL: c.repoURL, name: c.name, version: c.version }))
  }
}

export const discoverCommand = defineCommand({
  name: 'discover',
  description: 'Discover new images, commits and charts; create freight',
  flags: {
    warehouse: { type: 'string', multiple: true, description: 'Only this warehouse (repeatable)' },
    force: {
      type: 'boolean',
      description:
        'Kept for compatibility: discover always acts now (only a scheduled run honours warehouse intervals)'
    },
    'event-name': {
      type: 'string',
      description: 'GitHub event name (push, registry_package, repository_dispatch, …)'
    },
    event: { type: 'string', description: 'The event payload: JSON, or a path to a JSON file' }
  },
  async run(ctx, args) {
    const pipeline = await openPipeline(ctx)
    const event = eventFromArgs(args)
    const run = await runDiscovery(
      {
        model: pipeline.model,
        store: pipeline.store,
        services: ctx.services,
        logger: ctx.logger,
        now: ctx.now,
        reservedBranches: reservedBranches(pipeline.model, ctx.stateBranch)
      },
      // An explicit ask acts now; only the schedule (`--event-name schedule`) honours intervals.
      { warehouses: list(args.warehouse), force: args.force || event?.name !== 'schedule', event }
    )
    const freight = run.newFreight.map(freightSummary)
    if (ctx.json) ctx.print(JSON.stringify({ freight, errors: run.errors }, null, 2))
    else {
      if (!freight.length) ctx.print('No new freight.')
      for (const f of run.newFreight)
        ctx.print(
          `${f.alias}  ${f.name.slice(0, 7)}  ${f.origin.name}  ${artifactLines(f).join(', ')}`
        )
      for (const o of run.outcomes) for (const p of o.problems) ctx.print(`${o.warehouse}: ${p}`)
      for (const e of run.errors) ctx.print(`${e.warehouse}: error: ${e.message}`)
    }
    const lines = ['### Discovery', '', `Trigger: ${escapeMarkdown(run.reason)}`, '']
    if (run.newFreight.length) {
      lines.push('| Freight | ID | Warehouse | Artifacts |', '| --- | --- | --- | --- |')
      for (const f of run.newFreight)
        lines.push(
          `| ${escapeMarkdown(f.alias)} | \`${f.name.slice(0, 7)}\` | ${escapeMarkdown(f.origin.name)} | ${artifactLines(f).map(escapeMarkdown).join(', ')} |`
        )
    } else lines.push('No new freight.')
    const notes = [
      ...run.outcomes.flatMap((o) =>
        o.problems.map((p) => `- ${escapeMarkdown(o.warehouse)}: ${escapeMarkdown(p)}`)
      ),
      ...run.errors.map((e) => `- :x: ${escapeMarkdown(e.warehouse)}: ${escapeMarkdown(e.message)}`)
    ]
    if (notes.length) lines.push('', ...notes)
    return {
      exitCode: run.errors.length ? 1 : 0,
      outputs: { freight: JSON.stringify(freight) },
      summary: lines.join('\n') + '\n'
    }
  }
})
