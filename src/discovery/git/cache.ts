import { createHash } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { git, gitTry, type GitCredentials } from '../../git/git.js'
import { isObjectId } from '../../git/ref-names.js'
import { OutputLimitError } from '../../util/exec.js'
import { ToolError, WaybillError, trimOutput } from '../../util/errors.js'
import { redact, type Logger } from '../../util/logger.js'
import { sleep } from '../../util/sleep.js'
import { gitRepoKey } from './url.js'

/** Counters for tests and benchmarks: what discovery cost in Git operations. */
export interface GitDiscoveryStats {
  lsRemote: number
  /** Bare repositories created (one per normalized URL per run). */
  clones: number
  fetches: number
  /** Clones that borrowed objects from the workflow's own checkout. */
  workspaceReuse: number
}

export function emptyGitStats(): GitDiscoveryStats {
  return { lsRemote: 0, clones: 0, fetches: 0, workspaceReuse: 0 }
}

export interface GitRemoteAccess {
  url: string
  credentials?: GitCredentials
  insecureSkipTLSVerify?: boolean
}

export interface GitCloneCacheOptions {
  /** Where bare clones live; default a fresh temp directory, removed by dispose(). */
  dir?: string
  /** The workflow's checkout (GITHUB_WORKSPACE) whose objects may be borrowed. */
  workspace?: string
  logger?: Logger
  /** Network budget of ls-remote and fetch (tests shorten it). */
  network?: Partial<GitNetworkOptions>
}

export interface GitNetworkOptions {
  /** Retries after the first attempt on transient failures (resets, 429/5xx, stalls); default 3. */
  retries: number
  /** Base backoff in ms, doubled per retry (default 1000). */
  retryBaseMs: number
  /** A transfer slower than 1 KB/s for this long is aborted (default 60 s); a silent server never hangs a run. */
  lowSpeedTimeSec: number
  /** Cap on one ls-remote's output (default LS_REMOTE_MAX_BYTES). */
  lsRemoteMaxBytes: number
}

const MiB = 1024 * 1024
/**
 * Cap on one `git ls-remote` output: about 800,000 refs at 80 bytes a line. A server that streams
 * refs without end would otherwise be read into memory until the process dies.
 */
export const LS_REMOTE_MAX_BYTES = 64 * MiB

/** Failures worth another try: the server or the network, not auth, a missing repository or a bad ref. */
const TRANSIENT =
  /returned error: (429|5\d\d)|HTTP (429|5\d\d)|Connection reset|Empty reply|Operation too slow|timed out|early EOF|unexpected disconnect|transfer closed|RPC failed|Recv failure|remote end hung up|Failed to connect|Couldn't connect|invalid (packet|server response)|protocol error|bad pack header|fetch-pack: invalid index-pack output/i

/**
 * Blobless bare clones kept for one run, keyed by normalized URL: several subscriptions and
 * warehouses on one repository clone it once and fetch only refs whose commits are missing.
 * Only the refs a subscription asks for are fetched, so the state branch, stage branches and
 * promotion branches never enter the cache.
 */
export class GitCloneCache {
  readonly stats: GitDiscoveryStats = emptyGitStats()
  readonly dir: string
  private readonly owned: boolean
  private readonly workspace?: string
  private readonly logger?: Logger
  private readonly repos = new Map<string, Promise<string>>()
  private readonly locks = new Map<string, Promise<unknown>>()
  private workspaceOrigin?: Promise<string | undefined>
  private readonly network: GitNetworkOptions

  constructor(opts: GitCloneCacheOptions = {}) {
    this.network = {
      retries: 3,
      retryBaseMs: 1000,
      lowSpeedTimeSec: 60,
      lsRemoteMaxBytes: LS_REMOTE_MAX_BYTES,
      ...opts.network
    }
    this.owned = !opts.dir
    this.dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'waybill-git-'))
    this.workspace = opts.workspace ?? process.env.GITHUB_WORKSPACE
    this.logger = opts.logger
  }

  /** Removes the cache directory when this cache created it. */
  async dispose(): Promise<void> {
    if (this.owned) await fs.promises.rm(this.dir, { recursive: true, force: true })
  }

  /** `git ls-remote` against the remote; returns ref → object ID plus the HEAD symref target. */
  async lsRemote(
    remote: GitRemoteAccess,
    patterns: string[],
    opts: { symref?: boolean; stats?: GitDiscoveryStats } = {}
  ): Promise<{ refs: Map<string, string>; head?: string }> {
    this.count('lsRemote', opts.stats)
    const args = [...tlsArgs(remote), ...this.speedArgs(), 'ls-remote']
    if (opts.symref) args.push('--symref')
    args.push('--', remote.url, ...patterns)
    const out = await this.networkGit(args, remote, 'ls-remote', this.network.lsRemoteMaxBytes)
    const refs = new Map<string, string>()
    let head: string | undefined
    for (const line of out.split('\n')) {
      if (!line) continue
      const sym = /^ref: (\S+)\tHEAD$/.exec(line)
      if (sym) {
        head = sym[1]
        continue
      }
      const [id, name] = line.split('\t')
      if (!id || !name) continue
      if (!isObjectId(id))
        throw new WaybillError(
          `git ls-remote ${redact(remote.url)} returned a malformed object ID for ${JSON.stringify(name.slice(0, 200))}`,
          'the Git server is misbehaving; check repoURL'
        )
      refs.set(name, id)
    }
    return { refs, head }
  }

  /**
   * Makes sure every local ref in `expected` points at the given object ID (the values
   * `ls-remote` reported), fetching `refspecs` (blobless) otherwise. Refs are compared rather than
   * objects looked up, so a partial clone never lazily fetches behind our back. Returns the bare
   * repository's path.
   */
  async ensure(
    remote: GitRemoteAccess,
    refspecs: string[],
    expected: Map<string, string>,
    stats?: GitDiscoveryStats
  ): Promise<string> {
    const key = gitRepoKey(remote.url)
    return this.serialize(key, async () => {
      const dir = await this.repo(key, remote, stats)
      if (expected.size && (await this.refsMatch(dir, expected))) return dir
      this.count('fetches', stats)
      await this.networkGit(
        [
          ...tlsArgs(remote),
          ...this.speedArgs(),
          '-C',
          dir,
          'fetch',
          '--quiet',
          '--no-tags',
          '--no-write-fetch-head',
          '--filter=blob:none',
          '--force',
          '--end-of-options',
          'origin',
          ...refspecs
        ],
        remote,
        'fetch'
      )
      return dir
    })
  }

  private speedArgs(): string[] {
    return [
      '-c',
      'http.lowSpeedLimit=1000',
      '-c',
      `http.lowSpeedTime=${this.network.lowSpeedTimeSec}`
    ]
  }

  /** A network git command, retried with backoff on transient failures; the final error names the host. */
  private async networkGit(
    args: string[],
    remote: GitRemoteAccess,
    what: string,
    maxOutputBytes?: number
  ): Promise<string> {
    const { retries, retryBaseMs } = this.network
    for (let attempt = 0; ; attempt++) {
      try {
        return await git(args, { credentials: remote.credentials, maxOutputBytes })
      } catch (err) {
        if (err instanceof OutputLimitError)
          throw new WaybillError(
            `git ${what} ${redact(remote.url)} (host ${hostOf(remote.url)}) printed more than ${sizeText(err.limitBytes)}, Waybill's cap on it; discovery stopped there rather than read on`,
            'the repository advertises an unusual number of refs; subscribe to a repository with fewer refs or check that the server is not misbehaving'
          )
        const stderr = err instanceof ToolError ? err.stderr : String(err)
        const transient = TRANSIENT.test(stderr)
        if (transient && attempt < retries) {
          const wait = Math.round(retryBaseMs * 2 ** attempt * (0.75 + Math.random() * 0.5))
          this.logger?.debug(
            `git discovery: git ${what} ${redact(remote.url)} failed (${trimOutput(redact(stderr), 200)}); retrying in ${wait} ms`
          )
          await sleep(wait)
          continue
        }
        const host = hostOf(remote.url)
        throw new WaybillError(
          `git ${what} ${redact(remote.url)} (host ${host}) failed${transient ? ` after ${attempt + 1} attempts` : ''}: ${trimOutput(redact(stderr), 500)}`,
          transient
            ? `the Git server ${host} or the network has a problem; retry later`
            : 'check repoURL and that the token may read the repository'
        )
      }
    }
  }

  private async refsMatch(dir: string, expected: Map<string, string>): Promise<boolean> {
    const out = await git(['-C', dir, 'for-each-ref', '--format=%(objectname) %(refname)'])
    const local = new Map<string, string>()
    for (const line of out.split('\n')) {
      const i = line.indexOf(' ')
      if (i > 0) local.set(line.slice(i + 1), line.slice(0, i))
    }
    for (const [ref, id] of expected) if (local.get(ref) !== id) return false
    return true
  }

  private serialize<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(key) ?? Promise.resolve()
    const next = prev.then(fn, fn)
    this.locks.set(
      key,
      next.catch(() => undefined)
    )
    return next
  }

  private count(what: keyof GitDiscoveryStats, extra?: GitDiscoveryStats): void {
    this.stats[what]++
    if (extra && extra !== this.stats) extra[what]++
  }

  private repo(key: string, remote: GitRemoteAccess, stats?: GitDiscoveryStats): Promise<string> {
    let p = this.repos.get(key)
    if (!p) {
      p = this.createRepo(key, remote, stats)
      this.repos.set(key, p)
      p.catch(() => this.repos.delete(key))
    }
    return p
  }

  private async createRepo(
    key: string,
    remote: GitRemoteAccess,
    stats?: GitDiscoveryStats
  ): Promise<string> {
    const dir = path.join(
      this.dir,
      createHash('sha1').update(key).digest('hex').slice(0, 16) + '.git'
    )
    await fs.promises.rm(dir, { recursive: true, force: true })
    await git(['init', '--quiet', '--bare', dir])
    await git(['-C', dir, 'remote', 'add', '--', 'origin', remote.url])
    // A partial clone: blobs are fetched lazily if ever needed (path filters only need trees).
    await git(['-C', dir, 'config', 'remote.origin.promisor', 'true'])
    await git(['-C', dir, 'config', 'remote.origin.partialclonefilter', 'blob:none'])
    await git(['-C', dir, 'config', 'core.quotePath', 'false'])
    this.count('clones', stats)
    const borrowed = await this.borrowWorkspaceObjects(key, dir)
    if (borrowed) this.count('workspaceReuse', stats)
    this.logger?.debug(
      `git discovery: new blobless clone of ${remote.url}${borrowed ? ' (objects borrowed from the workspace checkout)' : ''}`
    )
    return dir
  }

  /**
   * When the subscribed repository is the one the workflow checked out, point the clone's
   * alternates at the checkout's object store (what `git clone --reference` does), so only
   * missing history crosses the network. Skipped for shallow checkouts, whose refs would tell the
   * server we hold history we do not have.
   */
  private async borrowWorkspaceObjects(key: string, dir: string): Promise<boolean> {
    if (!this.workspace) return false
    this.workspaceOrigin ??= (async () => {
      const ws = this.workspace!
      const origin = await gitTry(['-C', ws, 'remote', 'get-url', 'origin'])
      if (origin.code !== 0) return undefined
      const shallow = await gitTry(['-C', ws, 'rev-parse', '--is-shallow-repository'])
      if (shallow.code !== 0 || shallow.stdout.trim() !== 'false') return undefined
      return gitRepoKey(origin.stdout.trim())
    })()
    if ((await this.workspaceOrigin) !== key) return false
    const objects = await gitTry([
      '-C',
      this.workspace,
      'rev-parse',
      '--path-format=absolute',
      '--git-path',
      'objects'
    ])
    if (objects.code !== 0) return false
    const objDir = objects.stdout.trim()
    if (!fs.existsSync(objDir)) return false
    await fs.promises.mkdir(path.join(dir, 'objects', 'info'), { recursive: true })
    await fs.promises.writeFile(path.join(dir, 'objects', 'info', 'alternates'), objDir + '\n')
    return true
  }
}

function sizeText(bytes: number): string {
  return bytes >= MiB ? `${Math.round(bytes / MiB)} MiB` : `${bytes} bytes`
}

function hostOf(url: string): string {
  try {
    return new URL(url).host
  } catch {
    return url // scp-like or local path: keep the URL
  }
}

function tlsArgs(remote: GitRemoteAccess): string[] {
  return remote.insecureSkipTLSVerify ? ['-c', 'http.sslVerify=false'] : []
}
