import { z } from 'zod'
import { defineStep } from '../define.js'
import { git, gitTry } from '../../git/git.js'
import type { StepContext, StepResult } from '../types.js'
import { WaybillError, trimOutput } from '../../util/errors.js'
import { redact } from '../../util/logger.js'
import { sleep } from '../../util/sleep.js'
import {
  assertRefName,
  backoffDelay,
  currentBranch,
  fetchBranch,
  generatedBranch,
  inspectWorktree,
  providerSchema,
  pushRetryFields,
  pushTargetFields,
  rebaseOnto,
  refinePushTarget,
  remoteOf,
  repoSettings,
  withLock,
  type Worktree
} from './common.js'
import { gnupgEnvFor } from './signing.js'

const schema = z
  .strictObject({
    ...pushTargetFields,
    tag: z.string().nullish(),
    ...pushRetryFields,
    provider: providerSchema.optional()
  })
  .superRefine((c, ctx) => {
    refinePushTarget(c, ctx)
    if (c.generateTargetBranch && c.tag)
      ctx.addIssue({
        code: 'custom',
        path: ['tag'],
        message: "is mutually exclusive with 'generateTargetBranch'"
      })
    if (c.targetBranch && c.tag)
      ctx.addIssue({
        code: 'custom',
        path: ['tag'],
        message: "is mutually exclusive with 'targetBranch'"
      })
    if (c.tag && c.force)
      ctx.addIssue({
        code: 'custom',
        path: ['force'],
        message: "cannot be used when pushing a 'tag'"
      })
  })
export type GitPushConfig = z.infer<typeof schema>

/**
 * The branch a push targets: generated, explicit, or the one checked out (`current`, when the
 * caller already knows it; otherwise it is looked up in `dir`).
 */
export async function pushTargetBranch(
  cfg: { targetBranch?: string | null; generateTargetBranch?: boolean | null },
  dir: string,
  ctx: StepContext,
  current?: Pick<Worktree, 'branch'>
): Promise<string> {
  if (cfg.generateTargetBranch) return generatedBranch(ctx.promotion)
  if (cfg.targetBranch) {
    assertRefName('branch', cfg.targetBranch, 'targetBranch')
    return cfg.targetBranch
  }
  const branch = current ? current.branch : await currentBranch(dir)
  if (!branch)
    throw new WaybillError(
      'git-push: HEAD is detached, so there is no current branch to push to',
      "set 'targetBranch' or 'generateTargetBranch: true'"
    )
  return branch
}

/** A remote URL fit to record: http(s) user info (a token, a password) dropped. */
export function pushedRepoUrl(url: string): string {
  return redact(url.replace(/^(https?:\/\/)[^/@]*@/i, '$1'))
}

const RETRYABLE =
  /\[rejected\]\s+\((non-fast-forward|fetch first|stale info)\)|cannot lock ref|failed to update ref/

/**
 * Pushes a working tree's HEAD to a branch (or a tag), retrying non-fast-forward rejections after
 * rebasing onto the remote branch, with Kargo's backoff. Pushes to one repository+branch are
 * serialized within the process.
 */
export const gitPush = defineStep({
  name: 'git-push',
  schema,
  capabilities: ['gitCredentials', 'gitHosts'],
  async run(cfg, ctx): Promise<StepResult> {
    // git processes on the usual path: rev-parse (worktree, HEAD, branch), config (origin), push.
    const wt = await inspectWorktree(ctx, cfg.path)
    const dir = wt.dir
    const settings = await repoSettings(dir)
    const { url, credentials } = await remoteOf(ctx, dir, settings)

    if (cfg.tag) {
      assertRefName('tag', cfg.tag, 'tag')
      const res = await gitTry(
        [
          'push',
          '--porcelain',
          '--end-of-options',
          'origin',
          `refs/tags/${cfg.tag}:refs/tags/${cfg.tag}`
        ],
        {
          cwd: dir,
          credentials
        }
      )
      if (res.code !== 0) {
        throw new WaybillError(
          `cannot push tag '${cfg.tag}' to ${url}: ${trimOutput(redact(res.stderr + res.stdout))}`,
          /already exists|\[rejected\]/.test(res.stdout + res.stderr)
            ? 'the tag already exists on the remote'
            : undefined
        )
      }
      const commit = await git(['rev-parse', `refs/tags/${cfg.tag}^{commit}`], {
        cwd: dir
      })
      ctx.logger.info(`Pushed tag ${cfg.tag} (${commit}) to ${url}`)
      return {
        status: 'Succeeded',
        outputs: {
          tag: cfg.tag,
          commit,
          commitURL: ctx.caps.gitHosts.commitUrl(url, commit, cfg.provider)
        }
      }
    }

    const branch = await pushTargetBranch(cfg, dir, ctx, wt)
    // Kargo force-pushes generated branches: they belong to one promotion.
    const force = cfg.force || !!cfg.generateTargetBranch
    const commit = await withLock(`${url}#${branch}`, async () => {
      // HEAD as inspected; re-read after a rebase moved it.
      let head = wt.head
      for (let attempt = 0; ; attempt++) {
        const spec = `${force ? '+' : ''}HEAD:refs/heads/${branch}`
        const res = await gitTry(['push', '--porcelain', '--end-of-options', 'origin', spec], {
          cwd: dir,
          credentials
        })
        if (res.code === 0) return head ?? git(['rev-parse', 'HEAD'], { cwd: dir })
        const out = `${res.stdout}\n${res.stderr}`
        if (!RETRYABLE.test(out) || force)
          throw new WaybillError(
            `cannot push to branch '${branch}' of ${url}: ${trimOutput(redact(res.stderr || res.stdout))}`
          )
        if (attempt + 1 >= cfg.maxAttempts)
          throw new WaybillError(
            `cannot push to branch '${branch}' of ${url}: still behind the remote after ${cfg.maxAttempts} attempts`,
            'the branch is changing quickly; raise maxAttempts or retry the promotion'
          )
        const delay = backoffDelay(attempt)
        ctx.logger.info(
          `Branch '${branch}' moved on the remote; rebasing and retrying in ${Math.round(delay)}ms`
        )
        await sleep(delay, ctx.signal)
        if (ctx.signal?.aborted) throw new WaybillError('aborted')
        if (await fetchBranch(dir, branch, credentials)) {
          await rebaseOnto(
            dir,
            `refs/remotes/origin/${branch}`,
            branch,
            url,
            settings.author,
            gnupgEnvFor(wt.commonDir)
          )
          head = undefined
        }
      }
    })
    ctx.logger.info(`Pushed ${commit} to branch ${branch} of ${url}`)
    return {
      status: 'Succeeded',
      outputs: {
        branch,
        commit,
        commitURL: ctx.caps.gitHosts.commitUrl(url, commit, cfg.provider),
        // Where the commit went, so that drift (the branch moved since) can be checked later.
        repoURL: pushedRepoUrl(url)
      }
    }
  }
})
