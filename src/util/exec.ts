import { spawn } from 'node:child_process'
import { ToolError, WaybillError } from './errors.js'
import { containsSecret, redact } from './logger.js'

export interface RunOptions {
  cwd?: string
  /**
   * Variables built for this child (a credential header, a tool's home directory), on top of the
   * minimal environment every child gets (childEnv): nothing else of Waybill's environment.
   */
  env?: NodeJS.ProcessEnv
  input?: string | Buffer
  /** Resolve with the exit code instead of throwing on a non-zero exit. */
  allowFailure?: boolean
  timeoutMs?: number
  /** Stop the child and fail with OutputLimitError once its stdout passes this many bytes. */
  maxOutputBytes?: number
}

export interface RunResult {
  stdout: string
  stderr: string
  code: number | null
  /** stdout as bytes, for output that is not text (e.g. `git cat-file --batch`). */
  stdoutBytes?: Buffer
}

/** A child printed more than RunOptions.maxOutputBytes; it was stopped. */
export class OutputLimitError extends WaybillError {
  constructor(
    readonly tool: string,
    readonly limitBytes: number
  ) {
    super(`${tool} printed more than ${limitBytes} bytes (the cap on its output); it was stopped`)
    this.name = 'OutputLimitError'
  }
}

/**
 * What a child inherits from Waybill's environment: where programs, home and temp files are,
 * locale and time zone, proxies and CA bundles, Windows' system variables, an SSH agent and SSH
 * command for ssh:// remotes, and a configured commit identity. Never the action's inputs
 * (INPUT_TOKEN, INPUT_SECRETS), the runner's tokens or anything else: a tool that renders a
 * repository's files (a chart reading /proc/self/environ) would otherwise publish them.
 */
const INHERITED = new Set([
  'PATH',
  'HOME',
  'TMPDIR',
  'TMP',
  'TEMP',
  'LANG',
  'LANGUAGE',
  'TZ',
  'USER',
  'LOGNAME',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'ALL_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  'all_proxy',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'CURL_CA_BUNDLE',
  'GIT_SSL_CAINFO',
  'GIT_SSL_CAPATH',
  'XDG_CONFIG_HOME',
  // Where the user's global Git config is when not under HOME or XDG_CONFIG_HOME.
  'GIT_CONFIG_GLOBAL',
  'XDG_CACHE_HOME',
  'XDG_DATA_HOME',
  'SSH_AUTH_SOCK',
  'GIT_SSH',
  'GIT_SSH_COMMAND',
  'GIT_AUTHOR_NAME',
  'GIT_AUTHOR_EMAIL',
  'GIT_COMMITTER_NAME',
  'GIT_COMMITTER_EMAIL',
  'SYSTEMROOT',
  'SystemRoot',
  'WINDIR',
  'COMSPEC',
  'PATHEXT',
  'USERPROFILE',
  'APPDATA',
  'LOCALAPPDATA',
  'PROGRAMDATA'
])

/** Never given to a child, even when a caller passes them. */
const NEVER =
  /^(INPUT_|ACTIONS_|RUNNER_)|^(GITHUB_TOKEN|GH_TOKEN|WAYBILL_SECRETS|WAYBILL_REGISTRY_CREDENTIALS|ARGOCD_TOKEN)$/

/**
 * Environments childEnv made: complete already, so runTool uses them as they are (gitEnv adds
 * git's settings to one after filtering; filtering again could drop a setting the parent happens
 * to share).
 */
const built = new WeakSet<NodeJS.ProcessEnv>()

/**
 * Git's tracing switches (GIT_TRACE, GIT_TRACE2, GIT_TRACE2_EVENT, GIT_TRACE2_PERF): diagnostics a
 * user turns on. Not GIT_TRACE_CURL or GIT_TRACE_PACKET, which can carry request headers.
 */
const GIT_TRACE = /^GIT_TRACE(2(_EVENT|_PERF)?)?$/

function inherited(name: string): boolean {
  return (
    (INHERITED.has(name) || name.startsWith('LC_') || GIT_TRACE.test(name)) && !NEVER.test(name)
  )
}

/**
 * The environment of one child process: the inherited allowlist (less any variable holding a
 * registered secret), plus the variables `extra` builds for this child. A variable in `extra` with
 * the same value as in `parent` was passed through rather than built (`{...process.env, X}`), so
 * it counts as inherited and goes through the allowlist too.
 */
export function childEnv(
  extra: NodeJS.ProcessEnv = {},
  parent: NodeJS.ProcessEnv = process.env
): NodeJS.ProcessEnv {
  if (built.has(extra)) return extra
  const env: NodeJS.ProcessEnv = {}
  built.add(env)
  for (const [k, v] of Object.entries(parent))
    if (v !== undefined && inherited(k) && !containsSecret(v)) env[k] = v
  for (const [k, v] of Object.entries(extra)) {
    // Passed through from `parent` unchanged: the allowlist above has already decided.
    if (v === undefined || NEVER.test(k) || parent[k] === v) continue
    env[k] = v
  }
  return env
}

/** Runs a program with an argument array (never a shell), collecting output. */
export function runTool(
  cmd: string,
  args: readonly string[],
  opts: RunOptions = {}
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: childEnv(opts.env),
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: opts.timeoutMs
    })
    const out: Buffer[] = []
    const err: Buffer[] = []
    let outBytes = 0
    let overflow: OutputLimitError | undefined
    child.stdout.on('data', (d: Buffer) => {
      if (overflow) return
      outBytes += d.length
      if (opts.maxOutputBytes !== undefined && outBytes > opts.maxOutputBytes) {
        overflow = new OutputLimitError(cmd, opts.maxOutputBytes)
        out.length = 0
        child.kill()
        return
      }
      out.push(d)
    })
    child.stderr.on('data', (d: Buffer) => err.push(d))
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT')
        reject(new ToolError(cmd, args, null, `${cmd} was not found on PATH`))
      else reject(e)
    })
    child.on('close', (code) => {
      if (overflow) return reject(overflow)
      const stdoutBytes = Buffer.concat(out)
      const result = {
        stdout: stdoutBytes.toString('utf8'),
        stdoutBytes,
        stderr: Buffer.concat(err).toString('utf8'),
        code
      }
      if (code !== 0 && !opts.allowFailure) {
        reject(new ToolError(cmd, args.map(redact), code, redact(result.stderr || result.stdout)))
      } else resolve(result)
    })
    if (opts.input !== undefined) child.stdin.end(opts.input)
    else child.stdin.end()
  })
}
