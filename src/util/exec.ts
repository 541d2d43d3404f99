import { spawn } from 'node:child_process'
import { ToolError } from './errors.js'
import { redact } from './logger.js'

export interface RunOptions {
  cwd?: string
  env?: NodeJS.ProcessEnv
  input?: string | Buffer
  /** Resolve with the exit code instead of throwing on a non-zero exit. */
  allowFailure?: boolean
  timeoutMs?: number
}

export interface RunResult {
  stdout: string
  stderr: string
  code: number | null
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
      env: opts.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: opts.timeoutMs
    })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (d: Buffer) => out.push(d))
    child.stderr.on('data', (d: Buffer) => err.push(d))
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT')
        reject(new ToolError(cmd, args, null, `${cmd} was not found on PATH`))
      else reject(e)
    })
    child.on('close', (code) => {
      const result = {
        stdout: Buffer.concat(out).toString('utf8'),
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
