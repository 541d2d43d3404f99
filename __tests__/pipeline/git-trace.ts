import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

/** One top-level git invocation (not the helpers git itself spawns, such as upload-pack). */
export interface GitCall {
  argv: string[]
  cwd?: string
}

/**
 * Records every git process started while `fn` runs, through Git's own trace2 event stream
 * (GIT_TRACE2_EVENT): each git process appends a `start` event with its argv to one file.
 * Processes that git spawns itself carry a parent session ID (`sid` holds a `/`) and are left out,
 * so a `git fetch` over file:// counts once, not once more for its upload-pack.
 * Waybill spawns git with `{ ...process.env }`, so setting the variable here reaches every call.
 */
export async function traceGit<T>(fn: () => Promise<T>): Promise<{ result: T; calls: GitCall[] }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'waybill-trace2-'))
  const file = path.join(dir, 'events.jsonl')
  const saved = { GIT_TRACE2_EVENT: process.env.GIT_TRACE2_EVENT }
  process.env.GIT_TRACE2_EVENT = file
  try {
    const result = await fn()
    return { result, calls: readCalls(file) }
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

function readCalls(file: string): GitCall[] {
  if (!fs.existsSync(file)) return []
  const calls: GitCall[] = []
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue
    let ev: { event?: string; sid?: string; argv?: string[] }
    try {
      ev = JSON.parse(line)
    } catch {
      continue
    }
    if (ev.event !== 'start' || !ev.sid || ev.sid.includes('/') || !ev.argv) continue
    calls.push({ argv: ev.argv })
  }
  return calls
}

/** The git subcommand of an argv (skipping `-c k=v`, `-C dir` and other global options). */
export function subcommand(argv: readonly string[]): string {
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]
    if (a === '-c' || a === '-C' || a === '--git-dir' || a === '--work-tree') {
      i++
      continue
    }
    if (a.startsWith('-')) continue
    return a
  }
  return ''
}

/** Git calls that touch the state branch over the network (fetch/push/ls-remote naming it). */
export function stateBranchCalls(calls: GitCall[], branch = 'waybill/state') {
  const touches = (c: GitCall) => c.argv.some((a) => a.includes(`refs/heads/${branch}`))
  const of = (cmd: string) => calls.filter((c) => subcommand(c.argv) === cmd && touches(c))
  return { fetches: of('fetch'), pushes: of('push') }
}

/** Counts per git subcommand, most frequent first, e.g. `fetch 1, rev-parse 1`. */
export function countBySubcommand(calls: GitCall[]): Array<[string, number]> {
  const counts = new Map<string, number>()
  for (const c of calls) {
    const s = subcommand(c.argv)
    counts.set(s, (counts.get(s) ?? 0) + 1)
  }
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
}
