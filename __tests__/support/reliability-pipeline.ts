import { spawn } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { commitAndPush, gitIn, makeRepo, sh, showFile, tempDir } from './git.js'
import { readBranchState } from './state-branch.js'
import { validateState } from '../../src/state/schema.js'
import type { State } from '../../src/state/types.js'
import { nodeArgs } from './built-entry.js'

/**
 * A small git-only pipeline for the reliability tests: an `app` repository whose main branch is
 * the only discovery source, and a `gitops` repository holding the config, the state branch and
 * one branch per stage. Three stages (test → uat → prod), all auto-promoted; each promotion
 * writes the freight's commit ID to `freight.txt` on `stage/<stage>` in a commit whose message
 * names the promotion, so the stage branches can be checked against the state.
 */
const here = path.dirname(fileURLToPath(import.meta.url))
export const ROOT = path.resolve(here, '..', '..')
export const CLI = path.join(ROOT, 'src', 'cli-entry.ts')
export const STAGES = ['test', 'uat', 'prod'] as const
/**
 * Pipeline shapes: a chain (one promotion at a time), or a fan-out whose four uat stages are
 * claimed in one write and promoted side by side, their results written in batches.
 */
export const SHAPES = {
  chain: { test: '{direct: true}', uat: '{stages: [test]}', prod: '{stages: [uat]}' },
  'fan-out': {
    test: '{direct: true}',
    'uat-a': '{stages: [test]}',
    'uat-b': '{stages: [test]}',
    'uat-c': '{stages: [test]}',
    'uat-d': '{stages: [test]}',
    prod: '{stages: [uat-a]}'
  }
} satisfies Record<string, Record<string, string>>
export type Shape = keyof typeof SHAPES
export const STATE_BRANCH = 'waybill/state'

export interface Pipeline {
  root: string
  /** Stage names, upstream first. */
  stages: string[]
  app: ReturnType<typeof makeRepo>
  gitops: ReturnType<typeof makeRepo>
  /** A fresh clone of the gitops repository (each simulated run has its own). */
  clone(name: string): string
  /** A new commit on the app's main branch; returns its ID. */
  appCommit(n: number | string): string
}

function config(appUrl: string, gitopsUrl: string, shape: Shape): Record<string, string> {
  const stages = SHAPES[shape]
  const stage = (name: string, source: string) =>
    [
      'apiVersion: kargo.akuity.io/v1alpha1',
      'kind: Stage',
      `metadata: {name: ${name}}`,
      'spec:',
      '  requestedFreight:',
      `    - origin: {kind: Warehouse, name: app}`,
      `      sources: ${source}`,
      '  promotionTemplate:',
      '    spec:',
      '      steps:',
      '        - task: {name: render}'
    ].join('\n')
  return {
    '.waybill/project.yaml': [
      'apiVersion: kargo.akuity.io/v1alpha1',
      'kind: ProjectConfig',
      'metadata: {name: reliability}',
      'spec:',
      '  promotionPolicies:',
      ...Object.keys(stages).map(
        (s) => `    - {stageSelector: {name: ${s}}, autoPromotionEnabled: true}`
      ),
      ''
    ].join('\n'),
    '.waybill/warehouse.yaml': [
      'apiVersion: kargo.akuity.io/v1alpha1',
      'kind: Warehouse',
      'metadata: {name: app}',
      'spec:',
      '  interval: 5m',
      '  subscriptions:',
      `    - git: {repoURL: '${appUrl}', branch: main}`,
      ''
    ].join('\n'),
    '.waybill/task.yaml': [
      'apiVersion: kargo.akuity.io/v1alpha1',
      'kind: PromotionTask',
      'metadata: {name: render}',
      'spec:',
      '  steps:',
      '    - uses: git-clone',
      '      config:',
      `        repoURL: '${gitopsUrl}'`,
      '        checkout:',
      '          - {branch: "stage/${{ ctx.stage }}", create: true, path: ./out}',
      '    - uses: file-write',
      '      config:',
      '        path: ./out/freight.txt',
      `        contents: "\${{ commitFrom('${appUrl}').ID }}"`,
      '        overwrite: true',
      '        permissions: "0644"',
      '    - uses: git-commit',
      '      config: {path: ./out, message: "promote ${{ ctx.promotion }}"}',
      '    - uses: git-push',
      '      config: {path: ./out, targetBranch: "stage/${{ ctx.stage }}"}',
      ''
    ].join('\n'),
    '.waybill/stages.yaml':
      Object.entries(stages)
        .map(([name, source]) => stage(name, source))
        .join('\n---\n') + '\n'
  }
}

export function makePipeline(shape: Shape = 'chain'): Pipeline {
  const root = tempDir('waybill-rel-')
  const app = makeRepo({ 'app.txt': '0\n' }, path.join(root, 'app'))
  const gitops = makeRepo({ 'README.md': '# gitops\n' }, path.join(root, 'gitops'))
  commitAndPush(gitops.work, config(app.url, gitops.url, shape), 'waybill config')
  let clones = 0
  return {
    root,
    stages: Object.keys(SHAPES[shape]),
    app,
    gitops,
    clone(name: string) {
      const dir = path.join(root, 'clones', `${name}-${clones++}`)
      sh('git', ['clone', '-q', gitops.bare, dir])
      return dir
    },
    appCommit(n) {
      return commitAndPush(app.work, { 'app.txt': `${n}\n` }, `app ${n}`)
    }
  }
}

export interface CliRun {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  ms: number
}

/**
 * Runs the CLI from sources in its own process group (a kill takes its git children too).
 * `killAfterMs` sends SIGKILL to the whole group after that delay.
 */
export function runCli(
  args: string[],
  opts: {
    env?: NodeJS.ProcessEnv
    killAfterMs?: number
    /** SIGKILL as soon as stderr so far matches (then after `killDelayMs`). */
    killWhen?: RegExp
    killDelayMs?: number
    cwd?: string
  } = {}
): { pid: number; done: Promise<CliRun> } {
  const started = Date.now()
  const child = spawn('node', nodeArgs(CLI, ...args), {
    cwd: opts.cwd ?? ROOT,
    detached: true,
    env: {
      ...process.env,
      GITHUB_TOKEN: '',
      GITHUB_REPOSITORY: '',
      WAYBILL_GIT_AUTHOR_NAME: 'waybill',
      ...opts.env
    },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
  let timer: NodeJS.Timeout | undefined
  const kill = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL')
    } catch {
      // already gone
    }
  }
  let triggered = false
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString()
    if (opts.killWhen && !triggered && opts.killWhen.test(stderr)) {
      triggered = true
      timer = setTimeout(kill, opts.killDelayMs ?? 0)
    }
  })
  if (opts.killAfterMs !== undefined) {
    timer = setTimeout(kill, opts.killAfterMs)
  }
  const done = new Promise<CliRun>((resolve) =>
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer)
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started })
    })
  )
  return { pid: child.pid!, done }
}

export function readState(bare: string): State {
  const doc = readBranchState(bare, STATE_BRANCH)
  if (doc === undefined) throw new Error('no state branch')
  const problems = validateState(doc)
  if (problems.length) throw new Error(`invalid state: ${problems.join('; ')}`)
  return doc
}

export interface StageCommit {
  id: string
  subject: string
  parents: number
}

/** Commits of a stage branch, newest first ([] when the branch does not exist). */
export function stageCommits(bare: string, stage: string): StageCommit[] {
  let out: string
  try {
    out = sh('git', ['--git-dir', bare, 'log', '--format=%H %P%x09%s', `stage/${stage}`])
  } catch {
    return []
  }
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [ids, subject] = line.split('\t')
      const [id, ...parents] = ids.split(' ')
      return { id, subject, parents: parents.length }
    })
}

/**
 * Checks the invariants of a pipeline after any mix of runs; returns the problems found.
 * - every freight once (one per app commit discovered, IDs unique, aliases unique);
 * - stage branches linear, and each stage's current freight is what its branch holds;
 * - each succeeded promotion has exactly one commit on its stage branch, and no commit names a
 *   promotion that is not succeeded or running (a run's steps did not run twice);
 * - no promotion left Running with a live lease holder after runs that all finished.
 */
export function pipelineProblems(
  bare: string,
  opts: { allowRunning?: boolean; allowDuplicateCommits?: boolean; stages?: readonly string[] } = {}
): string[] {
  const problems: string[] = []
  const state = readState(bare)
  const freight = Object.values(state.freight)
  const commits = freight.map((f) => f.commits[0]?.id)
  if (new Set(commits).size !== commits.length)
    problems.push(`the same app commit was recorded as freight more than once`)
  const aliases = freight.map((f) => f.alias)
  if (new Set(aliases).size !== aliases.length) problems.push('duplicate freight aliases')
  for (const stage of opts.stages ?? STAGES) {
    const log = stageCommits(bare, stage)
    const merges = log.filter((c) => c.parents > 1)
    if (merges.length) problems.push(`stage/${stage}: ${merges.length} merge commit(s)`)
    const st = state.stages[stage]
    const current = st?.freightHistory[0]
    const item = current && Object.values(current.items)[0]
    const branchText = showFile(bare, `stage/${stage}`, 'freight.txt')
    if (item) {
      const f = state.freight[item.name]
      const want = f?.commits[0]?.id
      if (branchText?.trim() !== want)
        problems.push(
          `stage/${stage} holds ${branchText?.trim() ?? '(nothing)'} but the state says ${want}`
        )
    } else if (branchText !== undefined && !opts.allowRunning) {
      problems.push(`stage/${stage} has content but the state has no current freight`)
    }
    const perPromotion = new Map<string, number>()
    for (const c of log) {
      const m = /^promote (\S+)$/.exec(c.subject)
      if (m) perPromotion.set(m[1], (perPromotion.get(m[1]) ?? 0) + 1)
    }
    for (const p of Object.values(state.promotions).filter((x) => x.stage === stage)) {
      const n = perPromotion.get(p.name) ?? 0
      if (p.phase === 'Succeeded' && n !== 1 && !(opts.allowDuplicateCommits && n > 1))
        problems.push(`${p.name} succeeded with ${n} commit(s) on stage/${stage}`)
      if (p.phase === 'Running' && !opts.allowRunning)
        problems.push(`${p.name} is still Running after every run finished`)
    }
    for (const name of perPromotion.keys()) {
      const p = state.promotions[name]
      if (!p) problems.push(`stage/${stage} has a commit of unknown promotion ${name}`)
      else if (p.phase !== 'Succeeded' && p.phase !== 'Running' && p.phase !== 'Errored')
        problems.push(`stage/${stage} has a commit of ${name}, which is ${p.phase}`)
    }
  }
  return problems
}

export { gitIn, sh }
