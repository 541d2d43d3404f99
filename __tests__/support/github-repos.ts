import fs from 'node:fs'
import path from 'node:path'
import { gitIn, makeRepo, tempDir } from './git.js'

/**
 * A bare repository at `<root>/<owner>/<name>.git` (the layout git-http.ts serves and the fake
 * GitHub maps), with `main` holding `files`, plus a working clone pushing to it.
 */
export function makeGitHubRepo(
  root: string,
  owner: string,
  name: string,
  files: Record<string, string> = { 'README.md': '# test\n' }
) {
  const r = makeRepo(files, tempDir())
  const bare = path.join(root, owner, `${name}.git`)
  fs.mkdirSync(path.dirname(bare), { recursive: true })
  fs.renameSync(r.bare, bare)
  gitIn(r.work, 'remote', 'set-url', 'origin', bare)
  return { bare, work: r.work, owner, name }
}
