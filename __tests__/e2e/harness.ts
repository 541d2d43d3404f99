import fs from 'node:fs'
import path from 'node:path'
import { commands } from '../../src/commands/index.js'
import type { CommandArgs, CommandContext, CommandResult } from '../../src/runtime/context.js'
import { servicesFromFlags } from '../../src/cli.js'
import { MemoryLogger } from '../../src/util/logger.js'
import { StateStore } from '../../src/state/store.js'
import type { State } from '../../src/state/types.js'
import { gitIn, sh, tempDir, writeFiles } from '../support/git.js'
import { startGitHttpServer, type GitHttpServer } from '../support/git-http.js'
import { startGitHubFake, type GitHubFake } from '../support/github-fake.js'
import {
  hasDockerRegistry,
  pushImage,
  startRegistry,
  type TestRegistry
} from '../support/registry.js'

/**
 * An end-to-end world for the examples: real bare repositories under one root (served over
 * smart HTTP by `git http-backend` when GitHub is involved), the real loopback registry, and the
 * fake GitHub API. Example configs name realistic URLs (github.com/acme/…, ghcr.io/acme/…); the
 * world rewrites them to the local servers when it installs an example, so the examples stay
 * copy-pasteable for users and the tests still run them as written.
 */
export const EXAMPLES_DIR = path.join(process.cwd(), 'examples')

export interface WorldOptions {
  registry?: boolean
  github?: boolean
}

export interface Repo {
  owner: string
  name: string
  bare: string
  work: string
  /** The URL Waybill uses (http://127.0.0.1:port/owner/name.git with GitHub, else file://). */
  url: string
}

export interface RunResult extends CommandResult {
  logs: string
}

export class World {
  readonly root = tempDir('waybill-e2e-')
  readonly gitRoot = path.join(this.root, 'git')
  readonly token = 'ghs_waybillE2Etoken0123456789'
  http?: GitHttpServer
  github?: GitHubFake
  registry?: TestRegistry
  /** Example URL → local URL, applied to every file an example installs. */
  readonly urlMap = new Map<string, string>()
  /** The clock Waybill sees: tests move it forward to pass intervals and soak times. */
  nowMs = Date.now()
  readonly repos = new Map<string, Repo>()

  static async start(opts: WorldOptions = {}): Promise<World> {
    const w = new World()
    fs.mkdirSync(w.gitRoot, { recursive: true })
    if (opts.github) {
      w.http = await startGitHttpServer(w.gitRoot, { token: w.token })
      w.github = await startGitHubFake({ token: w.token, gitUrl: w.http.url })
    }
    if (opts.registry) {
      if (!hasDockerRegistry)
        throw new Error('docker-registry is not installed (npm test installs it as root)')
      w.registry = await startRegistry()
      w.urlMap.set('ghcr.io/acme', `${w.registry.host}/acme`)
    }
    return w
  }

  async close(): Promise<void> {
    await this.github?.close()
    await this.http?.close()
    await this.registry?.close()
    fs.rmSync(this.root, { recursive: true, force: true })
  }

  /** A repository acme/<name> with `files` on main; example URLs to it are rewritten to it. */
  repo(
    name: string,
    files: Record<string, string> = { 'README.md': `# ${name}\n` },
    owner = 'acme'
  ): Repo {
    const bare = path.join(this.gitRoot, owner, `${name}.git`)
    const work = path.join(this.root, 'work', owner, name)
    const url = this.http ? `${this.http.url}/${owner}/${name}.git` : `file://${bare}`
    for (const variant of [
      `https://github.com/${owner}/${name}.git`,
      `https://github.com/${owner}/${name}`
    ]) {
      this.urlMap.set(variant, url)
    }
    fs.mkdirSync(path.dirname(bare), { recursive: true })
    sh('git', ['init', '-q', '--bare', '-b', 'main', bare])
    sh('git', ['init', '-q', '-b', 'main', work])
    gitIn(work, 'remote', 'add', 'origin', bare)
    writeFiles(work, this.rewrite(files))
    gitIn(work, 'add', '-A')
    gitIn(work, 'commit', '-q', '-m', 'initial')
    gitIn(work, 'push', '-q', 'origin', 'main')
    if (this.github) this.github.addRepo(owner, name, bare)
    const repo = { owner, name, bare, work, url }
    this.repos.set(name, repo)
    return repo
  }

  rewrite(files: Record<string, string>): Record<string, string> {
    const out: Record<string, string> = {}
    // Longest first, so https://github.com/acme/app.git wins over https://github.com/acme/app.
    const pairs = [...this.urlMap.entries()].sort((a, b) => b[0].length - a[0].length)
    for (const [file, text] of Object.entries(files)) {
      let t = text
      for (const [from, to] of pairs) t = t.split(from).join(to)
      out[file] = t
    }
    return out
  }

  /** Every file of examples/<name>/ (except README.md), as relative path → text. */
  exampleFiles(name: string): Record<string, string> {
    const dir = path.join(EXAMPLES_DIR, name)
    const out: Record<string, string> = {}
    const walk = (d: string) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name)
        if (e.isDirectory()) walk(p)
        else if (!(d === dir && e.name === 'README.md'))
          out[path.relative(dir, p)] = fs.readFileSync(p, 'utf8')
      }
    }
    walk(dir)
    return out
  }

  /** Commits and pushes files to a repo's main (example URLs rewritten); returns the commit ID. */
  commit(repo: Repo, files: Record<string, string>, message = 'change'): string {
    writeFiles(repo.work, this.rewrite(files))
    gitIn(repo.work, 'add', '-A')
    gitIn(repo.work, 'commit', '-q', '--allow-empty', '-m', message)
    gitIn(repo.work, 'pull', '-q', '--rebase', 'origin', 'main')
    gitIn(repo.work, 'push', '-q', 'origin', 'HEAD:main')
    return gitIn(repo.work, 'rev-parse', 'HEAD')
  }

  async pushImage(
    repository: string,
    tag: string,
    opts: { created?: string } = {}
  ): Promise<string> {
    if (!this.registry) throw new Error('world has no registry')
    return pushImage(this.registry, repository, tag, {
      created: opts.created ?? new Date(this.nowMs).toISOString()
    })
  }

  /** A file on a branch of a repository, or undefined. */
  file(repo: Repo, branch: string, file: string): string | undefined {
    try {
      return sh('git', ['--git-dir', repo.bare, 'show', `${branch}:${file}`])
    } catch {
      return undefined
    }
  }

  /** The commit a branch points at (compare two to see whether anything was written). */
  tip(repo: Repo, branch: string): string {
    return sh('git', ['--git-dir', repo.bare, 'rev-parse', `refs/heads/${branch}`])
  }

  /** Paths of every file on a branch. */
  files(repo: Repo, branch: string): string[] {
    return sh('git', ['--git-dir', repo.bare, 'ls-tree', '-r', '--name-only', branch])
      .split('\n')
      .filter(Boolean)
  }

  branches(repo: Repo): string[] {
    return sh('git', [
      '--git-dir',
      repo.bare,
      'for-each-ref',
      '--format=%(refname:short)',
      'refs/heads/'
    ])
      .split('\n')
      .filter(Boolean)
  }

  context(
    configRepo: Repo,
    logger: MemoryLogger,
    extra: Partial<CommandContext> = {}
  ): CommandContext {
    const flags: Record<string, unknown> = {
      'insecure-registry': this.registry ? [this.registry.host] : []
    }
    if (this.github) {
      flags.token = this.token
      flags['github-api-url'] = this.github.url
      flags['github-host'] = [new URL(this.http!.url).host]
    }
    const services = servicesFromFlags(flags, { PATH: process.env.PATH })
    if (this.http)
      services.gitCredentials.push({
        urlPrefix: `${this.http.url}/`,
        credentials: { token: this.token }
      })
    return {
      repoDir: configRepo.work,
      configDir: '.waybill',
      stateBranch: 'waybill/state',
      remote: 'origin',
      project: 'e2e',
      json: false,
      logger,
      services,
      actor: 'e2e-tester',
      runURL: 'https://github.com/acme/gitops/actions/runs/1',
      waitMs: 0,
      print: (t) => logger.info(t),
      now: () => new Date(this.nowMs),
      ...extra
    }
  }

  /** Runs a Waybill command in-process against the config repository, as the CLI would. */
  async run(
    configRepo: Repo,
    name: string,
    args: CommandArgs = {},
    extra: Partial<CommandContext> = {}
  ): Promise<RunResult> {
    const logger = new MemoryLogger()
    // Each run happens a second after the last: freight from different runs never shares a
    // discoveredAt, so "newest" is decided by time as it is in real life, not by ID.
    this.nowMs += 1000
    const command = commands[name]
    if (!command) throw new Error(`no command ${name}`)
    gitIn(configRepo.work, 'pull', '-q', '--rebase', 'origin', 'main')
    try {
      const result = await command.run(this.context(configRepo, logger, extra), args)
      return { ...result, logs: logger.text() }
    } catch (err) {
      ;(err as Error).message += `\n--- logs ---\n${logger.text()}`
      throw err
    }
  }

  async state(configRepo: Repo): Promise<State> {
    const store = new StateStore({
      repoDir: configRepo.work,
      remote: 'origin',
      branch: 'waybill/state',
      logger: new MemoryLogger()
    })
    return store.read()
  }

  /** Minutes pass. */
  advance(minutes: number): void {
    this.nowMs += minutes * 60_000
  }
}

/** Alias of the freight current in a stage for an origin (or the only one). */
export function currentAlias(state: State, stage: string, warehouse?: string): string | undefined {
  const c = state.stages[stage]?.freightHistory[0]
  if (!c) return undefined
  const items = Object.entries(c.items).filter(
    ([k]) => !warehouse || k === `Warehouse/${warehouse}`
  )
  return items[0] ? state.freight[items[0][1].name]?.alias : undefined
}

export function freightByImageTag(state: State, tag: string) {
  return Object.values(state.freight).find((f) => f.images.some((i) => i.tag === tag))
}

export function freightByCommit(state: State, id: string) {
  return Object.values(state.freight).find((f) => f.commits.some((c) => c.id === id))
}

/** Freight of a stage's current collection (one per origin), resolved from the state. */
export function stageFreight(state: State, stage: string) {
  const c = state.stages[stage]?.freightHistory[0]
  if (!c) return []
  return Object.values(c.items)
    .map((ref) => state.freight[ref.name])
    .filter((f) => f !== undefined)
}

/** The freight that carries every given image tag (repo suffix → tag) and commit ID, if any. */
export function freightWith(
  state: State,
  want: { images?: Record<string, string>; commit?: string; warehouse?: string }
) {
  return Object.values(state.freight).filter(
    (f) =>
      (!want.warehouse || f.origin.name === want.warehouse) &&
      Object.entries(want.images ?? {}).every(([repo, tag]) =>
        f.images.some((i) => i.repoURL.endsWith(`/${repo}`) && i.tag === tag)
      ) &&
      (!want.commit || f.commits.some((c) => c.id === want.commit))
  )
}

/** The newest promotion of a stage (by creation order), optionally for one freight. */
export function lastPromotion(state: State, stage: string, freightName?: string) {
  return Object.values(state.promotions)
    .filter((p) => p.stage === stage && (!freightName || p.freight === freightName))
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .pop()
}
