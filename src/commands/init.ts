import { defineCommand } from './define.js'
import { nextSteps, runInit } from '../init/index.js'
import { ACTION_REF } from '../init/templates.js'

/**
 * `waybill init`: writes `.waybill/` (Warehouse, Stages, PromotionTask, ProjectConfig) and the
 * workflows `.github/workflows/waybill.yml` and `waybill-promote.yml`. Asks nothing: what the
 * flags leave out is inferred from the repository or defaulted. Files the user edited are kept
 * (and listed) unless --force.
 */
export const initCommand = defineCommand({
  name: 'init',
  description: 'Write .waybill/ resources and GitHub workflows for a new pipeline',
  flags: {
    pattern: {
      type: 'string',
      description: 'image-updater | config-updater | common-case (default: inferred)'
    },
    image: { type: 'string', description: 'Image repository to watch, e.g. ghcr.io/org/app' },
    'git-repo': {
      type: 'string',
      description: 'Config repository URL (default: the origin remote of --repo-dir)'
    },
    branch: {
      type: 'string',
      description: 'Branch with the base config (default: the remote default branch)'
    },
    stages: {
      type: 'string',
      description: 'Stages in promotion order, e.g. test,uat,prod (default: stages/ folders)'
    },
    layout: { type: 'string', description: 'kustomize | helm (default: inferred)' },
    force: { type: 'boolean', description: 'Overwrite files you edited' }
  },
  async run(ctx, args) {
    const result = await runInit({
      repoDir: ctx.repoDir,
      configDir: ctx.configDir,
      pattern: args.pattern,
      image: args.image,
      gitRepo: args['git-repo'],
      branch: args.branch,
      stages: args.stages,
      layout: args.layout,
      project: ctx.project,
      force: args.force
    })
    const kept = result.files.filter((f) => f.action === 'kept').map((f) => f.path)
    if (ctx.json) {
      ctx.print(JSON.stringify({ ...result, kept }, null, 2))
    } else {
      for (const i of result.inferred) ctx.logger.info(`inferred ${i}`)
      for (const f of result.files) ctx.print(`${f.action.padEnd(11)} ${f.path}`)
      if (kept.length)
        ctx.logger.warn(
          `kept ${kept.length} file${kept.length === 1 ? '' : 's'} you edited: ${kept.join(', ')} (rerun with --force to overwrite)`
        )
      ctx.print(
        [
          '',
          ...nextSteps({
            result,
            repoDir: ctx.repoDir,
            cwd: process.cwd(),
            stateBranch: ctx.stateBranch
          }),
          `  The workflows use ${ACTION_REF}; see docs/workflows.md.`
        ].join('\n')
      )
    }
    return {
      exitCode: 0,
      outputs: {
        files: JSON.stringify(result.files),
        kept: JSON.stringify(kept)
      }
    }
  }
})
