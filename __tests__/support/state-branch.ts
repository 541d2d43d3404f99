import fs from 'node:fs'
import path from 'node:path'
import { gitIn, sh, showFile, type makeRepo } from './git.js'
import { parseStateText } from '../../src/state/serialize.js'
import {
  FREIGHT_DIR,
  FreightFileSerializer,
  warehouseOfFile
} from '../../src/state/freight-files.js'
import type { State } from '../../src/state/types.js'

/** The freight files on a state branch, `freight/<warehouse>.json`, in tree order. */
export function freightFilesOn(bare: string, branch: string): string[] {
  try {
    const out = sh('git', ['--git-dir', bare, 'ls-tree', '--name-only', `${branch}:${FREIGHT_DIR}`])
    return out ? out.split('\n').map((name) => `${FREIGHT_DIR}/${name}`) : []
  } catch {
    return []
  }
}

/**
 * The state document on a branch as the store assembles it: state.json with the freight of every
 * `freight/<warehouse>.json` put back (not validated). Undefined when there is no state.json.
 */
export function readBranchState(bare: string, branch = 'waybill/state'): State | undefined {
  const text = showFile(bare, branch, 'state.json')
  if (text === undefined) return undefined
  const doc = parseStateText(text + '\n') as State
  const files = new FreightFileSerializer()
  for (const file of freightFilesOn(bare, branch)) {
    const warehouse = warehouseOfFile(file.slice(FREIGHT_DIR.length + 1))
    if (!warehouse) throw new Error(`unexpected file ${file} on ${branch}`)
    doc.freight ??= {}
    Object.assign(doc.freight, files.parse(warehouse, showFile(bare, branch, file)! + '\n'))
  }
  doc.freight ??= {}
  return doc
}

/** The commit a branch of a bare repository points at. */
export function branchTip(bare: string, branch: string): string {
  return sh('git', ['--git-dir', bare, 'rev-parse', `refs/heads/${branch}`])
}

/**
 * Commits files to a branch of a repo's bare remote by hand (as a human, an attacker or an old
 * release would): the branch's tree becomes exactly `files`. Returns the new commit.
 */
export function writeStateBranch(
  repo: ReturnType<typeof makeRepo>,
  branch: string,
  files: Record<string, string>
): string {
  const dir = `${repo.root}/manual-${Math.random().toString(36).slice(2)}`
  sh('git', ['clone', '-q', repo.bare, dir])
  const has = sh('git', ['ls-remote', repo.bare, `refs/heads/${branch}`])
  if (has) gitIn(dir, 'checkout', '-q', branch)
  else gitIn(dir, 'checkout', '-q', '--orphan', branch)
  gitIn(dir, 'rm', '-rqf', '--ignore-unmatch', '.')
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(`${dir}/${name}`), { recursive: true })
    fs.writeFileSync(`${dir}/${name}`, content)
  }
  gitIn(dir, 'add', '-A')
  gitIn(dir, 'commit', '-q', '-m', 'manual edit')
  gitIn(dir, 'push', '-q', 'origin', `HEAD:refs/heads/${branch}`)
  return gitIn(dir, 'rev-parse', 'HEAD')
}
