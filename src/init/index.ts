/**
 * `waybill init`: infers what it can from the repository (origin URL, default branch, Helm or
 * Kustomize layout, stage folders, the image named in the first stage's config), then writes
 * the `.waybill/` resources and the workflow files. A file it wrote before and the user has not
 * edited since is regenerated; an edited file is kept unless `force`.
 */
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { parse as parseYaml } from 'yaml'
import { gitTry } from '../git/git.js'
import { UsageError } from '../util/errors.js'
import {
  initFiles,
  stateBranchRulesetSteps,
  LAYOUTS,
  PATTERNS,
  type InitFile,
  type InitLayout,
  type InitOptions,
  type InitPattern
} from './templates.js'

export * from './templates.js'

export interface InitRequest {
  repoDir: string
  configDir?: string
  pattern?: string
  image?: string
  gitRepo?: string
  branch?: string
  stages?: string | string[]
  layout?: string
  project?: string
  force?: boolean
}

export type InitFileAction = 'created' | 'updated' | 'unchanged' | 'kept' | 'overwritten'

export interface InitResult {
  options: InitOptions
  files: Array<{ path: string; action: InitFileAction }>
  /** What was inferred and from where, for the user. */
  inferred: string[]
}

const MARKER = '# waybill-init checksum:'
const STAGE_ORDER = ['dev', 'develop', 'test', 'qa', 'int', 'uat', 'staging', 'stage', 'preprod']
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/

function checksum(text: string): string {
  return crypto.createHash('sha256').update(text).digest('hex').slice(0, 16)
}

/** Appends the line that lets a later init tell an untouched file from an edited one. */
export function withMarker(content: string): string {
  return `${content}${MARKER} ${checksum(content)} (edited files are kept by waybill init unless --force)\n`
}

/** True when the text carries a marker whose checksum still matches: nobody edited it. */
export function isUntouched(text: string): boolean {
  const i = text.lastIndexOf(MARKER)
  if (i < 0) return false
  const m = /^ ([0-9a-f]{16})/.exec(text.slice(i + MARKER.length))
  return Boolean(m && checksum(text.slice(0, i)) === m[1])
}

/** git@host:owner/repo.git and ssh://git@host/owner/repo → https://host/owner/repo.git. */
export function httpsGitUrl(url: string): string {
  const scp = /^[\w.-]+@([\w.-]+):(?!\/)(.+)$/.exec(url)
  if (scp) return `https://${scp[1]}/${scp[2]}`
  const ssh = /^ssh:\/\/(?:[\w.-]+@)?([\w.-]+)(?::\d+)?\/(.+)$/.exec(url)
  if (ssh) return `https://${ssh[1]}/${ssh[2]}`
  return url
}

async function gitOut(repoDir: string, args: string[]): Promise<string | undefined> {
  const r = await gitTry(args, { cwd: repoDir })
  return r.code === 0 ? r.stdout.trim() || undefined : undefined
}

function sortStages(names: string[]): string[] {
  const rank = (n: string) => {
    if (/^prod/.test(n)) return 1000
    const i = STAGE_ORDER.indexOf(n)
    return i < 0 ? 500 : i
  }
  return [...names].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))
}

function readYaml(file: string): unknown {
  try {
    return parseYaml(fs.readFileSync(file, 'utf8'))
  } catch {
    return undefined
  }
}

/** The image the existing config names: a Kustomization's images[0] or values.yaml image.repository. */
function imageFromConfig(repoDir: string, stage: string | undefined): string | undefined {
  const dirs = [stage && path.join('stages', stage), 'base', '.'].filter(Boolean) as string[]
  for (const d of dirs) {
    for (const f of ['kustomization.yaml', 'kustomization.yml']) {
      const doc = readYaml(path.join(repoDir, d, f)) as { images?: Array<{ name?: string }> }
      const name = doc?.images?.[0]?.name
      if (typeof name === 'string' && name) return name
    }
    const values = readYaml(path.join(repoDir, d, 'values.yaml')) as {
      image?: { repository?: string }
    }
    const repo = values?.image?.repository
    if (typeof repo === 'string' && repo) return repo
  }
  return undefined
}

function list(v: string | string[] | undefined): string[] {
  if (!v) return []
  return (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(/[\s,]+/)).filter(Boolean)
}

/** Fills in everything the flags leave out, or says which flag is needed. */
export async function resolveInitOptions(
  req: InitRequest
): Promise<{ options: InitOptions; inferred: string[] }> {
  const inferred: string[] = []
  const repoDir = req.repoDir
  const configDir = (req.configDir ?? '.waybill').replace(/\/+$/, '')

  if (req.layout && !(LAYOUTS as readonly string[]).includes(req.layout))
    throw new UsageError(
      `--layout must be one of ${LAYOUTS.join(', ')} (got '${req.layout}')`,
      'helm: stages/<stage>/values.yaml next to Chart.yaml; kustomize: stages/<stage>/kustomization.yaml'
    )
  let layout = req.layout as InitLayout | undefined
  if (!layout) {
    layout = fs.existsSync(path.join(repoDir, 'Chart.yaml')) ? 'helm' : 'kustomize'
    inferred.push(
      `layout ${layout} (${layout === 'helm' ? 'Chart.yaml found' : 'no Chart.yaml at the root'})`
    )
  }

  let stages = list(req.stages)
  if (!stages.length) {
    const dir = path.join(repoDir, 'stages')
    const found = fs.existsSync(dir)
      ? fs
          .readdirSync(dir, { withFileTypes: true })
          .filter((e) => e.isDirectory() && DNS_LABEL.test(e.name))
          .map((e) => e.name)
      : []
    stages = found.length ? sortStages(found) : ['test', 'uat', 'prod']
    inferred.push(
      `stages ${stages.join(', ')} (${found.length ? 'folders in stages/' : 'the default'})`
    )
  }
  for (const s of stages)
    if (!DNS_LABEL.test(s) || s.length > 63)
      throw new UsageError(
        `stage name '${s}' must be a lowercase DNS label (a-z, 0-9 and '-')`,
        'e.g. --stages test,uat,prod'
      )
  if (new Set(stages).size !== stages.length)
    throw new UsageError(`--stages lists a stage twice: ${stages.join(',')}`)

  let gitRepo = req.gitRepo
  if (!gitRepo) {
    const origin = await gitOut(repoDir, ['remote', 'get-url', 'origin'])
    if (!origin)
      throw new UsageError(
        `cannot tell the config repository: ${repoDir} has no 'origin' remote`,
        'pass --git-repo https://github.com/<owner>/<repo>.git'
      )
    gitRepo = httpsGitUrl(origin)
    inferred.push(`config repository ${gitRepo} (the origin remote)`)
  }

  let branch = req.branch
  if (!branch) {
    const head = await gitOut(repoDir, ['symbolic-ref', '--short', 'refs/remotes/origin/HEAD'])
    const current = await gitOut(repoDir, ['symbolic-ref', '--short', 'HEAD'])
    branch = head?.replace(/^origin\//, '') ?? current ?? 'main'
    inferred.push(`branch ${branch}`)
  }

  let image = req.image
  if (!image) {
    image = imageFromConfig(repoDir, stages[0])
    if (image) inferred.push(`image ${image} (from the existing config)`)
  }

  if (req.pattern && !(PATTERNS as readonly string[]).includes(req.pattern))
    throw new UsageError(
      `--pattern must be one of ${PATTERNS.join(', ')} (got '${req.pattern}')`,
      'see docs/patterns/ for the others: start from one of these three and edit'
    )
  let pattern = req.pattern as InitPattern | undefined
  if (!pattern) {
    pattern = image ? 'common-case' : 'config-updater'
    inferred.push(`pattern ${pattern} (${image ? 'an image is known' : 'no image given or found'})`)
  }
  if ((pattern === 'image-updater' || pattern === 'common-case') && !image)
    throw new UsageError(
      `the ${pattern} pattern needs the image repository to watch`,
      'pass --image ghcr.io/<owner>/<name>'
    )

  let project = req.project
  if (!project) {
    const base = gitRepo
      .replace(/\/+$/, '')
      .replace(/\.git$/, '')
      .split(/[/:]/)
      .pop()
    project =
      (base ?? '')
        .toLowerCase()
        .replace(/[^a-z0-9-]+/g, '-')
        .replace(/^-+|-+$/g, '')
        .slice(0, 63) || 'waybill'
  }
  if (!DNS_LABEL.test(project))
    throw new UsageError(`project name '${project}' must be a lowercase DNS label`)

  return {
    options: {
      pattern,
      image: pattern === 'config-updater' ? undefined : image,
      gitRepo,
      branch,
      stages,
      layout,
      project,
      configDir
    },
    inferred
  }
}

/** Writes the files, keeping any the user edited unless `force`. */
export function writeInitFiles(
  repoDir: string,
  files: InitFile[],
  force: boolean
): InitResult['files'] {
  const out: InitResult['files'] = []
  for (const f of files) {
    const abs = path.join(repoDir, ...f.path.split('/'))
    const content = withMarker(f.content)
    let action: InitFileAction
    if (!fs.existsSync(abs)) action = 'created'
    else {
      const existing = fs.readFileSync(abs, 'utf8')
      if (existing === content) action = 'unchanged'
      else if (isUntouched(existing)) action = 'updated'
      else if (force) action = 'overwritten'
      else action = 'kept'
    }
    if (action === 'created' || action === 'updated' || action === 'overwritten') {
      fs.mkdirSync(path.dirname(abs), { recursive: true })
      fs.writeFileSync(abs, content)
    }
    out.push({ path: f.path, action })
  }
  return out
}

export async function runInit(req: InitRequest): Promise<InitResult> {
  const { options, inferred } = await resolveInitOptions(req)
  const files = writeInitFiles(req.repoDir, initFiles(options), Boolean(req.force))
  return { options, files, inferred }
}

export interface NextStepsInput {
  result: InitResult
  /** Where init wrote (absolute). */
  repoDir: string
  /** Where the user ran it: paths and commands are given relative to it. */
  cwd: string
  stateBranch: string
}

/**
 * What to do after `waybill init`, as commands that work from where it was run: the files it
 * really wrote, the branch to push them to, the environment that gates the last stage, and the
 * ruleset that keeps the state branch to the workflows.
 */
export function nextSteps({ result, repoDir, cwd, stateBranch }: NextStepsInput): string[] {
  const { options } = result
  const rel = path.relative(cwd, repoDir)
  const inRepo = rel === '' ? [] : ['-C', rel]
  const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)
  const cmd = (...args: string[]) => args.map(quote).join(' ')
  const written = result.files
    .filter((f) => f.action === 'created' || f.action === 'updated' || f.action === 'overwritten')
    .map((f) => f.path)
  const configPrefix = `${options.configDir.replace(/\/+$/, '')}/`
  const paths = [
    ...(written.some((f) => f.startsWith(configPrefix)) ? [options.configDir] : []),
    ...written.filter((f) => !f.startsWith(configPrefix))
  ]
  const validate = ['waybill', 'validate']
  if (rel) validate.push('--repo-dir', rel)
  if (options.configDir !== '.waybill') validate.push('--config', options.configDir)
  const last = options.stages[options.stages.length - 1]
  const lines = ['Next steps:', `  1. Check the config: ${cmd(...validate)}`]
  if (paths.length)
    lines.push(
      `  2. Commit and push what init wrote to ${options.branch}:`,
      `       ${cmd('git', ...inRepo, 'add', '--', ...paths)}`,
      `       ${cmd('git', ...inRepo, 'commit', '-m', 'Add the Waybill pipeline')}`,
      `       ${cmd('git', ...inRepo, 'push', 'origin', `HEAD:${options.branch}`)}`
    )
  else lines.push(`  2. Nothing new to commit: the files are as init would write them.`)
  lines.push(
    `  3. Create the environment ${last} with required reviewers (it gates promotions to ${last}):`,
    `     Settings → Environments → New environment → ${last} → Required reviewers`,
    `  4. ${stateBranchRulesetSteps(stateBranch).join('\n')}`
  )
  return lines
}
