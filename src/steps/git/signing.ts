import fs from 'node:fs'
import path from 'node:path'
import { git, gitTry } from '../../git/git.js'
import { runTool } from '../../util/exec.js'
import { WaybillError } from '../../util/errors.js'
import { registerSecret } from '../../util/logger.js'

/** GnuPG home that git-clone creates inside the shared (bare) clone when author.signingKey is set. */
const GNUPG_DIR = 'waybill-gnupg'

/**
 * Imports an ASCII-armored private key (author.signingKey) into a GnuPG home private to this
 * clone and configures the repository to sign commits and tags with it.
 */
export async function importSigningKey(repoDir: string, armoredKey: string): Promise<void> {
  registerSecret(armoredKey)
  const home = path.join(repoDir, GNUPG_DIR)
  fs.mkdirSync(home, { recursive: true, mode: 0o700 })
  const env = { ...process.env, GNUPGHOME: home }
  const imported = await runTool('gpg', ['--batch', '--yes', '--import'], {
    env,
    input: armoredKey,
    allowFailure: true
  })
  if (imported.code !== 0) {
    throw new WaybillError(
      'author.signingKey: gpg could not import the key',
      'give an ASCII-armored private key without a passphrase'
    )
  }
  const listed = await runTool('gpg', ['--batch', '--with-colons', '--list-secret-keys'], { env })
  const fpr = /^fpr:+([0-9A-F]+):/m.exec(listed.stdout)?.[1]
  if (!fpr) throw new WaybillError('author.signingKey: the key holds no secret key')
  await git(['config', 'user.signingkey', fpr], { cwd: repoDir })
  await git(['config', 'commit.gpgsign', 'true'], { cwd: repoDir })
  await git(['config', 'tag.gpgsign', 'true'], { cwd: repoDir })
}

/** GNUPGHOME for git commands in a worktree (or clone) whose clone has an imported signing key. */
export async function gnupgEnv(dir: string): Promise<NodeJS.ProcessEnv> {
  const res = await gitTry(['rev-parse', '--path-format=absolute', '--git-common-dir'], {
    cwd: dir
  })
  if (res.code !== 0) return {}
  return gnupgEnvFor(res.stdout.trim())
}

/** GNUPGHOME for a repository whose common directory is known (no git process). */
export function gnupgEnvFor(commonDir: string): NodeJS.ProcessEnv {
  const home = path.join(commonDir, GNUPG_DIR)
  return fs.existsSync(home) ? { GNUPGHOME: home } : {}
}
