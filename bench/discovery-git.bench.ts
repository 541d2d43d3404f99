// Git discovery on a 50,000-commit repository with path filters: first discovery, a walk that
// has to diff the whole history, and an unchanged run that must stop after one `git ls-remote`.
// Run: npm run bench -- discovery-git   (exits non-zero when the unchanged run clones or fetches)
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { discoverCommits, emptyGitStats, GitCloneCache } from '../src/discovery/git/index.js'
import type { GitSubscriptionSpec } from '../src/discovery/git/index.js'
import { defaultServices } from '../src/runtime/services.js'
import { MemoryLogger } from '../src/util/logger.js'

const COMMITS = Number(process.env.BENCH_GIT_COMMITS ?? 50_000)
const APPS = 50

function buildRepo(dir: string): void {
  spawnSync('git', ['init', '-q', '--bare', '-b', 'main', dir], { stdio: 'inherit' })
  // Serve partial clones like GitHub does.
  spawnSync('git', ['-C', dir, 'config', 'uploadpack.allowFilter', 'true'])
  const parts: string[] = []
  const data = (s: string) => `data ${Buffer.byteLength(s)}\n${s}\n`
  const t0 = 1_600_000_000
  for (let i = 1; i <= COMMITS; i++) {
    // Commit i touches one app (round robin), every 10th also writes promotion output under
    // builds/, and only the first 100 touch legacy/ (a filter that forces a full-history walk).
    const app = `apps/app-${i % APPS}/src/file-${i % 7}.txt`
    parts.push(
      `commit refs/heads/main\nmark :${i}\n`,
      `committer Bench <bench@waybill.invalid> ${t0 + i * 60} +0000\n`,
      data(`change ${i}`),
      i > 1 ? `from :${i - 1}\n` : '',
      `M 100644 inline ${app}\n`,
      data(`content ${i}\n`)
    )
    if (i % 10 === 0) parts.push(`M 100644 inline builds/out-${i % 3}.yaml\n`, data(`out ${i}\n`))
    if (i <= 100) parts.push(`M 100644 inline legacy/old-${i}.txt\n`, data(`old ${i}\n`))
    parts.push('\n')
  }
  const res = spawnSync('git', ['-C', dir, 'fast-import', '--quiet'], {
    input: parts.join(''),
    maxBuffer: 1 << 30
  })
  if (res.status !== 0) throw new Error(`fast-import failed: ${res.stderr.toString('utf8')}`)
}

async function time<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t = performance.now()
  const value = await fn()
  return { ms: Math.round(performance.now() - t), value }
}

async function main(): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'waybill-bench-git-'))
  const repo = path.join(root, 'mono.git')
  const built = await time(async () => buildRepo(repo))
  console.log(`built ${COMMITS} commits with git fast-import in ${built.ms} ms`)
  const url = `file://${repo}`
  const services = defaultServices({})
  const logger = new MemoryLogger()
  const rows: string[] = []
  let failed = false

  const subs: Array<[string, GitSubscriptionSpec]> = [
    [
      'includePaths apps/app-7, excludePaths glob:**/*.yaml',
      { repoURL: url, includePaths: ['apps/app-7'], excludePaths: ['glob:**/*.yaml'] }
    ],
    [
      'includePaths regex:^legacy/ (walks all history)',
      { repoURL: url, includePaths: ['regex:^legacy/'] }
    ],
    ['no path filter', { repoURL: url }]
  ]
  for (const [label, sub] of subs) {
    const cache = new GitCloneCache({ workspace: '' })
    const stats = emptyGitStats()
    const first = await time(() => discoverCommits(sub, { services, logger, cache, stats }))
    rows.push(
      `| ${label}: first | ${first.value.commits.length} | ${stats.lsRemote} | ${stats.clones} | ${stats.fetches} | ${first.ms} |`
    )
    await cache.dispose()

    const next = new GitCloneCache({ workspace: '' })
    const s2 = emptyGitStats()
    const again = await time(() =>
      discoverCommits(sub, { services, logger, cache: next, stats: s2, previous: first.value })
    )
    rows.push(
      `| ${label}: unchanged | ${again.value.commits.length} | ${s2.lsRemote} | ${s2.clones} | ${s2.fetches} | ${again.ms} |`
    )
    if (s2.clones || s2.fetches || s2.lsRemote !== 1 || fs.readdirSync(next.dir).length) {
      console.error(`FAIL: unchanged run for "${label}" did more than one ls-remote`, s2)
      failed = true
    }
    await next.dispose()
  }

  // Two warehouses on the same monorepo in one run: one clone, one fetch.
  const shared = new GitCloneCache({ workspace: '' })
  const s3 = emptyGitStats()
  const both = await time(async () => {
    await discoverCommits(subs[0][1], { services, logger, cache: shared, stats: s3 })
    await discoverCommits(subs[2][1], { services, logger, cache: shared, stats: s3 })
  })
  rows.push(
    `| two subscriptions, one run (shared clone) | – | ${s3.lsRemote} | ${s3.clones} | ${s3.fetches} | ${both.ms} |`
  )
  if (s3.clones !== 1 || s3.fetches !== 1) failed = true
  await shared.dispose()

  console.log(
    `\n${COMMITS.toLocaleString('en-US')} commits, file:// remote with uploadpack.allowFilter (blobless clone)\n`
  )
  console.log('| run | commits found | ls-remote | clones | fetches | ms |')
  console.log('|---|---|---|---|---|---|')
  for (const r of rows) console.log(r)
  fs.rmSync(root, { recursive: true, force: true })
  process.exitCode = failed ? 1 : 0
}

await main()
