import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

/** Real git on local repositories, for tests. */
export function sh(cmd: string, args: string[], cwd?: string, env?: NodeJS.ProcessEnv): string {
  return execFileSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  }).trim()
}

export function gitIn(cwd: string, ...args: string[]): string {
  return sh('git', args, cwd)
}

export function tempDir(prefix = 'waybill-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix))
}

/** A bare repository with `main` holding the given files, plus a working clone. */
export function makeRepo(
  files: Record<string, string> = { 'README.md': '# test\n' },
  root = tempDir()
) {
  const bare = path.join(root, 'remote.git')
  const work = path.join(root, 'work')
  sh('git', ['init', '-q', '--bare', '-b', 'main', bare])
  sh('git', ['init', '-q', '-b', 'main', work])
  gitIn(work, 'remote', 'add', 'origin', bare)
  writeFiles(work, files)
  gitIn(work, 'add', '-A')
  gitIn(work, 'commit', '-q', '-m', 'initial')
  gitIn(work, 'push', '-q', 'origin', 'main')
  return { root, bare, work, url: `file://${bare}` }
}

export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [rel, content] of Object.entries(files)) {
    const p = path.join(dir, rel)
    fs.mkdirSync(path.dirname(p), { recursive: true })
    fs.writeFileSync(p, content)
  }
}

/** Writes files, commits and pushes; returns the new commit ID. */
export function commitAndPush(
  work: string,
  files: Record<string, string>,
  message = 'change',
  branch = 'main'
): string {
  writeFiles(work, files)
  gitIn(work, 'add', '-A')
  gitIn(work, 'commit', '-q', '--allow-empty', '-m', message)
  gitIn(work, 'push', '-q', 'origin', `HEAD:${branch}`)
  return gitIn(work, 'rev-parse', 'HEAD')
}

/** Reads a file from a branch of a (bare) repository, or undefined if absent. */
export function showFile(repo: string, ref: string, file: string): string | undefined {
  try {
    return sh('git', ['--git-dir', repo, 'show', `${ref}:${file}`])
  } catch {
    return undefined
  }
}
