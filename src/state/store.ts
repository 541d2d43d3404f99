import { randomUUID } from 'node:crypto'
import fs from 'node:fs'
import {
  catFileBatch,
  git,
  gitTry,
  WAYBILL_GIT_IDENTITY,
  type GitCredentials,
  type GitObject
} from '../git/git.js'
import { sleep } from '../util/sleep.js'
import { hasControlCharacter, replaceNonPrintable } from '../util/text.js'
import { WaybillError, trimOutput } from '../util/errors.js'
import { redact, type Logger } from '../util/logger.js'
import { migrateState, documentVersion } from './migrations.js'
import { validateRecord, validateState, type StateSection } from './schema.js'
import { StateSerializer, compact, gitBlobId, isEmptyObject, jsonKeyProblem } from './serialize.js'
import { cloneJson, createDraft, deepFreeze, finishDraft } from './draft.js'
import { STATE_SCHEMA_VERSION, emptyState, type State } from './types.js'
import type { Freight } from '../freight/types.js'
import {
  FREIGHT_DIR,
  FreightFileSerializer,
  changedWarehouses,
  freightByWarehouse,
  freightFileName,
  pickFreight,
  warehouseOfFile
} from './freight-files.js'

export const STATE_FILE = 'state.json'
/** A state (state.json and the freight files) larger than this is refused (a runaway writer, or not Waybill's files). */
export const DEFAULT_MAX_STATE_BYTES = 50 * 1024 * 1024
/** Enough for ~20 runs writing at once (measured in __tests__/reliability/races.test.ts). */
export const DEFAULT_MAX_ATTEMPTS = 30

export interface StateStoreOptions {
  /** A Git repository (working copy or bare) used for objects and the private ref. */
  repoDir: string
  /** Remote name or URL holding the state branch. */
  remote: string
  /** State branch name, without refs/heads/ (default in commands: waybill/state). */
  branch: string
  credentials?: GitCredentials
  /** Alternative to `credentials`: picked once from the remote's URL (resolved with git remote get-url). */
  credentialsForUrl?: (url: string) => GitCredentials | undefined
  logger: Logger
  /** Push attempts before giving up when other writers keep winning (default 30). */
  maxAttempts?: number
  /** Largest state accepted (state.json plus freight files), in bytes (default 50 MB). */
  maxBytes?: number
  /**
   * Backoff between attempts: the n-th wait is random in [0, min(maxMs, step·2ⁿ)], where step is
   * baseMs or, when longer, how long the refused attempt took (default 50 ms, 30 s).
   */
  backoff?: { baseMs: number; maxMs: number }
  /** Commit author (default env WAYBILL_GIT_AUTHOR_NAME/EMAIL, else WAYBILL_GIT_IDENTITY). */
  author?: { name: string; email: string }
  /** Committer (default: the author). */
  committer?: { name: string; email: string }
}

/** What a mutator returns: the commit message, optionally with extra files, or undefined for "nothing to do". */
export type StateMutation =
  string | { message: string; files?: Record<string, string | Buffer> } | undefined

/** Edits the draft in place; must be pure (it is re-run on a fresh draft when another writer won). */
export type StateMutator = (draft: State) => StateMutation

export interface UpdateResult {
  /** The state as written (or as read, when nothing was committed). */
  state: State
  committed: boolean
  /** The new tip of the state branch when committed. */
  commit?: string
  /** Push attempts made (1 when nobody else was writing). */
  attempts: number
}

export interface ReadOptions {
  /**
   * Return the state at the tip this store last fetched or wrote (this run's own writes
   * included) instead of fetching again, so a command fetches the branch once. Safe for reads
   * that lead to writes: every write is a compare-and-swap against that tip, so when another
   * writer got in between the push is refused and update() re-fetches and re-runs its mutator
   * on the newer state (nothing is lost; the decision is re-made). Fetches when the store has
   * seen no tip yet.
   */
  cached?: boolean
}

/** Git round trips and outcomes, for benchmarks and tests. */
export interface StateStoreStats {
  fetches: number
  pushes: number
  /** Pushes refused because the branch had moved. */
  rejections: number
  commits: number
}

interface TreeEntry {
  mode: string
  type: string
  id: string
  size?: number
  name: string
}

/** What the store knows about one tip of the branch. */
interface Snapshot {
  /** Commit ID, undefined when the branch does not exist. */
  tip: string | undefined
  /** Top-level entries of the tip's tree (undefined until needed). */
  entries?: TreeEntry[]
  /** state.json exactly as on the branch (undefined when absent). */
  blobText: string | undefined
  /**
   * The freight files at this tip by warehouse; undefined when the tip keeps its freight inside
   * state.json (schema version 1), so the next write writes every warehouse's file.
   */
  freightFiles: Map<string, BlobRef> | undefined
  /** The document at this tip (current schema version), deep-frozen: the base of every draft. */
  base: State
}

interface BlobRef {
  id: string
  size: number
}

/** A change to one file of the state branch's tree: new content, or null to remove it. */
type FileChange = string | Buffer | null

const REJECTED =
  /\[rejected\]|\[remote rejected\]|stale info|fetch first|non-fast-forward|cannot lock ref|failed to update ref|failed to lock|Unable to create .*\.lock/i

/**
 * Waybill's state on a Git branch: read with one fetch, written with Git plumbing and a push that
 * only succeeds if the branch is still where it was read (compare-and-swap). Concurrent writers
 * re-read and re-apply their mutator; none loses an update. A state that does not parse, fails
 * validation or comes from a newer Waybill is never overwritten.
 */
export class StateStore {
  readonly stats: StateStoreStats = { fetches: 0, pushes: 0, rejections: 0, commits: 0 }
  private readonly privateRef: string
  private readonly maxAttempts: number
  private readonly maxBytes: number
  private readonly backoff: { baseMs: number; maxMs: number }
  private cache: Snapshot | undefined
  private serializer = new StateSerializer()
  private readonly freightSerializer = new FreightFileSerializer()
  /**
   * Parsed (frozen) records of the freight files last read or written, for reuse, by
   * parsedFileKey (warehouse and blob: the same content under another file name is parsed again
   * and refused, since its records name another origin).
   */
  private freightByBlob = new Map<string, Record<string, Freight>>()

  constructor(readonly options: StateStoreOptions) {
    if (!/^[A-Za-z0-9._/-]+$/.test(options.branch) || options.branch.includes('..'))
      throw new WaybillError(`invalid state branch name '${options.branch}'`)
    this.privateRef = `refs/waybill/${options.branch}`
    this.maxAttempts = Math.max(1, options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS)
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_STATE_BYTES
    this.backoff = options.backoff ?? { baseMs: 50, maxMs: 30_000 }
  }

  get branch(): string {
    return this.options.branch
  }

  /** The commit the last read or write saw (undefined before any, or when the branch is absent). */
  get lastTip(): string | undefined {
    return this.cache?.tip
  }

  /**
   * Fetches the branch and returns its state (emptyState() when the branch does not exist), as a
   * mutable copy of its own. With `cached`, returns the state as this store last read or wrote
   * it, and fetches only when it has neither (see ReadOptions).
   */
  async read(opts: ReadOptions = {}): Promise<State> {
    return cloneJson(await this.snapshot(opts))
  }

  /** Like read() but returns the store's own deep-frozen document (no copy; cheaper). */
  async snapshot(opts: ReadOptions = {}): Promise<State> {
    if (opts.cached && this.cache) return this.cache.base
    return (await this.fetchSnapshot()).base
  }

  /**
   * Applies `mutator` to the current state and commits the result; re-fetches and re-applies when
   * another writer moved the branch in between. No commit when the mutator returns undefined or
   * changes nothing.
   */
  async update(mutator: StateMutator): Promise<UpdateResult> {
    for (let attempt = 1; ; attempt++) {
      const attemptStarted = Date.now()
      // First attempt: trust the tip seen last (the push fails if it moved); later ones re-fetch.
      const snap = attempt === 1 && this.cache ? this.cache : await this.fetchSnapshot()
      const draft = createDraft(snap.base)
      let mutation: StateMutation
      let next: State
      try {
        mutation = mutator(draft)
      } finally {
        next = finishDraft(draft)
      }
      if (mutation === undefined) return { state: snap.base, committed: false, attempts: attempt }
      const { message, files } =
        typeof mutation === 'string' ? { message: mutation, files: undefined } : mutation
      const changes = new Map<string, FileChange>()
      let freightChanges = new Map<string, string | null>()
      let groups = new Map<string, string[]>()
      if (next !== snap.base || snap.blobText === undefined) {
        const problems = changedRecordProblems(snap.base, next)
        if (problems.length)
          throw new WaybillError(
            `refusing to write an invalid state (${message}): ${summarize(problems)}`,
            'this is a bug in the command that changed the state; the branch was left unchanged'
          )
        const text = this.serializer.serialize({ ...next, freight: undefined })
        if (text !== snap.blobText) changes.set(STATE_FILE, text)
        // Most writes (claims, results, audit) leave freight alone: no grouping of every record.
        if (next.freight !== snap.base.freight || !snap.freightFiles) {
          groups = freightByWarehouse(next.freight)
          freightChanges = this.freightFileChanges(snap, next, groups)
          for (const [warehouse, content] of freightChanges)
            changes.set(`${FREIGHT_DIR}/${freightFileName(warehouse)}`, content)
        }
      }
      for (const [name, content] of Object.entries(files ?? {})) {
        checkFileName(name)
        if ((await this.blobIdAt(snap, name)) !== gitBlobId(content)) changes.set(name, content)
      }
      if (changes.size === 0) return { state: next, committed: false, attempts: attempt }
      if (changes.has(STATE_FILE) || freightChanges.size)
        this.checkSize(
          snap,
          changes.get(STATE_FILE) as string | undefined,
          freightChanges,
          next,
          message
        )
      const { commit, blobs } = await this.writeCommit(snap, changes, message)
      if (await this.push(snap.tip, commit)) {
        this.stats.commits++
        const blobText = (changes.get(STATE_FILE) as string | undefined) ?? snap.blobText
        const freightFiles = new Map(snap.freightFiles)
        for (const [warehouse, content] of freightChanges) {
          if (content === null) freightFiles.delete(warehouse)
          else {
            const id = blobs.get(`${FREIGHT_DIR}/${freightFileName(warehouse)}`)!
            freightFiles.set(warehouse, { id, size: Buffer.byteLength(content, 'utf8') })
            this.freightByBlob.set(
              parsedFileKey(warehouse, id),
              pickFreight(next.freight, groups.get(warehouse) ?? [])
            )
          }
        }
        this.cache = { tip: commit, blobText, base: next, freightFiles }
        this.options.logger.debug(`state: ${message} (${commit.slice(0, 7)}, attempt ${attempt})`)
        return { state: next, committed: true, commit, attempts: attempt }
      }
      this.stats.rejections++
      this.cache = undefined
      if (attempt >= this.maxAttempts && this.lastLock)
        throw new WaybillError(
          `could not update branch ${this.branch}: the remote keeps a lock file ${redact(this.lastLock)} (${message})`,
          'a git process writing to that repository was killed; remove the lock file if no git process is running there'
        )
      if (attempt >= this.maxAttempts)
        throw new WaybillError(
          `could not update branch ${this.branch}: it moved on each of ${attempt} attempts (${message})`,
          'other runs are writing the state at the same time; run the command again'
        )
      // Writers that each take long to read, change and push (a big state, a busy machine)
      // collide again after a short wait: the wait grows with what one attempt costs, so
      // 20 writers at once spread out instead of redoing their work against each other.
      const step = Math.max(this.backoff.baseMs, Date.now() - attemptStarted)
      const cap = Math.min(this.backoff.maxMs, step * 2 ** (attempt - 1))
      const wait = Math.round(Math.random() * cap)
      this.options.logger.debug(
        `state: branch ${this.branch} moved, retrying in ${wait} ms (attempt ${attempt + 1})`
      )
      await sleep(wait)
    }
  }

  /**
   * The freight files a write changes, by warehouse: every warehouse whose records differ from
   * the snapshot's (all of them when the snapshot kept freight in state.json), new content or
   * null for a warehouse left with no freight.
   */
  private freightFileChanges(
    snap: Snapshot,
    next: State,
    groups: Map<string, string[]>
  ): Map<string, string | null> {
    const out = new Map<string, string | null>()
    const changed = snap.freightFiles
      ? changedWarehouses(snap.base.freight, next.freight)
      : new Set(groups.keys())
    for (const warehouse of changed) {
      const keys = groups.get(warehouse)
      const existing = snap.freightFiles?.get(warehouse)
      if (!keys) {
        if (existing) out.set(warehouse, null)
        continue
      }
      const text = this.freightSerializer.serialize(warehouse, next.freight, keys)
      if (existing?.id !== gitBlobId(text)) out.set(warehouse, text)
    }
    return out
  }

  /**
   * Refuses to write a state that this store (or any later command) would refuse to read: the
   * write fails, naming what is big, and the branch keeps its last readable state.
   */
  private checkSize(
    snap: Snapshot,
    stateText: string | undefined,
    freightChanges: Map<string, string | null>,
    next: State,
    message: string
  ): void {
    let bytes = Buffer.byteLength(stateText ?? snap.blobText ?? '', 'utf8')
    for (const [warehouse, ref] of snap.freightFiles ?? [])
      if (!freightChanges.has(warehouse)) bytes += ref.size
    for (const content of freightChanges.values())
      if (content !== null) bytes += Buffer.byteLength(content, 'utf8')
    if (bytes <= this.maxBytes) return
    throw new WaybillError(
      `refusing to write a state of ${bytes} bytes (${message}): over the ${this.maxBytes}-byte limit; largest parts: ${largestParts(next).join(', ')}`,
      `the branch ${this.branch} was left unchanged; lower what the largest part keeps (discoveryLimit, GC limits) or report a bug if it should not grow like this`
    )
  }

  // ---------- reading ----------

  private credentials: GitCredentials | undefined
  /** The lock file named by the last refused push, when the remote refused because of one. */
  private lastLock: string | undefined
  private credentialsResolved = false

  private gitOpts() {
    return { cwd: this.options.repoDir, credentials: this.credentials }
  }

  private async resolveCredentials(): Promise<void> {
    if (this.credentialsResolved) return
    this.credentialsResolved = true
    this.credentials = this.options.credentials
    const pick = this.options.credentialsForUrl
    if (this.credentials || !pick) return
    const { remote, repoDir } = this.options
    let url = remote
    if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(remote) && !remote.includes('/')) {
      const res = await gitTry(['remote', 'get-url', '--', remote], { cwd: repoDir })
      if (res.code === 0) url = res.stdout.trim()
    }
    this.credentials = pick(url)
  }

  private async fetchSnapshot(): Promise<Snapshot> {
    const tip = await this.fetchTip()
    if (this.cache && this.cache.tip === tip) return this.cache
    this.cache = await this.load(tip)
    return this.cache
  }

  /** Fetches the branch into the private ref; returns its commit or undefined when absent. */
  private async fetchTip(): Promise<string | undefined> {
    await this.resolveCredentials()
    const { remote, branch } = this.options
    const args = [
      '-c',
      'gc.auto=0',
      'fetch',
      '--quiet',
      '--no-tags',
      '--no-write-fetch-head',
      '--end-of-options',
      remote,
      `+refs/heads/${branch}:${this.privateRef}`
    ]
    for (let tries = 0; ; tries++) {
      this.stats.fetches++
      const res = await gitTry(args, this.gitOpts())
      if (res.code === 0) break
      const err = res.stderr + res.stdout
      if (/couldn't find remote ref|could not find remote ref/i.test(err)) {
        await gitTry(['update-ref', '-d', this.privateRef], this.gitOpts())
        return undefined
      }
      // A writer killed mid-fetch leaves a lock on the private ref: it only caches the remote, so
      // the lock can go.
      if (tries < 2 && /\.lock'?: File exists|cannot lock ref/i.test(err)) {
        await this.removeStaleLock()
        continue
      }
      throw new WaybillError(
        `could not fetch state branch ${branch} from ${redact(remote)}: ${trimOutput(redact(err), 500)}`,
        'check the remote URL and that the token may read the repository'
      )
    }
    return git(['rev-parse', '--verify', `${this.privateRef}^{commit}`], this.gitOpts())
  }

  private async removeStaleLock(): Promise<void> {
    // --absolute-git-dir: a plain path with no path.resolve() for the bundler to mistake for an asset.
    const gitDir = await git(['rev-parse', '--absolute-git-dir'], this.gitOpts())
    const lock = `${gitDir}/${this.privateRef}.lock`
    fs.rmSync(lock, { force: true })
  }

  private async load(tip: string | undefined): Promise<Snapshot> {
    if (!tip)
      return {
        tip,
        entries: [],
        blobText: undefined,
        freightFiles: new Map(),
        base: deepFreeze(emptyState())
      }
    const at = `on branch ${this.branch} (commit ${tip.slice(0, 7)})`
    const where = `state.json ${at}`
    const hint = `fix or revert the last commit on branch ${this.branch} (git log ${this.branch}); Waybill never overwrites a state it cannot read`
    // One listing of state.json and the freight folder, one read of every blob needed.
    const listed = await this.listTree(tip, [STATE_FILE, FREIGHT_DIR])
    const file = listed.find((e) => e.name === STATE_FILE)
    if (!file)
      // Every commit Waybill makes on its branch carries state.json: a branch without one (main,
      // a stage branch) holds someone else's content, and Waybill's commits would mix into it.
      throw new WaybillError(
        `branch ${this.branch} (commit ${tip.slice(0, 7)}) has no ${STATE_FILE}: it is not a Waybill state branch, and Waybill will not write its state onto it`,
        `pass --state-branch (input state-branch) naming a branch only Waybill writes, e.g. waybill/state; Waybill creates it on the first write`
      )
    if (file.type !== 'blob') throw new WaybillError(`${where} is not a file`, hint)
    const tooBig = (what: string, bytes: number) =>
      new WaybillError(
        `${what} is ${bytes} bytes, over the ${this.maxBytes}-byte limit`,
        `${hint}; if the state really grew this large, lower the GC limits (keep per warehouse, promotions)`
      )
    if ((file.size ?? 0) > this.maxBytes) throw tooBig(where, file.size ?? 0)
    const freightRefs = freightFileRefs(listed, at, hint)
    let total = file.size ?? 0
    for (const ref of freightRefs.values()) total += ref.size
    if (total > this.maxBytes)
      throw tooBig(`the state ${at} (state.json and ${freightRefs.size} freight files)`, total)
    const unparsed = [...freightRefs]
      .filter(([warehouse, ref]) => !this.freightByBlob.has(parsedFileKey(warehouse, ref.id)))
      .map(([, ref]) => ref.id)
    const blobs = await catFileBatch([file.id, ...unparsed], this.gitOpts())
    const stateBlob = blobs.get(file.id)?.content
    if (!stateBlob) throw new WaybillError(`could not read ${where}`, hint)
    const blobText = stateBlob.toString('utf8')
    let doc: unknown
    try {
      doc = this.serializer.parse(blobText)
    } catch (err) {
      throw new WaybillError(`${where} is not valid JSON: ${(err as Error).message}`, hint)
    }
    if (!doc || typeof doc !== 'object' || Array.isArray(doc))
      throw new WaybillError(`${where} is not a JSON object`, hint)
    const version = documentVersion(doc as Record<string, unknown>)
    if (version > STATE_SCHEMA_VERSION)
      throw new WaybillError(
        `${where} has schema version ${version}, newer than this Waybill understands (${STATE_SCHEMA_VERSION})`,
        'upgrade waybill (the state was written by a newer release); it was left unchanged'
      )
    const keyProblem = jsonKeyProblem(blobText)
    if (keyProblem) throw new WaybillError(`${where} is corrupt: ${keyProblem}`, hint)
    let current = doc as Record<string, unknown>
    let freightFiles: Map<string, BlobRef> | undefined
    let texts = [blobText]
    let parsedFreight = new Map<string, Record<string, Freight>>()
    if (version >= FREIGHT_FILES_VERSION) {
      if (current.freight !== undefined && !isEmptyObject(current.freight))
        throw new WaybillError(
          `${where} is invalid: freight: must be empty (freight is kept in ${FREIGHT_DIR}/<warehouse>.json)`,
          hint
        )
      const read = this.parseFreightFiles(freightRefs, blobs, at, hint)
      current.freight = read.freight
      freightFiles = read.files
      texts = texts.concat(read.texts)
      parsedFreight = read.parsed
    } else if (freightRefs.size)
      // Waybill never writes both: the files would outlive the migration and bring back freight.
      throw new WaybillError(
        `${where} is corrupt: schema version ${version} keeps freight in state.json, but the branch also has ${FREIGHT_DIR}/ files`,
        hint
      )
    if (version < STATE_SCHEMA_VERSION) {
      // Migrations edit records in place: forget the lines remembered while parsing.
      this.serializer = new StateSerializer()
      const { doc: migrated, applied } = migrateState(current)
      current = migrated
      this.options.logger.info(
        `state: migrating ${STATE_FILE} from schema version ${version} to ${STATE_SCHEMA_VERSION} (${applied.map((m) => m.description).join('; ')}); written with the next change`
      )
    }
    const problems = validateState(current, texts)
    if (problems.length)
      throw new WaybillError(
        `${where} is invalid: ${summarize(problems.map((p) => inFreightFile(p, current, freightFiles)))}`,
        hint
      )
    const base = deepFreeze(current as unknown as State)
    // Only records of a state that passed validation are reused by later reads (which skip
    // checking them again).
    this.freightByBlob = parsedFreight
    return { tip, blobText, freightFiles, base }
  }

  /**
   * The freight of a tip that keeps it in files (schema version 2 on), from the blobs read with
   * state.json; files whose blob this store has parsed before are reused.
   */
  private parseFreightFiles(
    files: Map<string, BlobRef>,
    blobs: Map<string, GitObject>,
    at: string,
    hint: string
  ): {
    freight: Record<string, unknown>
    files: Map<string, BlobRef>
    /** Texts of the files parsed now (not reused). */
    texts: string[]
    /** Records by parsedFileKey, to reuse once the whole state has been validated. */
    parsed: Map<string, Record<string, Freight>>
  } {
    const freight: Record<string, unknown> = {}
    const texts: string[] = []
    const parsed = new Map<string, Record<string, Freight>>()
    for (const [warehouse, { id }] of files) {
      const name = `${FREIGHT_DIR}/${freightFileName(warehouse)} ${at}`
      const cacheKey = parsedFileKey(warehouse, id)
      let records = this.freightByBlob.get(cacheKey)
      if (!records) {
        const text = blobs.get(id)?.content.toString('utf8')
        if (text === undefined) throw new WaybillError(`could not read ${name}`, hint)
        texts.push(text)
        try {
          records = this.freightSerializer.parse(warehouse, text) as Record<string, Freight>
        } catch (err) {
          throw new WaybillError(`${name} is corrupt: ${(err as Error).message}`, hint)
        }
      }
      parsed.set(cacheKey, records)
      for (const [key, f] of Object.entries(records)) {
        if (Object.hasOwn(freight, key))
          throw new WaybillError(`${name} is corrupt: freight ${key} is in two files`, hint)
        freight[key] = f
      }
    }
    return { freight, files, texts, parsed }
  }

  private async entries(snap: Snapshot): Promise<TreeEntry[]> {
    if (!snap.entries) snap.entries = snap.tip ? await this.listTree(snap.tip) : []
    return snap.entries
  }

  /**
   * Entries of a tree; with `paths`, only those paths, recursively (with the folders themselves),
   * their `name` being the path from the root.
   */
  private async listTree(treeish: string, paths?: string[]): Promise<TreeEntry[]> {
    const args = paths
      ? ['ls-tree', '-r', '-t', '-l', '-z', treeish, '--', ...paths]
      : ['ls-tree', '-l', '-z', treeish]
    const out = await git(args, this.gitOpts())
    const entries: TreeEntry[] = []
    for (const rec of out.split('\0')) {
      if (!rec) continue
      const m = /^(\d+) (\w+) ([0-9a-f]+) +(\S+)\t([\s\S]*)$/.exec(rec)
      if (!m) continue
      entries.push({
        mode: m[1],
        type: m[2],
        id: m[3],
        size: m[4] === '-' ? undefined : Number(m[4]),
        name: m[5]
      })
    }
    return entries
  }

  // ---------- writing ----------

  /**
   * Writes the commit of `changes` on top of the snapshot's tip with one `git fast-import`: the
   * blobs, the trees (fast-import applies the changes to the parent's tree, dropping folders
   * left empty) and the commit, without a temporary file or a ref (the commit is made on a
   * scratch ref that is reset before fast-import ends, so concurrent writers never share one).
   */
  private async writeCommit(
    snap: Snapshot,
    changes: Map<string, FileChange>,
    message: string
  ): Promise<{ commit: string; blobs: Map<string, string> }> {
    const author = this.options.author ?? {
      name: process.env.WAYBILL_GIT_AUTHOR_NAME || WAYBILL_GIT_IDENTITY.name,
      email: process.env.WAYBILL_GIT_AUTHOR_EMAIL || WAYBILL_GIT_IDENTITY.email
    }
    const when = `${Math.floor(Date.now() / 1000)} +0000`
    const ident = (who: { name: string; email: string }) =>
      `${identityPart(who.name)} <${identityPart(who.email)}> ${when}`
    const written = [...changes].filter((c): c is [string, string | Buffer] => c[1] !== null)
    const text = (t: string) => Buffer.from(t, 'utf8')
    const data = (content: string | Buffer) => {
      const bytes = typeof content === 'string' ? text(content) : content
      return [text(`data ${bytes.length}\n`), bytes, text('\n')]
    }
    const parts: Buffer[] = []
    written.forEach(([, content], i) =>
      parts.push(text(`blob\nmark :${i + 1}\n`), ...data(content))
    )
    const commitMark = written.length + 1
    const ref = `refs/waybill/write/${randomUUID()}`
    parts.push(
      text(`commit ${ref}\nmark :${commitMark}\n`),
      text(`author ${ident(author)}\ncommitter ${ident(this.options.committer ?? author)}\n`),
      ...data(redact(message.trim()) + '\n')
    )
    if (snap.tip) parts.push(text(`from ${snap.tip}\n`))
    const marks = new Map(written.map(([name], i) => [name, i + 1]))
    for (const [name, content] of changes) {
      const mark = marks.get(name)
      parts.push(
        text(content === null ? `D ${quotePath(name)}\n` : `M 100644 :${mark} ${quotePath(name)}\n`)
      )
    }
    parts.push(text('\n'))
    for (let mark = 1; mark <= commitMark; mark++) parts.push(text(`get-mark :${mark}\n`))
    parts.push(text(`reset ${ref}\n\ndone\n`))
    const out = await git(['fast-import', '--quiet', '--done'], {
      ...this.gitOpts(),
      input: Buffer.concat(parts)
    })
    const ids = out.split('\n').filter(Boolean)
    if (ids.length !== commitMark || !ids.every((id) => /^[0-9a-f]{40,64}$/.test(id)))
      throw new WaybillError(`git fast-import did not write the state commit: ${trimOutput(out)}`)
    return {
      commit: ids[commitMark - 1],
      blobs: new Map(written.map(([name], i) => [name, ids[i]]))
    }
  }

  /** The blob ID of `name` at the snapshot's tip (nested paths looked up in Git). */
  private async blobIdAt(snap: Snapshot, name: string): Promise<string | undefined> {
    if (!name.includes('/'))
      return (await this.entries(snap)).find((e) => e.name === name && e.type === 'blob')?.id
    if (!snap.tip) return undefined
    const res = await gitTry(['rev-parse', '--verify', '-q', `${snap.tip}:${name}`], this.gitOpts())
    return res.code === 0 ? res.stdout.trim() : undefined
  }

  /** Pushes `commit` if the branch is still at `expected`; false when another writer got there first. */
  private async push(expected: string | undefined, commit: string): Promise<boolean> {
    await this.resolveCredentials()
    const ref = `refs/heads/${this.branch}`
    this.stats.pushes++
    const res = await gitTry(
      [
        'push',
        '--quiet',
        '--porcelain',
        '--no-verify',
        `--force-with-lease=${ref}:${expected ?? ''}`,
        '--end-of-options',
        this.options.remote,
        `${commit}:${ref}`
      ],
      this.gitOpts()
    )
    if (res.code === 0) return true
    const out = res.stdout + res.stderr
    this.lastLock = /Unable to create '([^']+\.lock)'/.exec(out)?.[1]
    if (REJECTED.test(out)) return false
    throw new WaybillError(
      `could not push state branch ${this.branch} to ${redact(this.options.remote)}: ${trimOutput(redact(out), 500)}`,
      'check that the token may push to the repository (contents: write) and that the branch is not protected'
    )
  }
}

/** A name or email for a fast-import identity line: without the characters that end its fields. */
const identityPart = (s: string) => s.replace(/[<>\n\r\0]/g, '').trim()

/** A path for a fast-import command, C-style quoted (state paths hold no control characters). */
const quotePath = (p: string) => `"${p.replace(/[\\"]/g, (c) => `\\${c}`)}"`

/** The first schema version that keeps freight in FREIGHT_DIR instead of state.json. */
const FREIGHT_FILES_VERSION = 2

/**
 * The freight files in a recursive listing of state.json and the freight folder, by warehouse;
 * throws when the folder holds anything Waybill does not write there.
 */
function freightFileRefs(listed: TreeEntry[], at: string, hint: string): Map<string, BlobRef> {
  const files = new Map<string, BlobRef>()
  for (const e of listed) {
    if (e.name === STATE_FILE) continue
    if (e.name === FREIGHT_DIR) {
      if (e.type !== 'tree') throw new WaybillError(`${FREIGHT_DIR} ${at} is not a folder`, hint)
      continue
    }
    const fileName = e.name.slice(FREIGHT_DIR.length + 1)
    const warehouse = warehouseOfFile(fileName)
    if (!warehouse || e.type !== 'blob' || e.mode !== '100644')
      throw new WaybillError(
        `${FREIGHT_DIR}/${replaceNonPrintable(fileName.slice(0, 100), '?')} ${at} is not a freight file Waybill writes (${FREIGHT_DIR}/<warehouse>.json, a plain file)`,
        hint
      )
    files.set(warehouse, { id: e.id, size: e.size ?? 0 })
  }
  return files
}

/** A problem with a freight record, naming the file the record came from. */
function inFreightFile(
  problem: string,
  doc: Record<string, unknown>,
  files: Map<string, BlobRef> | undefined
): string {
  const key = /^freight\.([0-9a-f]{40})\b/.exec(problem)?.[1]
  if (!key || !files) return problem
  const warehouse = (doc.freight as Record<string, Freight>)[key]?.origin?.name
  return files.has(warehouse)
    ? `${problem} (in ${FREIGHT_DIR}/${freightFileName(warehouse)})`
    : problem
}

/** Where parsed freight files are remembered: a file's warehouse and its blob. */
const parsedFileKey = (warehouse: string, blob: string) => `${warehouse}\0${blob}`

function checkFileName(name: string): void {
  const parts = name.split('/')
  if (
    name === STATE_FILE ||
    parts[0] === FREIGHT_DIR ||
    name.startsWith('/') ||
    parts.some((p) => p === '' || p === '.' || p === '..' || p === '.git') ||
    hasControlCharacter(name) ||
    name.includes('\\')
  )
    throw new WaybillError(`invalid file name for the state branch: '${name}'`)
}

const SECTIONS: readonly StateSection[] = ['warehouses', 'freight', 'stages', 'promotions']

/** Validates what a mutator changed: new or replaced records only (the rest was valid before). */
function changedRecordProblems(base: State, next: State): string[] {
  if (next === base) return []
  const problems: string[] = []
  if (next.schemaVersion !== STATE_SCHEMA_VERSION)
    problems.push(`schemaVersion: must stay ${STATE_SCHEMA_VERSION}`)
  for (const section of SECTIONS) {
    const before = base[section] as Record<string, unknown>
    const after = next[section] as Record<string, unknown>
    if (after === before) continue
    if (!after || typeof after !== 'object' || Array.isArray(after)) {
      problems.push(`${section}: must be an object`)
      continue
    }
    for (const [key, value] of Object.entries(after))
      if (value !== before?.[key]) problems.push(...validateRecord(section, key, value))
  }
  if (next.audit !== base.audit) {
    if (!Array.isArray(next.audit)) problems.push('audit: must be a list')
    else {
      const old = new Set<unknown>(base.audit)
      next.audit.forEach((entry, i) => {
        if (!old.has(entry)) problems.push(...validateRecord('audit', String(i), entry))
      })
    }
  }
  return problems
}

function summarize(problems: string[]): string {
  const shown = problems.slice(0, 5).join('; ')
  return problems.length > 5 ? `${shown}; and ${problems.length - 5} more` : shown
}

/** The biggest records of a state, `section.key (N bytes)`, largest first; a field of a record when one dominates. */
function largestParts(state: State, count = 3): string[] {
  const sizes: Array<[string, number]> = []
  const size = (v: unknown) => Buffer.byteLength(compact(v), 'utf8')
  for (const section of SECTIONS) {
    for (const [key, value] of Object.entries(state[section] as Record<string, unknown>)) {
      let name = `${section}.${key}`
      const total = size(value)
      if (value && typeof value === 'object') {
        const fields = Object.entries(value as Record<string, unknown>).map(
          ([k, v]) => [k, size(v)] as const
        )
        const big = fields.sort((a, b) => b[1] - a[1])[0]
        if (big && big[1] > total / 2) name += `.${big[0]}`
      }
      sizes.push([name, total])
    }
  }
  sizes.push(['audit', size(state.audit)])
  return sizes
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, bytes]) => `${name} (${bytes} bytes)`)
}
