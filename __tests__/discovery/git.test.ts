import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import fs from 'node:fs'
import path from 'node:path'
import {
  discoverCommits,
  emptyGitStats,
  GitCloneCache,
  parseGitUrl,
  type GitSubscriptionSpec
} from '../../src/discovery/git/index.js'
import { parseLog } from '../../src/discovery/git/index.js'
import { compilePathFilter } from '../../src/discovery/path-filter.js'
import { defaultServices, type Services } from '../../src/runtime/services.js'
import { MemoryLogger } from '../../src/util/logger.js'
import { commitAndPush, gitIn, makeRepo, sh, tempDir, writeFiles } from '../support/git.js'
import { startGitHttpServer, type GitHttpServer } from '../support/git-http.js'

const services: Services = defaultServices({})
const caches: GitCloneCache[] = []
function newCache(opts: ConstructorParameters<typeof GitCloneCache>[0] = {}): GitCloneCache {
  const c = new GitCloneCache({ workspace: '', ...opts })
  caches.push(c)
  return c
}
afterAll(async () => {
  for (const c of caches) await c.dispose()
})

/** Commits with a fixed author/committer date (seconds since the epoch). */
function commitAt(
  work: string,
  files: Record<string, string>,
  message: string,
  epoch: number,
  branch = 'main'
): string {
  writeFiles(work, files)
  const date = `${epoch} +0000`
  sh('git', ['add', '-A'], work)
  sh('git', ['commit', '-q', '--allow-empty', '-m', message], work, {
    GIT_AUTHOR_DATE: date,
    GIT_COMMITTER_DATE: date
  })
  gitIn(work, 'push', '-q', 'origin', `HEAD:${branch}`)
  return gitIn(work, 'rev-parse', 'HEAD')
}

function tagAt(work: string, name: string, epoch: number, message?: string, target = 'HEAD'): void {
  const date = `${epoch} +0000`
  const env = { GIT_COMMITTER_DATE: date }
  if (message) sh('git', ['tag', '-a', name, '-m', message, target], work, env)
  else sh('git', ['tag', name, target], work, env)
  gitIn(work, 'push', '-q', 'origin', `refs/tags/${name}`)
}

async function discover(
  sub: GitSubscriptionSpec,
  extra: Partial<Parameters<typeof discoverCommits>[1]> = {}
) {
  const logger = new MemoryLogger()
  const cache = extra.cache ?? newCache()
  const res = await discoverCommits(sub, { services, logger, cache, ...extra })
  return { res, cache, logger, ids: res.commits.map((c) => c.id) }
}

describe('path selectors', () => {
  it('matches plain prefixes, globs and unanchored regexes', () => {
    const f = (inc: string[], exc: string[] = []) => compilePathFilter(inc, exc)
    expect(f(['apps/web']).matches(['apps/web/index.ts'])).toBe(true)
    expect(f(['apps/web']).matches(['apps/web'])).toBe(true)
    expect(f(['apps/web']).matches(['apps/website/x'])).toBe(false)
    expect(f(['./apps/web/']).matches(['apps/web/a'])).toBe(true)
    expect(f(['glob:apps/*/Dockerfile']).matches(['apps/web/Dockerfile'])).toBe(true)
    expect(f(['glob:apps/*/Dockerfile']).matches(['apps/web/sub/Dockerfile'])).toBe(false)
    expect(f(['glob:apps/**/*.yaml']).matches(['apps/a/b/.hidden.yaml'])).toBe(true)
    expect(f(['regex:\\.ya?ml$']).matches(['deep/x.yml'])).toBe(true)
    expect(f(['regexp:web']).matches(['apps/webapp/x'])).toBe(true)
    expect(f([], ['builds']).matches(['builds/prod/x.yaml'])).toBe(false)
    expect(f([], ['builds']).matches(['builds/prod/x.yaml', 'src/a.ts'])).toBe(true)
    expect(f(['src'], ['glob:**/*.md']).matches(['src/README.md'])).toBe(false)
    expect(f(['src']).matches([])).toBe(false)
    expect(() => f(['regex:(']).matches(['x'])).toThrow(
      /includePaths\[0\].*invalid regular expression/
    )
  })
})

describe('git URLs', () => {
  it('accepts https, http, file, ssh and SCP-style (deprecated)', () => {
    expect(parseGitUrl('https://github.com/o/r.git').kind).toBe('https')
    expect(parseGitUrl('file:///tmp/x.git').kind).toBe('file')
    expect(parseGitUrl('ssh://git@github.com/o/r.git')).toMatchObject({
      kind: 'ssh',
      deprecated: true
    })
    expect(parseGitUrl('git@github.com:o/r.git')).toMatchObject({
      kind: 'scp',
      deprecated: true,
      normalized: 'ssh://git@github.com/o/r'
    })
    expect(() => parseGitUrl('ftp://x/y')).toThrow(/unsupported repository URL/)
    expect(() => parseGitUrl('--upload-pack=evil')).toThrow(/invalid repository URL/)
    expect(parseGitUrl('https://github.com/O/R.git/').normalized).toBe(
      parseGitUrl('https://github.com/o/r').normalized
    )
  })

  it('notes SSH deprecation before trying the remote', async () => {
    const logger = new MemoryLogger()
    await expect(
      discoverCommits(
        { repoURL: 'git@127.0.0.1:nothing/here.git' },
        { services, logger, cache: newCache() }
      )
    ).rejects.toThrow()
    expect(logger.text()).toMatch(/notice: .*SSH URLs .* deprecated/)
  })
})

describe('NewestFromBranch', () => {
  let repo: ReturnType<typeof makeRepo>
  const c: Record<string, string> = {}
  beforeAll(() => {
    repo = makeRepo({ 'README.md': 'x\n', 'apps/web/index.ts': '1', 'apps/api/main.go': '1' })
    c.root = gitIn(repo.work, 'rev-parse', 'HEAD')
    c.web = commitAt(repo.work, { 'apps/web/index.ts': '2' }, 'web change', 1_700_000_000)
    c.api = commitAt(repo.work, { 'apps/api/main.go': '2' }, 'api change', 1_700_000_100)
    c.docs = commitAt(repo.work, { 'docs/guide.md': 'g' }, 'docs [skip]', 1_700_000_200)
    c.yaml = commitAt(repo.work, { 'deploy/values.yml': 'v' }, 'values', 1_700_000_300)
    c.empty = commitAt(repo.work, {}, 'empty commit', 1_700_000_400)
    // A side branch merged with --no-ff: the merge's own diff (vs first parent) holds the side's files.
    gitIn(repo.work, 'checkout', '-q', '-b', 'feature')
    c.side = commitAt(
      repo.work,
      { 'apps/web/feature.ts': 'f' },
      'side work',
      1_700_000_500,
      'feature'
    )
    gitIn(repo.work, 'checkout', '-q', 'main')
    c.mainOnly = commitAt(repo.work, { 'apps/api/other.go': 'o' }, 'api other', 1_700_000_600)
    sh('git', ['merge', '-q', '--no-ff', 'feature', '-m', 'merge feature'], repo.work, {
      GIT_AUTHOR_DATE: '1700000700 +0000',
      GIT_COMMITTER_DATE: '1700000700 +0000'
    })
    gitIn(repo.work, 'push', '-q', 'origin', 'main')
    c.merge = gitIn(repo.work, 'rev-parse', 'HEAD')
  })

  it('uses the remote HEAD branch and records Kargo commit fields', async () => {
    const { res, ids } = await discover({ repoURL: repo.url }, { subscriptionName: 'src' })
    expect(ids[0]).toBe(c.merge)
    expect(ids).toContain(c.side)
    expect(ids).toContain(c.root)
    expect(ids).toHaveLength(9)
    expect(res.subscriptionName).toBe('src')
    expect(res.observedRefs).toEqual({ branchHead: c.merge })
    const web = res.commits.find((x) => x.id === c.web)!
    expect(web).toEqual({
      id: c.web,
      branch: 'main',
      subject: 'web change',
      author: 'Waybill Test <test@waybill.invalid>',
      committer: 'Waybill Test <test@waybill.invalid>',
      creatorDate: '2023-11-14T22:13:20Z'
    })
  })

  it('evaluates plain-prefix path filters on each commit’s own diff (merge vs first parent)', async () => {
    const { ids } = await discover({ repoURL: repo.url, includePaths: ['apps/web'] })
    // merge (brings apps/web/feature.ts vs its first parent), the side commit itself, web, root.
    expect(ids).toEqual([c.merge, c.side, c.web, c.root])
  })

  it('evaluates glob: selectors with ** and excludes', async () => {
    const { ids } = await discover({
      repoURL: repo.url,
      includePaths: ['glob:apps/**/*.go'],
      excludePaths: ['glob:**/other.go']
    })
    expect(ids).toEqual([c.api, c.root])
  })

  it('evaluates regex: selectors unanchored; an empty commit never matches a filter', async () => {
    const { ids } = await discover({
      repoURL: repo.url,
      includePaths: ['regex:\\.ya?ml$', 'regexp:guide']
    })
    expect(ids).toEqual([c.yaml, c.docs])
    const all = await discover({ repoURL: repo.url, excludePaths: ['apps'] })
    expect(all.ids).toEqual([c.yaml, c.docs, c.root])
  })

  it('applies expressionFilter, since and discoveryLimit', async () => {
    const f = await discover({
      repoURL: repo.url,
      expressionFilter:
        "!(subject contains '[skip]') && commitDate.Year() == 2023 && author contains 'Waybill'",
      discoveryLimit: 3
    })
    expect(f.ids).toEqual([c.merge, c.mainOnly, c.side])
    const skip = await discover({
      repoURL: repo.url,
      expressionFilter: "!(subject contains '[skip]')"
    })
    expect(skip.ids).not.toContain(c.docs)
    expect(skip.ids).toHaveLength(8)
    const since = await discover({ repoURL: repo.url, since: '2023-11-14T22:18:20Z' })
    // 1700000300 = 22:18:20Z: commits at or after it.
    expect(since.ids).toEqual([c.merge, c.mainOnly, c.side, c.empty, c.yaml])
    await expect(discover({ repoURL: repo.url, since: 'yesterday' })).rejects.toThrow(
      /since.*RFC 3339/
    )
    await expect(discover({ repoURL: repo.url, expressionFilter: 'subject' })).rejects.toThrow(
      /expressionFilter.*must evaluate to a boolean/
    )
  })

  it('reports a missing branch and refuses Waybill’s own branches', async () => {
    await expect(discover({ repoURL: repo.url, branch: 'nope' })).rejects.toThrow(
      /branch 'nope' not found/
    )
    await expect(
      discover({ repoURL: repo.url, branch: 'waybill/promotion/test-abc' })
    ).rejects.toThrow(/feedback loop/)
    await expect(
      discover(
        { repoURL: repo.url, branch: 'env/prod' },
        { reservedBranches: ['waybill/state', 'env/prod'] }
      )
    ).rejects.toThrow(/feedback loop/)
  })

  it('follows an explicit branch', async () => {
    const { ids, res } = await discover({ repoURL: repo.url, branch: 'feature', discoveryLimit: 1 })
    expect(ids).toEqual([c.side])
    expect(res.commits[0].branch).toBe('feature')
  })
})

describe('ls-remote short-circuit, clone cache and feedback loops', () => {
  it('clones a monorepo once for two subscriptions and skips the clone when nothing changed', async () => {
    const repo = makeRepo({ 'apps/a/x': '1', 'apps/b/x': '1' })
    const a1 = commitAndPush(repo.work, { 'apps/a/x': '2' }, 'a')
    const b1 = commitAndPush(repo.work, { 'apps/b/x': '2' }, 'b')
    const cache = newCache()
    const subA = { repoURL: repo.url, includePaths: ['apps/a'] }
    const subB = { repoURL: repo.url + '/', includePaths: ['apps/b'] }
    const ra = await discover(subA, { cache })
    const rb = await discover(subB, { cache })
    expect(ra.ids[0]).toBe(a1)
    expect(rb.ids[0]).toBe(b1)
    expect(cache.stats).toEqual({ lsRemote: 2, clones: 1, fetches: 1, workspaceReuse: 0 })

    // Next run: nothing changed → ls-remote only.
    const next = newCache()
    const stats = emptyGitStats()
    const again = await discover(subA, { cache: next, previous: ra.res, stats })
    expect(again.res).toEqual(ra.res)
    expect(stats).toEqual({ lsRemote: 1, clones: 0, fetches: 0, workspaceReuse: 0 })
    expect(fs.readdirSync(next.dir)).toEqual([])

    // Pushes to the state branch, a stage branch and a promotion branch change nothing.
    gitIn(repo.work, 'checkout', '-q', '--orphan', 'state')
    commitAndPush(repo.work, { 'state.json': '{}' }, 'state', 'waybill/state')
    commitAndPush(repo.work, { 'apps/a/x': 'rendered' }, 'stage', 'env/prod')
    commitAndPush(repo.work, { 'apps/a/x': 'promo' }, 'promo', 'waybill/promotion/prod.abc')
    gitIn(repo.work, 'checkout', '-q', '-f', 'main')
    const third = await discover(subA, { cache: newCache(), previous: ra.res, stats })
    expect(third.res.commits).toEqual(ra.res.commits)
    expect(stats.clones).toBe(0)

    // A write-back to main under an excluded output path: the head moves (so it fetches) but
    // no new candidate appears.
    const sub = { repoURL: repo.url, excludePaths: ['builds'] }
    const before = await discover(sub)
    commitAndPush(repo.work, { 'builds/prod/app.yaml': 'rendered' }, 'promotion output')
    const after = await discover(sub, { previous: before.res })
    expect(after.res.observedRefs!.branchHead).not.toBe(before.res.observedRefs!.branchHead)
    expect(after.ids).toEqual(before.ids)
    // A real source change does produce a new candidate.
    const a2 = commitAndPush(repo.work, { 'apps/a/x': '3' }, 'a again')
    const fourth = await discover(subA, { previous: ra.res })
    expect(fourth.ids[0]).toBe(a2)
  })

  it('reuses the workflow checkout’s objects for the repository the action runs in', async () => {
    const repo = makeRepo({ 'a.txt': '1' })
    commitAndPush(repo.work, { 'a.txt': '2' }, 'two')
    const cache = newCache({ workspace: repo.work })
    const { ids } = await discover({ repoURL: repo.url }, { cache })
    expect(ids).toHaveLength(2)
    expect(cache.stats.workspaceReuse).toBe(1)
    const alt = fs.readFileSync(
      path.join(cache.dir, fs.readdirSync(cache.dir)[0], 'objects/info/alternates'),
      'utf8'
    )
    expect(alt.trim()).toBe(path.join(repo.work, '.git', 'objects'))
    // A shallow checkout is not borrowed from.
    const shallow = path.join(tempDir(), 'shallow')
    sh('git', ['clone', '-q', '--depth', '1', repo.url, shallow])
    const c2 = newCache({ workspace: shallow })
    await discover({ repoURL: repo.url }, { cache: c2 })
    expect(c2.stats.workspaceReuse).toBe(0)
  })
})

describe('tag strategies', () => {
  let repo: ReturnType<typeof makeRepo>
  const c: Record<string, string> = {}
  beforeAll(() => {
    repo = makeRepo({ 'app/a': '0' })
    c.c1 = commitAt(repo.work, { 'app/a': '1' }, 'one', 1_700_000_000)
    tagAt(repo.work, 'v1.0.0', 1_700_000_000) // lightweight: creatordate = commit date
    c.c2 = commitAt(repo.work, { 'docs/x': '1' }, 'docs', 1_700_000_100)
    tagAt(repo.work, 'v1.1.0', 1_700_000_900, 'Release 1.1.0\n\nnotes') // annotated, tagged late
    c.c3 = commitAt(repo.work, { 'app/a': '3' }, 'three', 1_700_000_200)
    tagAt(repo.work, 'v2.0.0-rc.1', 1_700_000_200, 'rc')
    tagAt(repo.work, 'v1.2', 1_700_000_300) // not strict semver
    tagAt(repo.work, 'zeta', 1_700_000_050, undefined, c.c1)
    tagAt(repo.work, 'nightly-2', 1_700_000_400, 'nightly')
  })

  it('SemVer: strict by default, constraint, newest first, annotated and lightweight', async () => {
    const { res, ids } = await discover({ repoURL: repo.url, commitSelectionStrategy: 'SemVer' })
    expect(res.commits.map((x) => x.tag)).toEqual(['v2.0.0-rc.1', 'v1.1.0', 'v1.0.0'])
    expect(ids).toEqual([c.c3, c.c2, c.c1])
    const annotated = res.commits[1]
    expect(annotated).toMatchObject({
      id: c.c2,
      tag: 'v1.1.0',
      subject: 'docs',
      creatorDate: '2023-11-14T22:28:20Z'
    })
    const loose = await discover({
      repoURL: repo.url,
      commitSelectionStrategy: 'SemVer',
      strictSemvers: false,
      semverConstraint: '^1.0.0'
    })
    expect(loose.res.commits.map((x) => x.tag)).toEqual(['v1.2', 'v1.1.0', 'v1.0.0'])
    expect(loose.res.observedRefs!.tags).toEqual([
      { name: 'v1.2', id: c.c3 },
      { name: 'v1.1.0', id: c.c2 },
      { name: 'v1.0.0', id: c.c1 }
    ])
  })

  it('Lexical with allow/ignore regexes, and NewestTag by creator date', async () => {
    const lex = await discover({
      repoURL: repo.url,
      commitSelectionStrategy: 'Lexical',
      ignoreTagsRegexes: ['^nightly'],
      allowTagsRegexes: ['^v', 'eta']
    })
    expect(lex.res.commits.map((x) => x.tag)).toEqual([
      'zeta',
      'v2.0.0-rc.1',
      'v1.2',
      'v1.1.0',
      'v1.0.0'
    ])
    const newest = await discover({ repoURL: repo.url, commitSelectionStrategy: 'NewestTag' })
    // v1.1.0 was tagged (annotated) last; lightweight tags use their commit's date.
    // Ties (same date) are broken by name, greatest first.
    expect(newest.res.commits.map((x) => x.tag)).toEqual([
      'v1.1.0',
      'nightly-2',
      'v2.0.0-rc.1',
      'v1.2',
      'zeta',
      'v1.0.0'
    ])
  })

  it('tag expressionFilter sees tag, tagger and annotation; path filters apply to the tagged commit', async () => {
    const ann = await discover({
      repoURL: repo.url,
      commitSelectionStrategy: 'NewestTag',
      expressionFilter:
        "annotation == 'Release 1.1.0' || tag startsWith 'nightly' && tagger contains 'Waybill'"
    })
    expect(ann.res.commits.map((x) => x.tag)).toEqual(['v1.1.0', 'nightly-2'])
    const paths = await discover({
      repoURL: repo.url,
      commitSelectionStrategy: 'SemVer',
      includePaths: ['app']
    })
    expect(paths.res.commits.map((x) => x.tag)).toEqual(['v2.0.0-rc.1', 'v1.0.0'])
    const year = await discover({
      repoURL: repo.url,
      commitSelectionStrategy: 'Lexical',
      expressionFilter: 'creatorDate.Year() < 2023',
      discoveryLimit: 5
    })
    expect(year.res.commits).toEqual([])
  })

  it('short-circuits on an unchanged filtered tag set; a new tag refetches', async () => {
    const sub: GitSubscriptionSpec = { repoURL: repo.url, commitSelectionStrategy: 'SemVer' }
    const first = await discover(sub)
    // A tag the filter drops changes nothing.
    tagAt(repo.work, 'not-a-version', 1_700_001_000)
    const stats = emptyGitStats()
    const second = await discover(sub, { previous: first.res, stats })
    expect(second.res).toEqual(first.res)
    expect(stats).toMatchObject({ lsRemote: 1, clones: 0, fetches: 0 })
    tagAt(repo.work, 'v3.0.0', 1_700_001_100, 'three')
    const third = await discover(sub, { previous: first.res, stats })
    expect(third.res.commits[0].tag).toBe('v3.0.0')
    expect(stats.clones).toBe(1)
  })

  it('rejects the deprecated allowTags/ignoreTags', async () => {
    await expect(discover({ repoURL: repo.url, allowTags: '^v' })).rejects.toThrow(
      /allowTags is no longer supported/
    )
    await expect(discover({ repoURL: repo.url, ignoreTags: ['x'] })).rejects.toThrow(/ignoreTags/)
  })
})

describe('smart HTTP with token auth', () => {
  let server: GitHttpServer
  let root: string
  let repo: ReturnType<typeof makeRepo>
  beforeAll(async () => {
    root = tempDir()
    repo = makeRepo({ 'src/a': '1' }, root)
    commitAndPush(repo.work, { 'src/a': '2' }, 'two')
    server = await startGitHttpServer(root, { token: 'sekret-token-1234' })
  })
  afterAll(() => server.close())

  it('authenticates with the token for the URL prefix and never leaks it', async () => {
    const url = `${server.url}/remote.git`
    const authed: Services = {
      ...services,
      gitCredentials: [{ urlPrefix: `${server.url}/`, credentials: { token: 'sekret-token-1234' } }]
    }
    const logger = new MemoryLogger()
    const cache = newCache()
    const res = await discoverCommits(
      { repoURL: url, includePaths: ['src'] },
      { services: authed, logger, cache }
    )
    expect(res.commits).toHaveLength(2)
    expect(server.requests.some((r) => r.authorized && r.path.endsWith('git-upload-pack'))).toBe(
      true
    )

    const bad: Services = {
      ...services,
      gitCredentials: [{ urlPrefix: `${server.url}/`, credentials: { token: 'wrong-token-999' } }]
    }
    const err = await discoverCommits(
      { repoURL: url },
      { services: bad, logger, cache: newCache() }
    ).catch((e: Error) => e)
    expect(err).toBeInstanceOf(Error)
    expect((err as Error).message).toMatch(/ls-remote/)
    expect((err as Error).message).not.toContain('wrong-token-999')
    expect(logger.text()).not.toContain('sekret-token-1234')
  })
})

describe('log parsing', () => {
  it('handles paths with spaces and records without diffs', () => {
    const out =
      '\x1eabc\x1f2024-01-01T00:00:00Z\x1fA <a>\x1fC <c>\x1fsubj\0\nA\0d/sp ace.txt\0M\0b\0\x1edef\x1f2024-01-01T00:00:00Z\x1fA <a>\x1fC <c>\x1fs2'
    expect(parseLog(out)).toEqual([
      {
        id: 'abc',
        commitDate: '2024-01-01T00:00:00Z',
        author: 'A <a>',
        committer: 'C <c>',
        subject: 'subj',
        paths: ['d/sp ace.txt', 'b']
      },
      {
        id: 'def',
        commitDate: '2024-01-01T00:00:00Z',
        author: 'A <a>',
        committer: 'C <c>',
        subject: 's2',
        paths: []
      }
    ])
  })
})
