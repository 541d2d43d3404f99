import { execFile } from 'node:child_process'
import { z } from 'zod'
import { defineStep } from '../define.js'
import { git, gitEnv, gitTry, type GitCredentials } from '../../git/git.js'
import type { StepResult } from '../types.js'
import { WaybillError } from '../../util/errors.js'
import { redact } from '../../util/logger.js'
import { sleep } from '../../util/sleep.js'
import { type GitHubRepo } from '../../integrations/repo-url.js'
import {
  createCommitViaApi,
  getBranchHead,
  githubError,
  updateBranch,
  type GitHubClient,
  type TreeChange
} from '../../integrations/github.js'
import {
  backoffDelay,
  configuredAuthor,
  fetchBranch,
  pushRetryFields,
  pushTargetFields,
  rebaseOnto,
  refinePushTarget,
  remoteOf,
  withLock,
  worktreeAt
} from './common.js'
import { pushTargetBranch, pushedRepoUrl } from './git-push.js'
import { gnupgEnv } from './signing.js'

const schema = z
  .strictObject({
    ...pushTargetFields,
    ...pushRetryFields,
    insecureSkipTLSVerify: z.boolean().default(false)
  })
  .superRefine(refinePushTarget)
export type GitHubPushConfig = z.infer<typeof schema>

/** A blob's bytes (binary-safe; runTool decodes as UTF-8). */
function readBlob(dir: string, sha: string, credentials?: GitCredentials): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      ['cat-file', 'blob', sha],
      { cwd: dir, env: gitEnv(credentials), encoding: 'buffer', maxBuffer: 1024 * 1024 * 1024 },
      (err, stdout) =>
        err
          ? reject(new WaybillError(`cannot read blob ${sha}: ${redact(err.message)}`))
          : resolve(stdout)
    )
  })
}

/** What changed between a commit and its first parent (or the empty tree), as API tree entries. */
async function changesOf(
  dir: string,
  commit: string,
  credentials?: GitCredentials
): Promise<TreeChange[]> {
  const out = await git(
    [
      'diff-tree',
      '-r',
      '-z',
      '--no-renames',
      '--root',
      '--no-commit-id',
      '-m',
      '--first-parent',
      '--end-of-options',
      commit
    ],
    {
      cwd: dir
    }
  )
  const parts = out.split('\0')
  const changes: TreeChange[] = []
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const meta = parts[i].replace(/^:/, '').split(' ')
    const file = parts[i + 1]
    const [oldMode, newMode, , newSha, status] = meta
    if (status.startsWith('D')) {
      // No content: the entry is removed (a gitlink keeps its mode so the API deletes a commit entry).
      changes.push({ path: file, mode: oldMode === '160000' ? '160000' : '100644' })
      continue
    }
    const mode = newMode as TreeChange['mode']
    if (mode === '160000') changes.push({ path: file, mode, sha: newSha })
    else changes.push({ path: file, mode, content: await readBlob(dir, newSha, credentials) })
  }
  return changes
}

async function commitMeta(dir: string, sha: string) {
  const [name, email, date, ...msg] = (
    await git(['log', '-1', '--format=%an%x00%ae%x00%aI%x00%B', '--end-of-options', sha], {
      cwd: dir
    })
  ).split('\0')
  return { author: { name, email, date }, message: msg.join('\0').replace(/\n+$/, '') }
}

/**
 * Recreates the local commits that the remote lacks through the Git Data API (blobs, trees,
 * commits), so GitHub signs them, then moves the branch with a compare-and-swap. Returns the new
 * head, or 'conflict' when the branch moved meanwhile.
 */
async function pushViaApi(
  gh: GitHubClient,
  repo: GitHubRepo,
  dir: string,
  branch: string,
  remoteHead: string | undefined,
  force: boolean,
  credentials?: GitCredentials
): Promise<{ sha: string } | 'conflict'> {
  const head = await git(['rev-parse', 'HEAD'], { cwd: dir })
  const range =
    remoteHead && !force ? [`${remoteHead}..HEAD`] : ['HEAD', '--not', '--remotes=origin']
  const list = (await git(['rev-list', '--reverse', '--first-parent', ...range], { cwd: dir }))
    .split('\n')
    .filter(Boolean)
  let tip = head
  if (list.length) {
    const parentRes = await gitTry(['rev-parse', '-q', '--verify', `${list[0]}^1`], { cwd: dir })
    let parent = parentRes.code === 0 ? parentRes.stdout.trim() : undefined
    let baseTree = parent ? await git(['rev-parse', `${parent}^{tree}`], { cwd: dir }) : undefined
    for (const c of list) {
      const meta = await commitMeta(dir, c)
      const made = await createCommitViaApi(gh, repo, {
        parent,
        baseTree,
        changes: await changesOf(dir, c, credentials),
        message: redact(meta.message),
        author: meta.author
      })
      parent = made.sha
      baseTree = made.tree
    }
    tip = parent!
  }
  if (remoteHead === tip) return { sha: tip }
  const res = await updateBranch(gh, repo, branch, tip, { create: !remoteHead, force })
  return res === 'ok' ? { sha: tip } : 'conflict'
}

/** Like git-push, but commits through the GitHub API so that the commits show as verified. */
export const githubPush = defineStep({
  name: 'github-push',
  schema,
  capabilities: ['github', 'gitCredentials'],
  async run(cfg, ctx): Promise<StepResult> {
    const dir = await worktreeAt(ctx, cfg.path)
    const { url, credentials } = await remoteOf(ctx, dir)
    const repo = ctx.caps.github.repo(url, undefined, 'path')
    const gh = ctx.caps.github.client(repo)
    const branch = await pushTargetBranch(cfg, dir, ctx)
    const force = cfg.force || !!cfg.generateTargetBranch
    const sha = await withLock(`${url}#${branch}`, async () => {
      for (let attempt = 0; ; attempt++) {
        try {
          const remoteHead = await getBranchHead(gh, repo, branch)
          if (remoteHead && !force) {
            await fetchBranch(dir, branch, credentials)
            const behind = await gitTry(
              ['merge-base', '--is-ancestor', '--end-of-options', remoteHead, 'HEAD'],
              {
                cwd: dir
              }
            )
            if (behind.code !== 0)
              await rebaseOnto(
                dir,
                `refs/remotes/origin/${branch}`,
                branch,
                url,
                await configuredAuthor(dir),
                await gnupgEnv(dir)
              )
          }
          const res = await pushViaApi(gh, repo, dir, branch, remoteHead, force, credentials)
          if (res !== 'conflict') return res.sha
        } catch (err) {
          if (err instanceof WaybillError) throw err
          throw githubError(err, `pushing to branch '${branch}' through the API`, repo)
        }
        if (attempt + 1 >= cfg.maxAttempts)
          throw new WaybillError(
            `cannot push to branch '${branch}' of ${repo.owner}/${repo.repo}: still behind after ${cfg.maxAttempts} attempts`
          )
        const delay = backoffDelay(attempt)
        ctx.logger.info(
          `Branch '${branch}' moved on GitHub; integrating and retrying in ${Math.round(delay)}ms`
        )
        await sleep(delay, ctx.signal)
        if (ctx.signal?.aborted) throw new WaybillError('aborted')
      }
    })
    // Bring the new (signed) commits into the local clone and point HEAD at them; the tree is
    // the same, so the working tree stays as it is.
    await fetchBranch(dir, branch, credentials)
    // `reset` takes no --end-of-options before a commit: the API's answer must be a commit ID.
    if (!/^[0-9a-f]{40,64}$/.test(sha))
      throw new WaybillError(`GitHub answered '${sha}' where a commit ID was expected`)
    await git(['reset', '-q', '--soft', sha], { cwd: dir })
    ctx.logger.info(
      `Pushed ${sha} to branch ${branch} of ${repo.owner}/${repo.repo} through the GitHub API`
    )
    return {
      status: 'Succeeded',
      outputs: {
        branch,
        commit: sha,
        commitURL: ctx.caps.github.commitUrl(url, sha),
        repoURL: pushedRepoUrl(url)
      }
    }
  }
})
