import { credentialsForUrl, type Services } from '../../runtime/services.js'
import type { DiscoveredCommit, DiscoveredCommits, ObservedRefs } from '../../state/types.js'
import { ConfigFieldError, ToolError, WaybillError } from '../../util/errors.js'
import { redact, type Logger } from '../../util/logger.js'
import { spawn } from 'node:child_process'
import { git, gitEnv } from '../../git/git.js'
import { checkRefName, refNameProblem } from '../../git/ref-names.js'
import { compilePathFilter, type PathFilter } from '../path-filter.js'
import { filterTags, sortLexicalDesc, sortSemverDesc } from '../semver.js'
import { GitCloneCache, type GitDiscoveryStats, type GitRemoteAccess } from './cache.js'
import { compileCommitFilter, type CommitFilter } from './expression.js'
import type { GitSubscriptionSpec } from './types.js'
import { parseGitUrl } from './url.js'

const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)))

export { GitCloneCache, emptyGitStats, type GitDiscoveryStats } from './cache.js'
export type { GitSubscriptionSpec, CommitSelectionStrategy } from './types.js'
export { parseGitUrl, gitRepoKey } from './url.js'

export const DEFAULT_DISCOVERY_LIMIT = 20
/** Branch prefix Waybill pushes promotion branches under. */
export const PROMOTION_BRANCH_PREFIX = 'waybill/promotion/'

export interface DiscoverCommitsOptions {
  services: Services
  logger: Logger
  /** The last discovery's result for this subscription, for the ls-remote short-circuit. */
  previous?: DiscoveredCommits
  cache: GitCloneCache
  /** Counters to add this call's costs to (besides cache.stats). */
  stats?: GitDiscoveryStats
  /** The subscription's `name` (sibling of `git:` in the warehouse spec). */
  subscriptionName?: string
  /** Branches that are Waybill's own output (state branch, stage branches): never subscribable. */
  reservedBranches?: readonly string[]
  /** Field path for error messages, e.g. `spec.subscriptions[0].git`. */
  field?: string
}

interface ParsedRecord {
  id: string
  commitDate: string
  author: string
  committer: string
  subject: string
  paths: string[]
}

const FS = '\x1f'
const RS = '\x1e'
const LOG_FORMAT = `${RS}%H${FS}%cI${FS}%an <%ae>${FS}%cn <%ce>${FS}%s`

/**
 * Discovers the newest acceptable commits of one Git subscription, best first (Kargo's
 * NewestFromBranch, SemVer, Lexical and NewestTag strategies). One `git ls-remote` decides whether
 * anything changed since `previous`; only then is the repository cloned (blobless, cached per run).
 */
export async function discoverCommits(
  sub: GitSubscriptionSpec,
  opts: DiscoverCommitsOptions
): Promise<DiscoveredCommits> {
  const field = opts.field ?? 'git'
  const parsed = parseGitUrl(sub.repoURL, `${field}.repoURL`)
  if (parsed.deprecated)
    opts.logger.notice(
      `${field}.repoURL: SSH URLs (${sub.repoURL}) are deprecated in Kargo (removal in v1.13); prefer https://`
    )
  if (sub.allowTags !== undefined && sub.allowTags !== '')
    throw new ConfigFieldError(
      `${field}.allowTags`,
      'allowTags is no longer supported (deprecated in Kargo v1.8, an error since v1.11)',
      'use allowTagsRegexes'
    )
  if (sub.ignoreTags?.length)
    throw new ConfigFieldError(
      `${field}.ignoreTags`,
      'ignoreTags is no longer supported (deprecated in Kargo v1.8, an error since v1.11)',
      'use ignoreTagsRegexes'
    )
  const limit = sub.discoveryLimit ?? DEFAULT_DISCOVERY_LIMIT
  if (!Number.isInteger(limit) || limit < 1 || limit > 100)
    throw new ConfigFieldError(
      `${field}.discoveryLimit`,
      `must be an integer from 1 to 100, got ${limit}`
    )
  const remote: GitRemoteAccess = {
    url: parsed.url,
    credentials:
      parsed.kind === 'https' || parsed.kind === 'http'
        ? credentialsForUrl(opts.services, parsed.url)
        : undefined,
    insecureSkipTLSVerify: sub.insecureSkipTLSVerify
  }
  const ctx: Ctx = {
    sub,
    opts,
    field,
    limit,
    remote,
    pathFilter: compilePathFilter(sub.includePaths, sub.excludePaths, field),
    filter: compileCommitFilter(sub.expressionFilter, `${field}.expressionFilter`)
  }
  const strategy = sub.commitSelectionStrategy ?? 'NewestFromBranch'
  if (strategy === 'NewestFromBranch') return newestFromBranch(ctx)
  if (strategy === 'SemVer' || strategy === 'Lexical' || strategy === 'NewestTag')
    return fromTags(ctx, strategy)
  throw new ConfigFieldError(
    `${field}.commitSelectionStrategy`,
    `unknown strategy '${String(strategy)}'`
  )
}

interface Ctx {
  sub: GitSubscriptionSpec
  opts: DiscoverCommitsOptions
  field: string
  limit: number
  remote: GitRemoteAccess
  pathFilter: PathFilter
  filter?: CommitFilter
}

function result(
  ctx: Ctx,
  commits: DiscoveredCommit[],
  observedRefs: ObservedRefs
): DiscoveredCommits {
  const out: DiscoveredCommits = { repoURL: ctx.sub.repoURL, commits, observedRefs }
  if (ctx.opts.subscriptionName) out.subscriptionName = ctx.opts.subscriptionName
  return out
}

function reusable(ctx: Ctx, observed: ObservedRefs): DiscoveredCommits | undefined {
  const prev = ctx.opts.previous
  if (!prev || prev.repoURL !== ctx.sub.repoURL) return undefined
  if ((prev.subscriptionName ?? '') !== (ctx.opts.subscriptionName ?? '')) return undefined
  if (JSON.stringify(prev.observedRefs ?? null) !== JSON.stringify(observed)) return undefined
  ctx.opts.logger.debug(
    `git discovery: ${ctx.sub.repoURL} unchanged since the last discovery (ls-remote), reusing ${prev.commits.length} commit(s)`
  )
  return { ...prev, commits: prev.commits.map((c) => ({ ...c })), observedRefs: observed }
}

function checkBranch(ctx: Ctx, branch: string): void {
  const reserved = new Set(ctx.opts.reservedBranches ?? [])
  if (reserved.has(branch) || branch.startsWith(PROMOTION_BRANCH_PREFIX))
    throw new ConfigFieldError(
      `${ctx.field}.branch`,
      `'${branch}' is a branch Waybill writes to (state, stage or promotion branch); subscribing to it would make a feedback loop`,
      'subscribe to the branch that holds your sources'
    )
}

// ---------- NewestFromBranch ----------

async function newestFromBranch(ctx: Ctx): Promise<DiscoveredCommits> {
  const { sub, remote } = ctx
  if (sub.branch !== undefined) checkRefName(sub.branch, `${ctx.field}.branch`)
  let branch = sub.branch
  if (branch) checkBranch(ctx, branch)
  const ls = await ctx.opts.cache.lsRemote(remote, branch ? [`refs/heads/${branch}`] : ['HEAD'], {
    symref: !branch,
    stats: ctx.opts.stats
  })
  if (!branch) {
    if (!ls.head?.startsWith('refs/heads/'))
      throw new WaybillError(
        `cannot determine the default branch of ${sub.repoURL}: the remote reports no HEAD`,
        'set branch in the Git subscription'
      )
    branch = ls.head.slice('refs/heads/'.length)
    if (refNameProblem(branch))
      throw new WaybillError(
        `${sub.repoURL} reports an invalid default branch name ${JSON.stringify(branch)}`,
        'set branch in the Git subscription'
      )
    checkBranch(ctx, branch)
  }
  const ref = `refs/heads/${branch}`
  const head = branch === sub.branch ? ls.refs.get(ref) : ls.refs.get('HEAD')
  if (!head)
    throw new WaybillError(
      `branch '${branch}' not found in ${sub.repoURL}`,
      'check the subscription branch'
    )
  const observed: ObservedRefs = { branchHead: head }
  const reused = reusable(ctx, observed)
  if (reused) return reused

  const dir = await ctx.opts.cache.ensure(
    remote,
    [`+${ref}:${ref}`],
    new Map([[ref, head]]),
    ctx.opts.stats
  )
  const since = sub.since ? parseSince(sub.since, `${ctx.field}.since`) : undefined
  const withPaths = !ctx.pathFilter.empty
  const commits: DiscoveredCommit[] = []
  const args = ['-C', dir, 'log', '-z', `--format=${LOG_FORMAT}`]
  if (withPaths) args.push('--name-status', '--no-renames', '--diff-merges=first-parent')
  args.push('--end-of-options', head, '--')
  // One streamed walk, newest first, stopped as soon as enough commits qualify.
  let scanned = 0
  await streamLog(args, remote, (r) => {
    scanned++
    if (since !== undefined && Date.parse(r.commitDate) < since) return false
    if (ctx.filter) {
      const vars = {
        id: r.id,
        commitDate: new Date(r.commitDate),
        author: r.author,
        committer: r.committer,
        subject: r.subject
      }
      if (!ctx.filter(vars, `commit ${r.id.slice(0, 7)}`)) return true
    }
    if (withPaths && !ctx.pathFilter.matches(r.paths)) return true
    commits.push({
      id: r.id,
      branch,
      subject: r.subject,
      author: r.author,
      committer: r.committer,
      creatorDate: rfc3339(r.commitDate)
    })
    return commits.length < ctx.limit
  })
  ctx.opts.logger.info(
    `git ${sub.repoURL}: scanned ${scanned} commit(s) on ${branch}, ${commits.length} candidate(s)`
  )
  return result(ctx, commits, observed)
}

/**
 * Runs `git log` and hands each record to `onRecord` as output arrives; stops (kills git) when it
 * returns false, so a walk over a long history costs only as much of it as is needed.
 */
function streamLog(
  args: string[],
  remote: GitRemoteAccess,
  onRecord: (r: ParsedRecord) => boolean
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, {
      env: gitEnv(remote.credentials),
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let buf = ''
    let stderr = ''
    let done = false
    let failure: unknown
    const stop = () => {
      if (done) return
      done = true
      child.stdout.removeAllListeners('data')
      child.kill()
    }
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (chunk: string) => {
      buf += chunk
      // A record is complete once the next one starts.
      const end = buf.lastIndexOf(RS)
      if (end <= 0) return
      const complete = buf.slice(0, end)
      buf = buf.slice(end)
      try {
        for (const r of parseLog(complete)) if (!onRecord(r)) return stop()
      } catch (err) {
        failure = err
        stop()
      }
    })
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')))
    child.on('error', reject)
    child.on('close', (code) => {
      if (failure) return reject(asError(failure))
      if (!done) {
        try {
          for (const r of parseLog(buf)) if (!onRecord(r)) break
        } catch (err) {
          return reject(asError(err))
        }
        if (code !== 0) return reject(new ToolError('git', args, code, redact(stderr)))
      }
      resolve()
    })
  })
}

/** RFC 3339 in UTC without fractions, as Kubernetes serializes times. */
export function rfc3339(date: string): string {
  const t = Date.parse(date)
  return Number.isNaN(t) ? date : new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z')
}

function parseSince(text: string, field: string): number {
  const t = Date.parse(text)
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text) || Number.isNaN(t))
    throw new ConfigFieldError(
      field,
      `'${text}' is not an RFC 3339 date-time (e.g. 2024-01-31T00:00:00Z)`
    )
  return t
}

/** Parses `git log -z` output made with LOG_FORMAT, with or without `--name-status`. */
export function parseLog(out: string): ParsedRecord[] {
  const records: ParsedRecord[] = []
  for (const chunk of out.split(RS)) {
    if (!chunk) continue
    const nul = chunk.indexOf('\0')
    const header = nul < 0 ? chunk : chunk.slice(0, nul)
    const [id, commitDate, author, committer, subject = ''] = header.split(FS)
    const paths: string[] = []
    if (nul >= 0) {
      const rest = chunk
        .slice(nul + 1)
        .replace(/^\n/, '')
        .split('\0')
      for (let i = 0; i + 1 < rest.length; i += 2) {
        const status = rest[i].replace(/^\n/, '')
        if (!status) break
        paths.push(rest[i + 1])
      }
    }
    records.push({ id, commitDate, author, committer, subject, paths })
  }
  return records
}

// ---------- tag strategies ----------

interface TagInfo {
  name: string
  /** Fully peeled commit ID. */
  id: string
  /** The ref's own object (the tag object for annotated tags). */
  object: string
}

async function fromTags(
  ctx: Ctx,
  strategy: 'SemVer' | 'Lexical' | 'NewestTag'
): Promise<DiscoveredCommits> {
  const { sub, remote } = ctx
  const ls = await ctx.opts.cache.lsRemote(remote, ['refs/tags/*'], { stats: ctx.opts.stats })
  const tags = new Map<string, TagInfo>()
  for (const [ref, id] of ls.refs) {
    if (!ref.startsWith('refs/tags/')) continue
    const peeled = ref.endsWith('^{}')
    const name = ref.slice('refs/tags/'.length, peeled ? -3 : undefined)
    // A hostile server can advertise names git itself would refuse: they never reach git.
    if (refNameProblem(name)) continue
    const t = tags.get(name) ?? { name, id, object: id }
    if (peeled) t.id = id
    else t.object = id
    tags.set(name, t)
  }
  let names = filterTags([...tags.keys()], sub, `${ctx.field}.`)
  if (strategy === 'SemVer')
    names = sortSemverDesc(names, {
      strict: sub.strictSemvers ?? true,
      constraint: sub.semverConstraint,
      constraintField: `${ctx.field}.semverConstraint`
    })
  else names = sortLexicalDesc(names)
  const observed: ObservedRefs = {
    tags: names.map((n) => ({ name: n, id: tags.get(n)!.id }))
  }
  const reused = reusable(ctx, observed)
  if (reused) return reused
  if (names.length === 0) return result(ctx, [], observed)

  const expected = new Map(names.map((n) => [`refs/tags/${n}`, tags.get(n)!.object]))
  const dir = await ctx.opts.cache.ensure(
    remote,
    ['+refs/tags/*:refs/tags/*'],
    expected,
    ctx.opts.stats
  )
  const meta = await tagMetadata(dir, names)
  let ordered = names.filter((n) => meta.has(n))
  if (strategy === 'NewestTag')
    ordered = ordered.sort((a, b) => {
      const d = Date.parse(meta.get(b)!.creatorDate) - Date.parse(meta.get(a)!.creatorDate)
      return d || (a < b ? 1 : a > b ? -1 : 0)
    })

  const commits: DiscoveredCommit[] = []
  const withPaths = !ctx.pathFilter.empty
  for (let i = 0; i < ordered.length && commits.length < ctx.limit; i += 50) {
    let chunk = ordered.slice(i, i + 50)
    if (ctx.filter) {
      const kept: string[] = []
      for (const n of chunk) {
        const m = meta.get(n)!
        const vars: Record<string, unknown> = {
          tag: n,
          id: m.id,
          creatorDate: new Date(m.creatorDate),
          author: m.author,
          committer: m.committer,
          subject: m.subject,
          tagger: m.tagger ?? '',
          annotation: m.annotation ?? ''
        }
        if (ctx.filter(vars, `tag ${n}`)) kept.push(n)
      }
      chunk = kept
    }
    if (withPaths && chunk.length) {
      const changed = await changedPaths(dir, [...new Set(chunk.map((n) => meta.get(n)!.id))])
      chunk = chunk.filter((n) => ctx.pathFilter.matches(changed.get(meta.get(n)!.id) ?? []))
    }
    for (const n of chunk) {
      const m = meta.get(n)!
      const c: DiscoveredCommit = {
        id: m.id,
        tag: n,
        subject: m.subject,
        author: m.author,
        committer: m.committer,
        creatorDate: rfc3339(m.creatorDate)
      }
      commits.push(c)
      if (commits.length >= ctx.limit) break
    }
  }
  return result(ctx, commits, observed)
}

interface TagMeta {
  id: string
  creatorDate: string
  subject: string
  author: string
  committer: string
  tagger?: string
  annotation?: string
}

const TAG_FORMAT = [
  '%(refname)',
  '%(objecttype)',
  '%(creatordate:iso-strict)',
  // lightweight: the commit's fields
  '%(subject)',
  '%(authorname) %(authoremail)',
  '%(committername) %(committeremail)',
  // annotated: the tag's fields, then the tagged object's
  '%(taggername) %(taggeremail)',
  '%(*objecttype)',
  '%(*subject)',
  '%(*authorname) %(*authoremail)',
  '%(*committername) %(*committeremail)'
].join('%1f')

async function tagMetadata(dir: string, names: string[]): Promise<Map<string, TagMeta>> {
  const wanted = new Set(names)
  const out = await git(['-C', dir, 'for-each-ref', `--format=${TAG_FORMAT}%1e`, 'refs/tags/'])
  const meta = new Map<string, TagMeta>()
  // Peel every wanted ref to its commit in one call (handles tags of tags).
  const refs = names.map((n) => `refs/tags/${n}`)
  const commitIds = (await git(['-C', dir, 'rev-parse', ...refs.map((r) => `${r}^{}`)])).split('\n')
  const peeledOf = new Map(refs.map((r, i) => [r, commitIds[i]]))
  for (const rec of out.split(RS)) {
    const f = rec.replace(/^\n/, '').split(FS)
    if (f.length < 11) continue
    const [
      ref,
      type,
      creatorDate,
      subject,
      author,
      committer,
      tagger,
      targetType,
      tSubject,
      tAuthor,
      tCommitter
    ] = f
    const name = ref.slice('refs/tags/'.length)
    if (!wanted.has(name)) continue
    const id = peeledOf.get(ref)
    if (type === 'commit' && id) {
      meta.set(name, { id, creatorDate, subject, author, committer })
    } else if (type === 'tag' && targetType === 'commit' && id) {
      meta.set(name, {
        id,
        creatorDate,
        subject: tSubject,
        author: tAuthor,
        committer: tCommitter,
        tagger,
        annotation: subject
      })
    } else if (type === 'tag' && targetType === 'tag' && id) {
      // A tag of a tag: commit fields come from a second lookup.
      const c = parseLog(
        await git([
          '-C',
          dir,
          'log',
          '-z',
          '-n1',
          `--format=${LOG_FORMAT}`,
          '--end-of-options',
          id,
          '--'
        ])
      )[0]
      if (c)
        meta.set(name, {
          id,
          creatorDate,
          subject: c.subject,
          author: c.author,
          committer: c.committer,
          tagger,
          annotation: subject
        })
    }
  }
  return meta
}

/** Each commit's own changed paths against its first parent (a root commit: all its files). */
async function changedPaths(dir: string, ids: string[]): Promise<Map<string, string[]>> {
  const out = await git([
    '-C',
    dir,
    'log',
    '-z',
    '--no-walk=unsorted',
    `--format=${LOG_FORMAT}`,
    '--name-status',
    '--no-renames',
    '--diff-merges=first-parent',
    '--end-of-options',
    ...ids,
    '--'
  ])
  return new Map(parseLog(out).map((r) => [r.id, r.paths]))
}
