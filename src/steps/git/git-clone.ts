import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { z } from 'zod'
import { defineStep } from '../define.js'
import {
  git,
  gitTry,
  identityEnv,
  WAYBILL_GIT_IDENTITY,
  type GitCredentials
} from '../../git/git.js'
import type { StepResult } from '../types.js'
import { confinedPath } from '../../util/paths.js'
import { ConfigFieldError, WaybillError, trimOutput } from '../../util/errors.js'
import { redact } from '../../util/logger.js'
import { assertRefName, authorSchema, resolveCommits, repoUrlSchema } from './common.js'
import { gnupgEnvFor, importSigningKey } from './signing.js'

const optionalRef = z.string().nullish()

const checkoutSchema = z
  .strictObject({
    path: z.string().min(1),
    as: z.string().optional(),
    branch: optionalRef,
    commit: optionalRef,
    tag: optionalRef,
    create: z.boolean().optional(),
    sparse: z.array(z.string().min(1)).min(1).optional()
  })
  .superRefine((c, ctx) => {
    const set = (['branch', 'commit', 'tag'] as const).filter((k) => c[k])
    if (set.length > 1)
      ctx.addIssue({
        code: 'custom',
        path: [set[1]],
        message: `'${set.join("' and '")}' are mutually exclusive`
      })
  })

const schema = z.strictObject({
  repoURL: repoUrlSchema,
  checkout: z.array(checkoutSchema).min(1),
  author: authorSchema.optional(),
  blobless: z.boolean().optional(),
  recurseSubmodules: z.boolean().optional(),
  insecureSkipTLSVerify: z.boolean().optional()
})

export type GitCloneConfig = z.infer<typeof schema>

/**
 * A commit ID as git names one: 4 to 64 hexadecimal digits (SHA-1 or SHA-256, possibly
 * abbreviated). Anything else (`--upload-pack=…`, `HEAD~1`) is refused before git sees it.
 */
export function assertCommitId(commit: string, field: string): void {
  if (!/^[0-9a-fA-F]{4,64}$/.test(commit))
    throw new ConfigFieldError(field, `'${commit}' is not a commit ID (4 to 64 hexadecimal digits)`)
}

/** Where git-clone keeps the one (bare) clone per repository that all its worktrees share. */
export function repoStoreDir(workDir: string, repoURL: string): string {
  const id = crypto.createHash('sha256').update(repoURL.trim()).digest('hex').slice(0, 16)
  return path.join(workDir, '.waybill', 'repos', `${id}.git`)
}

function sparsePaths(paths: string[], field: string): string[] {
  return paths.map((p, i) => {
    const clean = p.replace(/^\.\/+/, '').replace(/\/+$/, '')
    if (!clean || path.isAbsolute(p) || clean.split('/').some((s) => s === '..' || s === '.'))
      throw new ConfigFieldError(
        `${field}[${i}]`,
        `'${p}' must be a directory relative to the repository root`
      )
    if (/[*?[\]\\!]/.test(clean))
      throw new ConfigFieldError(`${field}[${i}]`, `'${p}': glob patterns are not supported`)
    return clean
  })
}

/** The branch HEAD of a fresh `clone --bare` names: the remote's default branch. */
function clonedDefaultBranch(repoDir: string): string | undefined {
  try {
    const head = fs.readFileSync(path.join(repoDir, 'HEAD'), 'utf8')
    return /^ref: refs\/heads\/(\S+)\s*$/.exec(head)?.[1]
  } catch {
    return undefined
  }
}

async function defaultBranch(
  repoDir: string,
  credentials?: GitCredentials
): Promise<string | undefined> {
  const res = await gitTry(['ls-remote', '--symref', 'origin', 'HEAD'], {
    cwd: repoDir,
    credentials
  })
  if (res.code !== 0)
    throw new WaybillError(`git ls-remote failed: ${trimOutput(redact(res.stderr))}`)
  const m = /^ref: refs\/heads\/(\S+)\s+HEAD$/m.exec(res.stdout)
  return m?.[1]
}

/** Removes what a previous run left at `dest` if it is one of our worktrees; refuses anything else. */
async function clearDestination(repoDir: string, dest: string, field: string): Promise<void> {
  if (!fs.existsSync(dest)) return
  const entries = fs.readdirSync(dest)
  if (entries.length === 0) {
    fs.rmdirSync(dest)
    return
  }
  const dotGit = path.join(dest, '.git')
  if (fs.existsSync(dotGit) && fs.statSync(dotGit).isFile()) {
    const target = fs.readFileSync(dotGit, 'utf8')
    if (target.includes(path.join(repoDir, 'worktrees'))) {
      await git(['worktree', 'remove', '--force', '--end-of-options', dest], { cwd: repoDir })
      return
    }
  }
  throw new ConfigFieldError(field, `'${path.basename(dest)}' already exists and is not empty`)
}

export const gitClone = defineStep({
  name: 'git-clone',
  schema,
  capabilities: ['gitCredentials'],
  async run(cfg, ctx): Promise<StepResult> {
    const repoURL = cfg.repoURL.trim()
    const credentials = ctx.caps.gitCredentials(repoURL)
    const repoDir = repoStoreDir(ctx.workDir, repoURL)
    const dests = cfg.checkout.map((c, i) =>
      confinedPath(ctx.workDir, c.path, `checkout[${i}].path`)
    )
    const seen = new Set<string>()
    dests.forEach((d, i) => {
      if (seen.has(d)) throw new ConfigFieldError(`checkout[${i}].path`, 'is used by two checkouts')
      seen.add(d)
    })

    // git processes for a fresh clone with branch checkouts: clone --bare (init, remote, config
    // and fetch in one), cat-file (every checkout's commit at once), one worktree add each.
    const fresh = !fs.existsSync(repoDir)
    const author = cfg.author ?? ctx.gitIdentity?.author ?? WAYBILL_GIT_IDENTITY
    const cannotFetch = (stderr: string) =>
      new WaybillError(
        `cannot fetch ${repoURL}: ${trimOutput(redact(stderr))}`,
        credentials
          ? 'check that the token can read this repository'
          : 'no credentials are configured for this URL'
      )
    ctx.logger.info(`Fetching ${repoURL}${cfg.blobless ? ' (blobless)' : ''}`)
    if (fresh) {
      fs.mkdirSync(path.dirname(repoDir), { recursive: true })
      // Remote branches land in refs/remotes/origin/* (as with a fetch); the clone has no
      // background maintenance: it lives as long as the promotion's working directory.
      const config = [
        'remote.origin.fetch=+refs/heads/*:refs/remotes/origin/*',
        `user.name=${author.name}`,
        `user.email=${author.email}`,
        'gc.auto=0',
        'maintenance.auto=false',
        ...(cfg.insecureSkipTLSVerify ? ['http.sslVerify=false'] : [])
      ]
      const args = ['clone', '-q', '--bare', ...config.flatMap((c) => ['-c', c])]
      if (cfg.blobless) args.push('--filter=blob:none')
      const cloned = await gitTry([...args, '--', repoURL, repoDir], { credentials })
      if (cloned.code !== 0) {
        fs.rmSync(repoDir, { recursive: true, force: true })
        throw cannotFetch(cloned.stderr)
      }
    } else {
      if (cfg.insecureSkipTLSVerify)
        await git(['config', 'http.sslVerify', 'false'], { cwd: repoDir })
      await git(['config', 'user.name', author.name], { cwd: repoDir })
      await git(['config', 'user.email', author.email], { cwd: repoDir })
      const fetchArgs = ['fetch', '-q', '--tags', '--prune', '--no-recurse-submodules']
      if (cfg.blobless) fetchArgs.push('--filter=blob:none')
      const fetched = await gitTry([...fetchArgs, 'origin'], { cwd: repoDir, credentials })
      if (fetched.code !== 0) throw cannotFetch(fetched.stderr)
      await gitTry(['worktree', 'prune'], { cwd: repoDir })
    }
    if (cfg.author?.signingKey) await importSigningKey(repoDir, cfg.author.signingKey)

    // What each checkout starts from: the ref and (looked up below, in one go) its commit.
    let defBranch: string | undefined
    const targets: Array<{ branch?: string; rev: string }> = []
    for (const [i, co] of cfg.checkout.entries()) {
      const field = `checkout[${i}]`
      if (co.commit) {
        assertCommitId(co.commit, `${field}.commit`)
        targets.push({ rev: co.commit })
      } else if (co.tag) {
        assertRefName('tag', co.tag, `${field}.tag`)
        targets.push({ rev: `refs/tags/${co.tag}` })
      } else {
        let branch = co.branch || undefined
        if (!branch) {
          if (defBranch === undefined && fresh) {
            // The clone's HEAD is the remote's; trust it when that branch came along.
            const cloned = clonedDefaultBranch(repoDir)
            if (cloned && (await resolveCommits(repoDir, [`refs/remotes/origin/${cloned}`]))[0])
              defBranch = cloned
          }
          defBranch ??= await defaultBranch(repoDir, credentials)
          if (!defBranch)
            throw new ConfigFieldError(
              `${field}.branch`,
              `${repoURL} has no default branch (it is empty); name a branch and set create: true`
            )
          branch = defBranch
        }
        assertRefName('branch', branch, `${field}.branch`)
        targets.push({ branch, rev: `refs/remotes/origin/${branch}` })
      }
    }
    const resolved = await resolveCommits(
      repoDir,
      targets.map((t) => t.rev)
    )

    const commits: Record<string, string> = {}
    for (const [i, co] of cfg.checkout.entries()) {
      const field = `checkout[${i}]`
      const dest = dests[i]
      await clearDestination(repoDir, dest, `${field}.path`)
      fs.mkdirSync(path.dirname(dest), { recursive: true })
      const sparse = co.sparse ? sparsePaths(co.sparse, `${field}.sparse`) : undefined
      const noCheckout = sparse ? ['--no-checkout'] : []
      let sha = resolved[i]
      let orphan = false

      if (co.commit) {
        if (!sha) {
          const res = await gitTry(['fetch', '-q', '--end-of-options', 'origin', co.commit], {
            cwd: repoDir,
            credentials
          })
          if (res.code === 0) sha = (await resolveCommits(repoDir, [co.commit]))[0]
          if (!sha)
            throw new ConfigFieldError(
              `${field}.commit`,
              `commit '${co.commit}' was not found in ${repoURL}`
            )
        }
        await git(
          ['worktree', 'add', '-q', ...noCheckout, '--detach', '--end-of-options', dest, sha],
          { cwd: repoDir }
        )
      } else if (co.tag) {
        if (!sha)
          throw new ConfigFieldError(`${field}.tag`, `tag '${co.tag}' was not found in ${repoURL}`)
        await git(
          ['worktree', 'add', '-q', ...noCheckout, '--detach', '--end-of-options', dest, sha],
          { cwd: repoDir }
        )
      } else {
        const branch = targets[i].branch as string
        if (sha) {
          // --track: the local branch follows origin/<branch>, as `branch --set-upstream-to` would.
          await git(
            [
              'worktree',
              'add',
              '-q',
              ...noCheckout,
              '--track',
              '-B',
              branch,
              '--end-of-options',
              dest,
              `refs/remotes/origin/${branch}`
            ],
            { cwd: repoDir }
          )
        } else if (co.create) {
          orphan = true
          await addOrphanWorktree(repoDir, dest, branch)
        } else {
          throw new ConfigFieldError(
            `${field}.branch`,
            `branch '${branch}' does not exist in ${repoURL}`,
            'set create: true to start it as a new, empty branch'
          )
        }
      }

      if (sparse && !orphan) {
        await git(['sparse-checkout', 'set', '--cone', '--', ...sparse], { cwd: dest })
        await git(['checkout', '-q'], { cwd: dest })
      }
      if (cfg.recurseSubmodules && !orphan) {
        const res = await gitTry(['submodule', 'update', '-q', '--init', '--recursive'], {
          cwd: dest,
          credentials
        })
        if (res.code !== 0)
          throw new WaybillError(
            `cannot update submodules of ${repoURL}: ${trimOutput(redact(res.stderr))}`
          )
      }
      commits[co.as || co.path] = orphan ? '' : (sha ?? '')
      ctx.logger.info(
        `Checked out ${co.commit ?? (co.tag ? `tag ${co.tag}` : `branch ${targets[i].branch}`)}` +
          `${orphan ? ' (new orphan branch)' : ''} into ${co.path}`
      )
    }
    return { status: 'Succeeded', outputs: { commits } }
  }
})

/** A worktree on a new, empty branch with no history (git < 2.42 has no `worktree add --orphan`). */
async function addOrphanWorktree(repoDir: string, dest: string, branch: string): Promise<void> {
  // Anchor the worktree on a throwaway commit of the empty tree, then switch to the orphan branch.
  const emptyTree = await git(['mktree'], { cwd: repoDir, input: '' })
  const anchor = await git(
    ['commit-tree', '--no-gpg-sign', emptyTree, '-m', 'waybill: orphan anchor'],
    {
      cwd: repoDir,
      env: { ...identityEnv(WAYBILL_GIT_IDENTITY), ...gnupgEnvFor(repoDir) }
    }
  )
  await gitTry(['branch', '-D', '--end-of-options', branch], { cwd: repoDir })
  await git(['worktree', 'add', '-q', '--detach', '--end-of-options', dest, anchor], {
    cwd: repoDir
  })
  await git(['switch', '-q', '--orphan', branch], { cwd: dest })
}
