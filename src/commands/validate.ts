import { defineCommand } from './define.js'
import { loadProject, annotateProblems } from '../config/load.js'
import { problemText, type Problem } from '../config/problems.js'
import { escapeMarkdown } from '../report/escape.js'

function count(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`
}

function summaryMarkdown(configDir: string, problems: Problem[], valid: boolean): string {
  const lines = [
    `### Waybill configuration (${escapeMarkdown(configDir)}): ${valid ? 'valid' : 'invalid'}`,
    ''
  ]
  if (problems.length === 0) return lines.join('\n')
  lines.push('| severity | where | problem |', '| --- | --- | --- |')
  for (const p of problems) {
    const where = `${p.file}${p.line ? `:${p.line}` : ''}`
    lines.push(
      `| ${p.severity} | <code>${escapeMarkdown(where)}</code> | ${escapeMarkdown(problemText(p))} |`
    )
  }
  return lines.join('\n')
}

/** The same keys in the same order for every problem (absent ones omitted). */
function stableProblem(p: Problem): Problem {
  const { severity, file, line, column, kind, name, field, message, hint } = p
  return JSON.parse(
    JSON.stringify({ severity, file, line, column, kind, name, field, message, hint })
  ) as Problem
}

/**
 * `waybill validate`: loads the config folder and reports every problem. Human mode sends each
 * problem to the logger with its location (GitHub annotations in the action, `file:line:col` on
 * stderr in the CLI) and prints a one-line verdict; `--json` prints `{valid, problems}`.
 * Exit 1 when there are errors; warnings and notices do not fail.
 */
export const validateCommand = defineCommand({
  name: 'validate',
  description: 'Check the Kargo resources in the config folder (exit 1 on errors)',
  dryRun: true,
  flags: {},
  async run(ctx) {
    const { model, problems } = await loadProject(ctx.repoDir, ctx.configDir)
    const errors = problems.filter((p) => p.severity === 'error').length
    const warnings = problems.filter((p) => p.severity === 'warning').length
    const valid = errors === 0
    if (ctx.json) {
      ctx.print(JSON.stringify({ valid, problems: problems.map(stableProblem) }, null, 2))
    } else {
      annotateProblems(problems, ctx.logger)
      const resources = [
        count(model.warehouses.size, 'warehouse'),
        count(model.stages.size, 'stage'),
        count(model.promotionTasks.size + model.clusterPromotionTasks.size, 'promotion task')
      ].join(', ')
      ctx.print(
        valid
          ? `${model.configDir}: valid (${resources}${warnings ? `; ${count(warnings, 'warning')}` : ''})`
          : `${model.configDir}: ${count(errors, 'error')}${warnings ? `, ${count(warnings, 'warning')}` : ''}`
      )
    }
    return {
      exitCode: valid ? 0 : 1,
      outputs: { valid: String(valid), errors: String(errors), warnings: String(warnings) },
      summary: summaryMarkdown(model.configDir, problems, valid)
    }
  }
})
