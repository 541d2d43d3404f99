import { z } from 'zod'
import { defineStep } from '../define.js'
import { git, gitTry } from '../../git/git.js'
import type { StepResult } from '../types.js'
import { WaybillError, trimOutput } from '../../util/errors.js'
import { redact } from '../../util/logger.js'
import { assertRefName, commitEnv, inspectWorktree, repoSettings } from './common.js'
import { gnupgEnvFor } from './signing.js'

const schema = z.strictObject({
  path: z.string().min(1),
  tag: z.string().min(1),
  message: z.string().min(1),
  force: z.boolean().default(false)
})
export type GitTagConfig = z.infer<typeof schema>

/** Creates an annotated tag at HEAD of a working tree (push it with git-push `tag`). */
export const gitTag = defineStep({
  name: 'git-tag',
  schema,
  async run(cfg, ctx): Promise<StepResult> {
    const wt = await inspectWorktree(ctx, cfg.path)
    const dir = wt.dir
    assertRefName('tag', cfg.tag, 'tag')
    const env = {
      ...commitEnv((await repoSettings(dir)).author, ctx),
      ...gnupgEnvFor(wt.commonDir)
    }
    const args = ['tag', '-a', '-F', '-']
    if (cfg.force) args.push('-f')
    args.push('--', cfg.tag)
    const res = await gitTry(args, { cwd: dir, env, input: redact(cfg.message) })
    if (res.code !== 0) {
      const exists = /already exists/.test(res.stderr)
      throw new WaybillError(
        `cannot create tag '${cfg.tag}' in ${cfg.path}: ${trimOutput(redact(res.stderr))}`,
        exists ? 'set force: true to move an existing tag' : undefined
      )
    }
    const commit = await git(['rev-parse', `refs/tags/${cfg.tag}^{commit}`], {
      cwd: dir
    })
    ctx.logger.info(`Tagged ${commit} as ${cfg.tag}`)
    return { status: 'Succeeded', outputs: { tag: cfg.tag, commit } }
  }
})
