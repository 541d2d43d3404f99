// Shared by the benchmarks: a fixed Git identity, a synchronous runner and the median.
import { execFileSync } from 'node:child_process'

export const benchEnv: NodeJS.ProcessEnv = {
  ...process.env,
  GIT_AUTHOR_NAME: 'bench',
  GIT_AUTHOR_EMAIL: 'bench@example.invalid',
  GIT_COMMITTER_NAME: 'bench',
  GIT_COMMITTER_EMAIL: 'bench@example.invalid'
}

/** Runs a program (argument array, no shell) and returns its trimmed stdout. */
export function sh(cmd: string, args: string[], cwd?: string): string {
  return execFileSync(cmd, args, { cwd, env: benchEnv, encoding: 'utf8', stdio: 'pipe' }).trim()
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}
