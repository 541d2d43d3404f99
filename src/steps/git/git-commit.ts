import { z } from 'zod'
import { defineStep } from '../define.js'
import { git, gitTry } from '../../git/git.js'
import type { StepResult } from '../types.js'
import { WaybillError, trimOutput } from '../../util/errors.js'
import { redact } from '../../util/logger.js'
import { authorSchema, commitEnv, inspectWorktree, repoSettings } from './common.js'
import { gnupgEnvFor } from './signing.js'

const schema = z.strictObject({
  path: z.string().min(1),
  message: z.string().min(1),
  /** Deprecated in Kargo v1.10 (configure it on git-clone); still honoured. */
  author: authorSchema.optional()
})
export type GitCommitConfig = z.infer<typeof schema>

/**
 * Commits every change in the working tree. With nothing to commit it succeeds and outputs the
 * existing HEAD, so that re-running a promotion is harmless.
 *
 * git processes on the usual path: rev-parse (worktree, HEAD), config (author), add, commit,
 * rev-parse (the new commit). "Nothing to commit" is read from the commit's own failure, checked
 * with `diff --cached --quiet` only then; background maintenance is not started.
 */
export const gitCommit = defineStep({
  name: 'git-commit',
  schema,
  async run(cfg, ctx): Promise<StepResult> {
    const wt = await inspectWorktree(ctx, cfg.path)
    const dir = wt.dir
    const author = cfg.author ?? (await repoSettings(dir)).author
    await git(['add', '-A', '.'], { cwd: dir })
    const env = { ...commitEnv(author, ctx), ...gnupgEnvFor(wt.commonDir) }
    // On an unborn branch an empty commit is still made (the branch must exist to be pushed).
    const args = ['commit', '-q', '--no-verify', '-F', '-']
    if (!wt.head) args.push('--allow-empty')
    if (cfg.author?.signingKey)
      ctx.logger.warn('git-commit author.signingKey is deprecated and ignored: set it on git-clone')
    // A registered secret (token) pasted into a message is never committed.
    const res = await gitTry(args, { cwd: dir, env, input: redact(cfg.message) })
    if (res.code !== 0) {
      if (wt.head && (await gitTry(['diff', '--cached', '--quiet'], { cwd: dir })).code === 0) {
        ctx.logger.info(`Nothing to commit in ${cfg.path}; HEAD is ${wt.head}`)
        return { status: 'Succeeded', outputs: { commit: wt.head } }
      }
      throw new WaybillError(
        `git commit in ${cfg.path} failed: ${trimOutput(redact(res.stderr || res.stdout))}`
      )
    }
    const commit = await git(['rev-parse', 'HEAD'], { cwd: dir })
    ctx.logger.info(`Committed ${commit} in ${cfg.path}`)
    return { status: 'Succeeded', outputs: { commit } }
  }
})
