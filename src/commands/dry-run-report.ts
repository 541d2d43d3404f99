import type { CommandContext, CommandResult } from '../runtime/context.js'
import { dryRunSummary } from '../report/summary.js'
import { isUnsuccessfulPhase } from '../state/types.js'
import type { DryRunResult } from './dry-run.js'

/** A dry run's printout, outputs and job summary. */
export function dryRunOutcome(ctx: CommandContext, run: DryRunResult): CommandResult {
  const p = run.result.promotion
  // Waiting steps end a dry run: it never polls (nothing it skipped will ever finish).
  const phase = p.phase === 'Running' ? 'Running' : p.phase
  if (ctx.json)
    ctx.print(
      JSON.stringify({
        dryRun: true,
        stage: p.stage,
        phase,
        message: p.message,
        wouldRun: run.skipped,
        diff: run.diff
      })
    )
  else {
    ctx.print(`dry run of ${p.stage}: ${phase}${p.message ? ` — ${p.message}` : ''}`)
    for (const s of run.skipped) ctx.print(`would run ${s}`)
    ctx.print(run.diff ? run.diff.trimEnd() : 'no changes to any working tree')
  }
  return {
    exitCode: isUnsuccessfulPhase(p.phase) ? 1 : 0,
    outputs: { phase, diff: run.diff, 'dry-run': 'true' },
    summary: dryRunSummary({
      stage: p.stage,
      phase,
      message: p.message,
      wouldRun: run.skipped,
      diff: run.diff
    })
  }
}
