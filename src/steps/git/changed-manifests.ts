import fs from 'node:fs'
import { parseAllDocuments } from 'yaml'
import { catFileBatch, gitTry, type GitCredentials, type GitObject } from '../../git/git.js'
import { resolveCommits } from './common.js'

export type ChangeKind = 'added' | 'modified' | 'deleted'

/** A changed file and the Kubernetes resources it holds (its new content; the old one if deleted). */
export interface ChangedFile {
  change: ChangeKind
  path: string
  /** `Kind/name` (with ` in <namespace>` when namespaced); empty when it is not a manifest. */
  resources: string[]
}

/** Files larger than this are listed by path only. */
const MAX_PARSE_BYTES = 512 * 1024
/** Changed files whose content is read at most (the rest are listed by path). */
const MAX_PARSED_FILES = 500

const isManifestPath = (p: string) => /\.(ya?ml|json)$/i.test(p)

function resourcesIn(text: string): string[] {
  const out: string[] = []
  try {
    for (const doc of parseAllDocuments(text)) {
      if (!('contents' in doc) || doc.errors.length) continue
      const r = doc.toJS() as {
        apiVersion?: unknown
        kind?: unknown
        metadata?: { name?: unknown; namespace?: unknown }
      } | null
      if (!r || typeof r !== 'object' || typeof r.apiVersion !== 'string') continue
      if (typeof r.kind !== 'string' || typeof r.metadata?.name !== 'string') continue
      const ns = typeof r.metadata.namespace === 'string' ? ` in ${r.metadata.namespace}` : ''
      out.push(`${r.kind}/${r.metadata.name}${ns}`)
    }
  } catch {
    return []
  }
  return out
}

/**
 * The files a pull request from `head` into `base` changes (GitHub's three-dot diff: from their
 * merge base to `head`), with the Kubernetes resources each holds, read from the clone git-clone
 * made (`repoDir`). Branch heads it lacks are fetched. Undefined when the clone is absent or the
 * commits cannot be had.
 */
export async function changedFiles(
  repoDir: string,
  base: { branch: string; sha: string },
  head: { branch: string; sha: string },
  credentials?: GitCredentials
): Promise<ChangedFile[] | undefined> {
  if (!fs.existsSync(repoDir)) return undefined
  let have = await resolveCommits(repoDir, [base.sha, head.sha])
  if (have[0] !== base.sha || have[1] !== head.sha) {
    const refspecs = [base.branch, head.branch].map(
      (b) => `+refs/heads/${b}:refs/remotes/origin/${b}`
    )
    await gitTry(['fetch', '-q', '--no-tags', '--end-of-options', 'origin', ...refspecs], {
      cwd: repoDir,
      credentials
    })
    have = await resolveCommits(repoDir, [base.sha, head.sha])
    if (have[0] !== base.sha || have[1] !== head.sha) return undefined
  }
  const diff = await gitTry(
    [
      'diff',
      '--name-status',
      '-z',
      '--no-renames',
      '--end-of-options',
      `${base.sha}...${head.sha}`,
      '--'
    ],
    { cwd: repoDir }
  )
  if (diff.code !== 0) return undefined
  const parts = diff.stdout.split('\0')
  const files: ChangedFile[] = []
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const status = parts[i]
    const change: ChangeKind = status === 'A' ? 'added' : status === 'D' ? 'deleted' : 'modified'
    files.push({ change, path: parts[i + 1], resources: [] })
  }

  // The resources in each YAML/JSON file, read with one `cat-file --batch`.
  const wanted = files
    .filter((f) => isManifestPath(f.path) && !/[\n\r]/.test(f.path))
    .slice(0, MAX_PARSED_FILES)
  const objectName = (f: ChangedFile) => `${f.change === 'deleted' ? base.sha : head.sha}:${f.path}`
  // Best effort: the list still names every file when the contents cannot be read.
  const objects = await catFileBatch(wanted.map(objectName), { cwd: repoDir }).catch(
    () => new Map<string, GitObject>()
  )
  for (const f of wanted) {
    const o = objects.get(objectName(f))
    if (o?.type === 'blob' && o.content.length <= MAX_PARSE_BYTES)
      f.resources = resourcesIn(o.content.toString('utf8'))
  }
  return files
}

const CHANGE_TITLES: Record<ChangeKind, string> = {
  added: 'Added',
  modified: 'Modified',
  deleted: 'Deleted'
}

const code = (s: string) => `\`${s.replace(/`/g, "'")}\``

/**
 * The "Changed manifests" section of a PR body: resources grouped by added/modified/deleted, at
 * most `maxLines` entries in all. Empty when no changed file holds a Kubernetes resource.
 */
export function manifestSummary(files: ChangedFile[], maxLines = 60): string[] {
  const manifests = files.filter((f) => f.resources.length)
  if (!manifests.length) return []
  const count = (c: ChangeKind) => manifests.filter((f) => f.change === c).length
  const counts = (['added', 'modified', 'deleted'] as const)
    .filter((c) => count(c))
    .map((c) => `${count(c)} ${c}`)
  const others = files.length - manifests.length
  const out = [
    '',
    `### Changed manifests (${counts.join(', ')}${others ? `; ${others} other files` : ''})`
  ]
  let budget = maxLines
  for (const change of ['added', 'modified', 'deleted'] as const) {
    const group = manifests
      .filter((f) => f.change === change)
      .sort((a, b) => a.path.localeCompare(b.path))
    if (!group.length) continue
    out.push('', `**${CHANGE_TITLES[change]}**`)
    const shown = group.slice(0, Math.max(budget, 0))
    for (const f of shown) {
      const [first, ...rest] = f.resources
      const more = rest.length
        ? rest.length <= 2
          ? `, ${rest.map(code).join(', ')}`
          : ` and ${rest.length} more`
        : ''
      out.push(`- ${code(first)}${more} — ${code(f.path)}`)
    }
    budget -= shown.length
    if (group.length > shown.length)
      out.push(`- … and ${group.length - shown.length} more ${change}`)
  }
  return out
}
