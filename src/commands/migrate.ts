import { defineCommand } from './define.js'
import { planMigration, unifiedDiff, writeMigration, type MigrationNote } from '../migrate/index.js'
import { loadProject } from '../config/load.js'
import { UsageError } from '../util/errors.js'

function where(n: MigrationNote): string {
  return `${n.file}${n.line ? `:${n.line}` : ''}`
}

/**
 * `waybill migrate`: rewrites older Kargo configs (0.x promotionMechanisms and subscriptions,
 * PromotionPolicy resources, 1.0-era step fields, deprecated Warehouse fields) into the current
 * format, keeping comments and layout. A dry run by default (prints the unified diff); `--write`
 * applies it and validates the result. The action only ever runs the dry run.
 */
export const migrateCommand = defineCommand({
  name: 'migrate',
  description: 'Rewrite older Kargo configs into the current format (dry run; --write to apply)',
  dryRun: true,
  flags: {
    write: {
      type: 'boolean',
      description: 'Apply the changes to the files (default: print a diff)'
    }
  },
  async run(ctx, args) {
    if (ctx.dryRun && args.write)
      throw new UsageError('--write and --dry-run contradict each other', 'drop one of them')
    const plan = await planMigration(ctx.repoDir, ctx.configDir)
    const diffs = plan.files.map((f) => ({
      file: f.file,
      diff: unifiedDiff(f.file, f.before, f.after)
    }))
    const warnings = plan.notes.filter((n) => n.severity === 'warning')
    let valid: boolean | undefined
    if (args.write && plan.files.length > 0) {
      await writeMigration(plan)
      const { problems } = await loadProject(ctx.repoDir, ctx.configDir)
      valid = !problems.some((p) => p.severity === 'error')
    }
    if (ctx.json) {
      ctx.print(
        JSON.stringify({ written: args.write, valid, files: diffs, notes: plan.notes }, null, 2)
      )
    } else {
      for (const d of diffs) ctx.print(d.diff.trimEnd())
      for (const n of plan.notes) {
        const text = `${n.resource ? `${n.resource}: ` : ''}${n.message}`
        const loc = { file: n.file, line: n.line }
        if (n.severity === 'warning') ctx.logger.warn(text, loc)
        else ctx.logger.info(`${where(n)}: ${text}`)
      }
      const count = `${plan.files.length} file${plan.files.length === 1 ? '' : 's'}`
      ctx.print(
        plan.files.length === 0
          ? `${plan.configDir}: nothing to migrate`
          : args.write
            ? `${plan.configDir}: migrated ${count}; ${valid ? 'the result validates' : 'the result has errors: run `waybill validate`'}`
            : `${plan.configDir}: ${count} to migrate (dry run; rerun with --write to apply)`
      )
    }
    return {
      exitCode: valid === false ? 1 : 0,
      outputs: {
        files: String(plan.files.length),
        warnings: String(warnings.length),
        written: String(args.write && plan.files.length > 0)
      },
      summary: diffs.length
        ? `### waybill migrate (${args.write ? 'applied' : 'dry run'})\n\n\`\`\`diff\n${diffs.map((d) => d.diff).join('')}\`\`\``
        : undefined
    }
  }
})
