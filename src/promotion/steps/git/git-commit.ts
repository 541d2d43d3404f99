import { z } from 'zod'
import { git, gitTry } from '../../../git/git.js'
import type { StepContext, StepDefinition, StepResult } from '../../types.js'
import { parseOrThrow } from '../../../util/zod.js'
import { WaybillError, trimOutput } from '../../../util/errors.js'
import { redact } from '../../../util/logger.js'
import { authorSchema, configuredAuthor, headCommit, identityEnv, worktreeAt } from './common.js'
import { gnupgEnv } from './signing.js'

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
 */
export const gitCommit: StepDefinition<GitCommitConfig> = {
  name: 'git-commit',
  parse: (config) => parseOrThrow(schema, config, 'config'),
  async run(cfg, ctx: StepContext): Promise<StepResult> {
    const dir = await worktreeAt(ctx, cfg.path)
    await git(['add', '-A', '.'], { cwd: dir })
    const diff = await gitTry(['diff', '--cached', '--quiet'], { cwd: dir })
    const head = await headCommit(dir)
    if (diff.code === 0 && head) {
      ctx.logger.info(`Nothing to commit in ${cfg.path}; HEAD is ${head}`)
      return { status: 'Succeeded', outputs: { commit: head } }
    }
    const author = cfg.author ?? (await configuredAuthor(dir))
    const env = { ...identityEnv(author), ...(await gnupgEnv(dir)) }
    const args = ['commit', '-q', '--allow-empty', '--no-verify', '-F', '-']
    if (cfg.author?.signingKey)
      ctx.logger.warn('git-commit author.signingKey is deprecated and ignored: set it on git-clone')
    // A registered secret (token) pasted into a message is never committed.
    const res = await gitTry(args, { cwd: dir, env, input: redact(cfg.message) })
    if (res.code !== 0)
      throw new WaybillError(
        `git commit in ${cfg.path} failed: ${trimOutput(redact(res.stderr || res.stdout))}`
      )
    const commit = await git(['rev-parse', 'HEAD'], { cwd: dir })
    ctx.logger.info(`Committed ${commit} in ${cfg.path}`)
    return { status: 'Succeeded', outputs: { commit } }
  }
}
