import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import picomatch from 'picomatch'
import { z } from 'zod'
import type { StepContext, StepResult } from '../types.js'
import { confinedPath } from '../../util/paths.js'
import { ConfigFieldError, ToolError, WaybillError } from '../../util/errors.js'
import { runTool, type RunOptions, type RunResult } from '../../util/exec.js'
import { readFileNoFollow, writeFileNoFollow } from '../../util/fs-confined.js'

export const nonEmpty = z.string().min(1)

/** confinedPath, with the field name prefixed by the step name. */
export function stepPath(ctx: StepContext, step: string, field: string, rel: string): string {
  return confinedPath(ctx.workDir, rel, `${step}.${field}`)
}

export function succeeded(outputs?: Record<string, unknown>, message?: string): StepResult {
  return { status: 'Succeeded', ...(outputs ? { outputs } : {}), ...(message ? { message } : {}) }
}

export function exists(p: string): boolean {
  try {
    fs.lstatSync(p)
    return true
  } catch {
    return false
  }
}

/** Reads a file named by a config field, with an error naming the field when it is missing. */
export function readConfigFile(full: string, field: string, rel: string): string {
  try {
    return readFileNoFollow(full).toString('utf8')
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    throw new ConfigFieldError(
      field,
      code === 'ENOENT'
        ? `'${rel}' does not exist`
        : `cannot read '${rel}': ${(e as Error).message}`
    )
  }
}

/**
 * Writes a file atomically (temp file + rename), keeping the existing mode; a symlink at `full`
 * is replaced, never written through. `full` comes from stepPath (resolved inside the work dir).
 */
export function writeFileAtomic(full: string, content: string | Buffer, mode?: number): void {
  writeFileNoFollow(full, content, mode)
}

/**
 * Runs helm/kustomize; a missing binary becomes an error naming the step and how to install or
 * point at it, a failure a ToolError with the tool's stderr.
 */
export async function runStepTool(
  step: string,
  tool: 'helm' | 'kustomize',
  argv: readonly string[],
  opts: RunOptions = {}
): Promise<RunResult> {
  const [cmd, ...args] = argv
  try {
    return await runTool(cmd, args, opts)
  } catch (e) {
    if (e instanceof ToolError && e.exitCode === null && /not found on PATH/.test(e.stderr)) {
      throw new WaybillError(
        `${step}: ${cmd} was not found on PATH (needed to run ${tool})`,
        tool === 'helm'
          ? 'install Helm 3 (https://helm.sh/docs/intro/install/, e.g. azure/setup-helm in a workflow) or point WAYBILL_HELM at the binary'
          : "install kustomize (https://kubectl.docs.kubernetes.io/installation/kustomize/) or kubectl, or set WAYBILL_KUSTOMIZE (e.g. 'kubectl kustomize')"
      )
    }
    throw e
  }
}

/**
 * Helm with its config/cache/data directories in a throw-away directory, so a promotion never
 * reads or writes the runner's Helm setup. `registryConfig` is a docker-style auths JSON.
 */
export async function withHelmHome<T>(
  fn: (env: NodeJS.ProcessEnv) => Promise<T>,
  registryConfig?: Record<string, unknown>
): Promise<T> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'waybill-helm-'))
  try {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      HELM_CACHE_HOME: path.join(home, 'cache'),
      HELM_CONFIG_HOME: path.join(home, 'config'),
      HELM_DATA_HOME: path.join(home, 'data'),
      HELM_REPOSITORY_CONFIG: path.join(home, 'config', 'repositories.yaml'),
      HELM_REPOSITORY_CACHE: path.join(home, 'cache', 'repository'),
      HELM_REGISTRY_CONFIG: path.join(home, 'config', 'registry', 'config.json')
    }
    if (registryConfig) {
      const file = env.HELM_REGISTRY_CONFIG as string
      fs.mkdirSync(path.dirname(file), { recursive: true })
      fs.writeFileSync(file, JSON.stringify(registryConfig), { mode: 0o600 })
    }
    return await fn(env)
  } finally {
    fs.rmSync(home, { recursive: true, force: true })
  }
}

/**
 * A .gitignore-syntax matcher (blank lines and # comments skipped, `!` negates, a leading `/`
 * anchors to the root, a trailing `/` matches directories only, patterns without a `/` match at
 * any depth). `rel` uses forward slashes.
 */
export function gitignoreMatcher(
  patterns: string | undefined
): (rel: string, isDir: boolean) => boolean {
  if (!patterns) return () => false
  const rules: Array<{ negate: boolean; dirOnly: boolean; test: (p: string) => boolean }> = []
  for (const raw of patterns.split(/\r?\n/)) {
    let line = raw.replace(/(?<!\\)\s+$/, '')
    if (!line || line.startsWith('#')) continue
    let negate = false
    if (line.startsWith('!')) {
      negate = true
      line = line.slice(1)
    } else if (line.startsWith('\\!') || line.startsWith('\\#')) line = line.slice(1)
    let dirOnly = false
    if (line.endsWith('/')) {
      dirOnly = true
      line = line.slice(0, -1)
    }
    const anchored = line.includes('/')
    if (line.startsWith('/')) line = line.slice(1)
    const glob = anchored ? line : `**/${line}`
    const m = picomatch(glob, { dot: true })
    rules.push({ negate, dirOnly, test: (p) => m(p) })
  }
  return (rel, isDir) => {
    // A path is ignored if it or any parent directory is ignored (git semantics, last rule wins).
    const segs = rel.split('/')
    for (let i = 1; i <= segs.length; i++) {
      const sub = segs.slice(0, i).join('/')
      const subIsDir = i < segs.length || isDir
      let ignored = false
      for (const r of rules) {
        if (r.dirOnly && !subIsDir) continue
        if (r.test(sub)) ignored = !r.negate
      }
      if (ignored) return true
    }
    return false
  }
}

/** Kargo's 'Updated <path>' style commit message body lines. */
export function commitMessage(title: string, lines: string[]): string {
  return lines.length ? `${title}\n\n${lines.map((l) => `- ${l}`).join('\n')}` : title
}

export function formatValue(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v)
}
