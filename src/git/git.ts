import { childEnv, runTool, type RunOptions } from '../util/exec.js'
import { registerSecret } from '../util/logger.js'

/**
 * Credentials for Git over HTTP(S). The token travels as an `http.<url>.extraheader` set through
 * GIT_CONFIG_* environment variables: never in a URL, an argument list or a config file.
 */
export interface GitCredentials {
  /** A token for HTTPS remotes (GitHub token, PAT). */
  token?: string
  username?: string
  /** Restrict the header to this URL prefix (e.g. https://github.com/); default: every remote. */
  urlPrefix?: string
}

export interface GitOptions extends Omit<RunOptions, 'env'> {
  credentials?: GitCredentials
  env?: NodeJS.ProcessEnv
}

/** Never prompt (no terminal in CI), ignore the machine-wide /etc/gitconfig, parseable messages. */
const GIT_SETTINGS: Readonly<Record<string, string>> = {
  GIT_TERMINAL_PROMPT: '0',
  GIT_ASKPASS: 'echo',
  GIT_CONFIG_NOSYSTEM: '1',
  LC_ALL: 'C'
}

/**
 * Config every git command of Waybill's runs with: no automatic maintenance. Git otherwise starts
 * `git maintenance run --auto` (and through it `git gc --auto`) after a commit, fetch or merge: two
 * more processes each time, and now and then a repack in the middle of a promotion, in checkouts
 * that a runner throws away.
 */
const GIT_CONFIG: ReadonlyArray<[string, string]> = [
  ['maintenance.auto', 'false'],
  ['gc.auto', '0']
]

/**
 * The whole environment of one git process: the minimal environment every child gets (childEnv:
 * no action inputs, no tokens), git's own safe settings (GIT_SETTINGS, which `extra` may
 * override), `extra`, and GIT_CONFIG and the credential header for this remote as GIT_CONFIG_*
 * pairs.
 */
export function gitEnv(credentials?: GitCredentials, extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env = childEnv(extra)
  for (const [k, v] of Object.entries(GIT_SETTINGS)) if (extra?.[k] === undefined) env[k] = v
  const pairs: Array<[string, string]> = [...GIT_CONFIG]
  if (credentials?.token) {
    registerSecret(credentials.token)
    const basic = Buffer.from(
      `${credentials.username ?? 'x-access-token'}:${credentials.token}`
    ).toString('base64')
    registerSecret(basic)
    const key = credentials.urlPrefix
      ? `http.${credentials.urlPrefix}.extraheader`
      : 'http.extraheader'
    // An empty value first resets headers set elsewhere for the same URL (actions/checkout
    // persists its own), so that exactly one Authorization header is sent.
    pairs.push([key, ''], [key, `AUTHORIZATION: basic ${basic}`])
  }
  const base = Number(extra?.GIT_CONFIG_COUNT ?? 0) || 0
  pairs.forEach(([k, v], i) => {
    env[`GIT_CONFIG_KEY_${base + i}`] = k
    env[`GIT_CONFIG_VALUE_${base + i}`] = v
  })
  env.GIT_CONFIG_COUNT = String(base + pairs.length)
  return env
}

/** A commit author or committer. */
export interface GitIdentity {
  name: string
  email: string
}

/** Who Waybill commits as when no identity is configured: state branch and step commits alike. */
export const WAYBILL_GIT_IDENTITY: Readonly<GitIdentity> = Object.freeze({
  name: 'Waybill',
  email: 'waybill@users.noreply.github.com'
})

/** Environment making `identity` git's author and committer (overrides any configured user). */
export function identityEnv(identity: GitIdentity): NodeJS.ProcessEnv {
  return {
    GIT_AUTHOR_NAME: identity.name,
    GIT_AUTHOR_EMAIL: identity.email,
    GIT_COMMITTER_NAME: identity.name,
    GIT_COMMITTER_EMAIL: identity.email
  }
}

/** How many git processes git() and gitTry() started in this process (read by tests and benches). */
export const gitStats = { spawned: 0 }

/** Runs git with an argument array and returns trimmed stdout. */
export async function git(args: readonly string[], opts: GitOptions = {}): Promise<string> {
  const { credentials, env, ...rest } = opts
  gitStats.spawned++
  const res = await runTool('git', args, { ...rest, env: gitEnv(credentials, env) })
  return res.stdout.replace(/\n$/, '')
}

/** Runs git and returns its stdout as bytes (for binary output such as `cat-file --batch`). */
async function gitBytes(args: readonly string[], opts: GitOptions = {}): Promise<Buffer> {
  const { credentials, env, ...rest } = opts
  gitStats.spawned++
  const res = await runTool('git', args, { ...rest, env: gitEnv(credentials, env) })
  return res.stdoutBytes ?? Buffer.from(res.stdout, 'utf8')
}

/** An object as `git cat-file --batch` prints it: its type and its exact bytes. */
export interface GitObject {
  type: string
  content: Buffer
}

/**
 * Reads objects (IDs, or `<commit>:<path>` names) with one `git cat-file --batch`, byte for byte,
 * keyed by the name asked for; names git cannot resolve are left out. Throws when git fails.
 */
export async function catFileBatch(
  names: readonly string[],
  opts: GitOptions = {}
): Promise<Map<string, GitObject>> {
  const objects = new Map<string, GitObject>()
  if (names.length === 0) return objects
  if (names.some((n) => /[\n\r]/.test(n)))
    throw new Error('git cat-file --batch: an object name holds a line break')
  const bytes = await gitBytes(['cat-file', '--batch'], { ...opts, input: names.join('\n') + '\n' })
  let pos = 0
  for (const name of names) {
    const eol = bytes.indexOf(0x0a, pos)
    if (eol < 0) break
    const header = /^[0-9a-f]+ (\w+) (\d+)$/.exec(bytes.subarray(pos, eol).toString('utf8'))
    pos = eol + 1
    if (!header) continue // `<name> missing` or `<name> ambiguous`: no content follows
    const size = Number(header[2])
    objects.set(name, { type: header[1], content: bytes.subarray(pos, pos + size) })
    pos += size + 1
  }
  return objects
}

/** Like git() but returns exit code and output instead of throwing. */
export async function gitTry(args: readonly string[], opts: GitOptions = {}) {
  const { credentials, env, ...rest } = opts
  gitStats.spawned++
  return runTool('git', args, { ...rest, env: gitEnv(credentials, env), allowFailure: true })
}
