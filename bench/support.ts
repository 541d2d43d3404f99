// Shared by the benchmarks: a fixed Git identity, a synchronous runner, the median, and the
// StateStore statistics of what a command did.
import { execFileSync } from 'node:child_process'
import { StateStore, type StateStoreStats } from '../src/state/store.js'

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

/** Every StateStore opened since the last `storeStats.reset()` (commands open their own). */
const stores = new Set<StateStore>()
for (const method of ['read', 'snapshot', 'update'] as const) {
  // Wrapped below and called with the store as `this` (original.apply).
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const original = StateStore.prototype[method] as (...a: unknown[]) => Promise<unknown>
  ;(StateStore.prototype as unknown as Record<string, unknown>)[method] = function (
    this: StateStore,
    ...args: unknown[]
  ) {
    stores.add(this)
    return original.apply(this, args)
  }
}

/** StateStore.stats summed over the stores used since `reset()`: what a measured command did. */
export const storeStats = {
  reset(): void {
    stores.clear()
  },
  sum(): StateStoreStats {
    const total: StateStoreStats = { fetches: 0, pushes: 0, rejections: 0, commits: 0 }
    for (const s of stores)
      for (const k of Object.keys(total) as Array<keyof StateStoreStats>) total[k] += s.stats[k]
    return total
  }
}
