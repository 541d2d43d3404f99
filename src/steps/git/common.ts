import { parseDuration } from '../../util/duration.js'
import fs from 'node:fs'
import { z } from 'zod'
import { gitTry, identityEnv, WAYBILL_GIT_IDENTITY, type GitCredentials } from '../../git/git.js'
import type { StepContext } from '../types.js'
import { confinedPath } from '../../util/paths.js'
import { WaybillError, trimOutput } from '../../util/errors.js'
import { redact } from '../../util/logger.js'
import { GIT_PROVIDERS } from '../../integrations/repo-url.js'

/** Kargo's providers; Waybill talks to GitHub only so far, so the others are refused by name. */
export const providerSchema = z.enum(GIT_PROVIDERS).superRefine((provider, ctx) => {
  if (provider !== 'github')
    ctx.addIssue({
      code: 'custom',
      message: `provider ${provider} is not supported yet: Waybill works with GitHub only`
    })
})

export const authorSchema = z.strictObject({
  name: z.string().min(1),
  email: z.email(),
  signingKey: z.string().optional()
})
export type Author = z.infer<typeof authorSchema>

/** Go duration as Kargo's schemas accept it (`30s`, `1m30s`, `500ms`). */
export const durationSchema = z
  .string()
  .regex(/^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$/, 'must be a duration such as 30s or 1m')

/** A validated duration (see durationSchema) in whole milliseconds. */
export function durationMs(d: string): number {
  return Math.round(parseDuration(d))
}

/** A repository URL: https, http, ssh, SCP-style or file://. */
export const repoUrlSchema = z
  .string()
  .min(1)
  .refine((u) => !/\s/.test(u.trim()) && u.trim() !== '', 'must be a repository URL')

/** A working tree as the git steps see it, read with one `git rev-parse`. */
export interface Worktree {
  /** Absolute path of the directory named by the step's `path`. */
  dir: string
  /** Absolute path of the repository's common directory (the shared clone for git-clone's). */
  commonDir: string
  /** HEAD's commit; undefined on an unborn branch. */
  head?: string
  /** The checked-out branch; undefined when HEAD is detached. */
  branch?: string
}

/**
 * The worktree at a config path: must exist and be a Git working tree. One git process answers
 * "is it a worktree", where its repository lives, HEAD's commit and branch; an unborn branch
 * (a new orphan) costs a second one.
 */
export async function inspectWorktree(
  ctx: StepContext,
  rel: string,
  field = 'path'
): Promise<Worktree> {
  const dir = confinedPath(ctx.workDir, rel, field)
  if (!fs.existsSync(dir)) {
    throw new WaybillError(
      `${field}: '${rel}' does not exist`,
      'clone the repository into it with a git-clone step first'
    )
  }
  const where = ['--show-toplevel', '--path-format=absolute', '--git-common-dir']
  const res = await gitTry(['rev-parse', ...where, 'HEAD', '--symbolic-full-name', 'HEAD', '--'], {
    cwd: dir
  })
  const lines = res.stdout.split('\n')
  if (res.code === 0 && lines.length >= 4) {
    const ref = lines[3].trim()
    return {
      dir,
      commonDir: lines[1].trim(),
      head: lines[2].trim(),
      branch: ref.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : undefined
    }
  }
  // Not a worktree, or HEAD is unborn: ask again without HEAD.
  const again = await gitTry(['rev-parse', ...where], { cwd: dir })
  if (again.code !== 0) {
    throw new WaybillError(
      `${field}: '${rel}' is not a Git working tree`,
      'use a git-clone checkout path'
    )
  }
  const sym = await gitTry(['symbolic-ref', '-q', 'HEAD'], { cwd: dir })
  const ref = sym.code === 0 ? sym.stdout.trim() : ''
  return {
    dir,
    commonDir: again.stdout.split('\n')[1].trim(),
    branch: ref.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : undefined
  }
}

/** The worktree at a config path: must exist and be a Git working tree. */
export async function worktreeAt(ctx: StepContext, rel: string, field = 'path'): Promise<string> {
  return (await inspectWorktree(ctx, rel, field)).dir
}

/** Repository settings the git steps read, fetched with one `git config --get-regexp`. */
export interface RepoSettings {
  /** The author configured by git-clone (repository config only), or the default. */
  author: { name: string; email: string }
  /** remote.origin.url, if any. */
  originUrl?: string
}

export async function repoSettings(dir: string): Promise<RepoSettings> {
  const res = await gitTry(
    ['config', '--local', '-z', '--get-regexp', '^(user\\.(name|email)|remote\\.origin\\.url)$'],
    { cwd: dir }
  )
  const values = new Map<string, string>()
  if (res.code === 0) {
    // -z: "key\nvalue\0" per entry.
    for (const entry of res.stdout.split('\0')) {
      const nl = entry.indexOf('\n')
      if (nl > 0) values.set(entry.slice(0, nl).toLowerCase(), entry.slice(nl + 1))
    }
  }
  const name = values.get('user.name')?.trim() ?? ''
  const email = values.get('user.email')?.trim() ?? ''
  return {
    author: name && email ? { name, email } : WAYBILL_GIT_IDENTITY,
    originUrl: values.get('remote.origin.url') || undefined
  }
}

/** The origin URL of a worktree and the credentials for it. */
export async function remoteOf(
  ctx: StepContext<'gitCredentials'>,
  dir: string,
  settings?: RepoSettings
): Promise<{ url: string; credentials?: GitCredentials }> {
  const url = (settings ?? (await repoSettings(dir))).originUrl
  if (!url) throw new WaybillError(`the repository at ${dir} has no 'origin' remote`)
  return { url, credentials: ctx.caps.gitCredentials(url) }
}

/** The branch checked out in a worktree, or undefined when HEAD is detached. */
export async function currentBranch(dir: string): Promise<string | undefined> {
  const res = await gitTry(['symbolic-ref', '-q', '--short', 'HEAD'], { cwd: dir })
  return res.code === 0 ? res.stdout.trim() || undefined : undefined
}

export async function headCommit(dir: string): Promise<string | undefined> {
  const res = await gitTry(['rev-parse', '-q', '--verify', 'HEAD^{commit}'], { cwd: dir })
  return res.code === 0 ? res.stdout.trim() : undefined
}

/** The author configured for a repository by git-clone (repository config only), or the default. */
export async function configuredAuthor(dir: string): Promise<{ name: string; email: string }> {
  return (await repoSettings(dir)).author
}

/**
 * Resolves revisions to commit IDs with one `git cat-file --batch-check`; a revision that does
 * not name a commit (missing, ambiguous, not a commit) maps to undefined.
 */
export async function resolveCommits(
  repoDir: string,
  revs: readonly string[]
): Promise<Array<string | undefined>> {
  // One revision per line: anything with whitespace cannot be a revision we look up.
  const ask = revs.map((r) => (/\s/.test(r) ? '' : r))
  const queried = ask.filter(Boolean)
  if (!queried.length) return revs.map(() => undefined)
  const res = await gitTry(['cat-file', '--batch-check=%(objectname) %(objecttype)'], {
    cwd: repoDir,
    input: queried.map((r) => `${r}^{commit}\n`).join('')
  })
  const answers = res.stdout.split('\n')
  let next = 0
  return ask.map((r) => {
    if (!r) return undefined
    const m = /^([0-9a-f]{40,64}) commit$/.exec(answers[next++] ?? '')
    return m?.[1]
  })
}

/** identityEnv(author), with the run's committer (input `committer`) when one is configured. */
export function commitEnv(
  author: { name: string; email: string },
  ctx: Pick<StepContext, 'gitIdentity'>
): NodeJS.ProcessEnv {
  const committer = ctx.gitIdentity?.committer
  return {
    ...identityEnv(author),
    ...(committer
      ? { GIT_COMMITTER_NAME: committer.name, GIT_COMMITTER_EMAIL: committer.email }
      : {})
  }
}

/** The branch name git-push/github-push generate for a promotion. */
export function generatedBranch(promotion: string): string {
  return `waybill/promotion/${promotion}`
}

/**
 * git's refname rules (`git check-ref-format`, refs.c check_refname_format) for a full refname:
 * no empty component, none starting with '.' or ending with '.lock', no '..', '@{', control
 * characters, space, ~ ^ : ? * [ \\, not ending with '.' or '/', not '@'.
 */
export function isValidRefName(full: string): boolean {
  if (full === '@' || full.endsWith('.') || full.includes('..') || full.includes('@{')) return false
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(full)) return false
  return full.split('/').every((c) => c.length > 0 && !c.startsWith('.') && !c.endsWith('.lock'))
}

/** Checks a branch or tag name with git's own rules (without starting a git process). */
export function assertRefName(kind: 'branch' | 'tag', name: string, field: string): void {
  const full = `refs/${kind === 'branch' ? 'heads' : 'tags'}/${name}`
  if (!isValidRefName(full) || name.startsWith('-')) {
    throw new WaybillError(`${field}: '${name}' is not a valid ${kind} name`)
  }
}

// ---------- push serialization and backoff ----------

const locks = new Map<string, Promise<void>>()

/** Runs fn while holding an in-process lock for `key` (repository + branch). */
export async function withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const prev = locks.get(key) ?? Promise.resolve()
  let release!: () => void
  const mine = new Promise<void>((r) => (release = r))
  const chained = prev.then(() => mine)
  locks.set(key, chained)
  await prev
  try {
    return await fn()
  } finally {
    release()
    if (locks.get(key) === chained) locks.delete(key)
  }
}

/** Push retry timing (Kargo's: 1s × 1.5 per attempt, ±50% jitter, 30s cap). Tests may lower baseMs. */
export const pushBackoff = { baseMs: 1000, factor: 1.5, jitter: 0.5, capMs: 30_000 }

export function backoffDelay(attempt: number): number {
  const d = pushBackoff.baseMs * Math.pow(pushBackoff.factor, attempt)
  const jittered = d + d * pushBackoff.jitter * Math.random()
  return Math.min(jittered, pushBackoff.capMs)
}

/**
 * Integrates the remote branch into the worktree by rebasing (Kargo's AlwaysRebase). On conflicts
 * the rebase is aborted and a clear error names the files.
 */
export async function rebaseOnto(
  dir: string,
  remoteRef: string,
  branch: string,
  repoURL: string,
  author: { name: string; email: string },
  extraEnv: NodeJS.ProcessEnv = {}
): Promise<void> {
  const res = await gitTry(['rebase', '--end-of-options', remoteRef], {
    cwd: dir,
    // Rebased commits keep their authors; only the committer is ours.
    env: { GIT_COMMITTER_NAME: author.name, GIT_COMMITTER_EMAIL: author.email, ...extraEnv }
  })
  if (res.code === 0) return
  const conflicts = await gitTry(['diff', '--name-only', '--diff-filter=U'], { cwd: dir })
  await gitTry(['rebase', '--abort'], { cwd: dir })
  const files = conflicts.stdout.trim().split('\n').filter(Boolean)
  throw new WaybillError(
    `cannot push to branch '${branch}' of ${repoURL}: the remote branch moved and rebasing onto it ` +
      `conflicts${files.length ? ` in ${files.join(', ')}` : ''}`,
    'another change touched the same lines; re-run the promotion so it starts from the new remote state'
  )
}

/** Fetches `branch` of origin into refs/remotes/origin/<branch>; false when it does not exist. */
export async function fetchBranch(
  dir: string,
  branch: string,
  credentials?: GitCredentials
): Promise<boolean> {
  const res = await gitTry(
    [
      'fetch',
      '--no-tags',
      '--end-of-options',
      'origin',
      `+refs/heads/${branch}:refs/remotes/origin/${branch}`
    ],
    { cwd: dir, credentials }
  )
  if (res.code === 0) return true
  if (/couldn't find remote ref|no such ref|not our ref/i.test(res.stderr)) return false
  throw new WaybillError(
    `git fetch of branch '${branch}' failed: ${trimOutput(redact(res.stderr))}`
  )
}

/** Where git-push and github-push push: the working tree, and the branch (named or generated). */
export const pushTargetFields = {
  path: z.string().min(1),
  targetBranch: z.string().nullish(),
  generateTargetBranch: z.boolean().nullish()
}

/** How git-push and github-push retry a push the remote refused (Kargo's defaults). */
export const pushRetryFields = {
  force: z.boolean().default(false),
  maxAttempts: z.number().int().min(1).max(2147483647).default(10)
}

/** A push names its branch or has one generated, not both (git-push and github-push). */
export function refinePushTarget(
  c: { targetBranch?: string | null; generateTargetBranch?: boolean | null },
  ctx: z.RefinementCtx
): void {
  if (c.generateTargetBranch && c.targetBranch)
    ctx.addIssue({
      code: 'custom',
      path: ['targetBranch'],
      message: "is mutually exclusive with 'generateTargetBranch'"
    })
}
