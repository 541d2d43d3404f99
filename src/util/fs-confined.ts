import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { ConfigFieldError, WaybillError } from './errors.js'

/*
 * File access confined to a root directory (the promotion's working directory). Paths are
 * resolved one component at a time, the way the kernel does: `..` after a symlink goes up from
 * the link's target, not from the link (fs.realpathSync gets that wrong for relative targets
 * holding `..`). A symlink is followed only while what it leads to stays inside the root.
 * Writes never go through a symlink: a temp file created with O_EXCL (which does not follow
 * links) is renamed over the name, replacing a link there rather than writing to its target.
 */

/** Linux's limit on symlinks followed in one lookup (ELOOP). */
const MAX_LINKS = 40

export interface ResolveOptions {
  /** Follow a symlink in the last component (default true); false to name the link itself. */
  followFinal?: boolean
}

function components(p: string): string[] {
  return p.split(/[\\/]+/)
}

/** `target` relative to the first root it is inside (lexically), or undefined. */
function relativeToRoot(target: string, roots: string[]): string | undefined {
  for (const root of roots) {
    if (target === root) return '.'
    if (target.startsWith(root + path.sep)) return target.slice(root.length + 1)
  }
  return undefined
}

/**
 * Resolves `rel` inside `root` with kernel semantics, following symlinks that stay inside and
 * refusing everything that leaves (absolute paths, `..` past the root, links out). The result is
 * `root` joined with the resolved components: every existing component in it is a real directory
 * (or the final file), so opening it follows no symlink. Missing components are kept as named.
 */
export function resolveInside(
  root: string,
  rel: string,
  field: string,
  opts: ResolveOptions = {}
): string {
  if (typeof rel !== 'string' || rel === '')
    throw new ConfigFieldError(field, 'must be a non-empty path')
  if (rel.includes('\0')) throw new ConfigFieldError(field, 'must not contain a NUL character')
  if (path.isAbsolute(rel))
    throw new ConfigFieldError(
      field,
      `'${rel}' is absolute; paths are relative to the promotion's working directory`
    )
  const followFinal = opts.followFinal ?? true
  const rootAbs = path.resolve(root)
  const realRoot = fs.realpathSync(rootAbs)
  const done: string[] = []
  const pending = components(rel).reverse()
  let links = 0
  let viaLink: { at: string; target: string } | undefined
  const leaves = () =>
    new ConfigFieldError(
      field,
      viaLink
        ? `'${rel}' resolves through a symlink outside the promotion's working directory ('${viaLink.at}' -> '${viaLink.target}')`
        : `'${rel}' leaves the promotion's working directory`
    )
  while (pending.length) {
    const c = pending.pop() as string
    if (c === '' || c === '.') continue
    if (c === '..') {
      if (done.length === 0) throw leaves()
      done.pop()
      continue
    }
    const here = path.join(realRoot, ...done, c)
    let st: fs.Stats
    try {
      st = fs.lstatSync(here)
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw e
      done.push(c)
      continue
    }
    if (!st.isSymbolicLink() || (pending.length === 0 && !followFinal)) {
      done.push(c)
      continue
    }
    if (++links > MAX_LINKS)
      throw new ConfigFieldError(field, `'${rel}': too many levels of symbolic links`)
    const target = fs.readlinkSync(here)
    viaLink = { at: path.join(...done, c), target }
    let next = target
    if (path.isAbsolute(target)) {
      const inside = relativeToRoot(path.normalize(target), [rootAbs, realRoot])
      // A `..` in an absolute target is walked from the root, so it cannot hide an escape.
      if (inside === undefined || target.split('/').includes('..')) throw leaves()
      done.length = 0
      next = inside
    }
    for (const part of components(next).reverse()) pending.push(part)
  }
  return done.length ? path.join(rootAbs, ...done) : rootAbs
}

/** resolveInside for an absolute path that is already under root (e.g. a file in a confined dir). */
export function reresolve(
  root: string,
  full: string,
  field: string,
  opts?: ResolveOptions
): string {
  const rel = path.relative(path.resolve(root), path.resolve(full))
  if (rel === '') return path.resolve(root)
  if (rel.startsWith('..') || path.isAbsolute(rel))
    throw new ConfigFieldError(field, `'${full}' leaves the promotion's working directory`)
  return resolveInside(root, rel, field, opts)
}

/**
 * Creates a directory (and its missing parents) inside root; existing parts must be directories
 * or links to directories inside root. Returns the resolved path.
 */
export function mkdirInside(root: string, rel: string, field: string): string {
  const full = resolveInside(root, rel || '.', field)
  // Every existing component of `full` is a real directory, so mkdir creates only the missing tail.
  fs.mkdirSync(full, { recursive: true })
  const st = fs.lstatSync(full)
  if (!st.isDirectory()) throw new ConfigFieldError(field, `'${rel}' is not a directory`)
  return full
}

/**
 * Writes `content` to `full` (a path resolved by resolveInside) without ever following a
 * symlink: a temp file in the same directory is created exclusively and renamed over the name.
 * Without `mode`, an existing file's mode is kept (default 0644).
 */
export function writeFileNoFollow(full: string, content: string | Buffer, mode?: number): void {
  fs.mkdirSync(path.dirname(full), { recursive: true })
  let m = mode
  let existing: fs.Stats | undefined
  try {
    existing = fs.lstatSync(full)
  } catch {
    existing = undefined
  }
  if (existing?.isDirectory())
    throw new WaybillError(`cannot write ${path.basename(full)}: it is a directory`)
  if (m === undefined) m = existing?.isFile() ? existing.mode & 0o777 : 0o644
  const tmp = tempNameNear(full)
  const fd = fs.openSync(
    tmp,
    fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW,
    m
  )
  try {
    fs.writeFileSync(fd, content)
    fs.fchmodSync(fd, m)
  } catch (e) {
    fs.closeSync(fd)
    fs.rmSync(tmp, { force: true })
    throw e
  }
  fs.closeSync(fd)
  try {
    fs.renameSync(tmp, full)
  } catch (e) {
    fs.rmSync(tmp, { force: true })
    throw e
  }
}

/** A fresh name next to `full` for a temp file (hidden, unlikely to collide). */
export function tempNameNear(full: string): string {
  const rnd = crypto.randomBytes(6).toString('hex')
  return path.join(path.dirname(full), `.${path.basename(full)}.waybill-${process.pid}-${rnd}`)
}

/** Reads a regular file at a resolved path, refusing a symlink that appeared since resolving. */
export function readFileNoFollow(full: string): Buffer {
  const fd = fs.openSync(full, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW)
  try {
    return fs.readFileSync(fd)
  } finally {
    fs.closeSync(fd)
  }
}

export interface OutwardLink {
  /** The link, relative to the scanned directory's root. */
  link: string
  target: string
}

/**
 * The first symlink under `dir` whose target leaves `root` (kernel semantics, see resolveInside),
 * or undefined. Walks at most `maxEntries` entries and fails beyond that rather than skip any.
 * `.git` directories are not walked: tools never read them.
 */
export function findOutwardLink(
  root: string,
  dir: string,
  maxEntries = 200_000
): OutwardLink | undefined {
  const rootAbs = path.resolve(root)
  let seen = 0
  const stack = [path.resolve(dir)]
  while (stack.length) {
    const d = stack.pop() as string
    let entries: fs.Dirent[]
    try {
      entries = fs.readdirSync(d, { withFileTypes: true })
    } catch {
      continue
    }
    for (const e of entries) {
      if (++seen > maxEntries)
        throw new WaybillError(
          `${path.relative(rootAbs, dir) || '.'} has more than ${maxEntries} files; refusing to hand it to a tool unchecked`
        )
      const full = path.join(d, e.name)
      if (e.isSymbolicLink()) {
        const rel = path.relative(rootAbs, full)
        try {
          resolveInside(rootAbs, rel, 'link')
        } catch (err) {
          if (!(err instanceof ConfigFieldError)) throw err
          return { link: rel, target: fs.readlinkSync(full) }
        }
      } else if (e.isDirectory() && e.name !== '.git') stack.push(full)
    }
  }
  return undefined
}

/**
 * Refuses to let a tool read `dir` when a symlink in it leads outside `root`: a chart's
 * `files/env -> /proc/self/environ` would otherwise render the process environment.
 */
export function assertNoOutwardLinks(root: string, dir: string, who: string): void {
  const found = findOutwardLink(root, dir)
  if (found)
    throw new WaybillError(
      `${who}: '${found.link}' is a symbolic link to '${found.target}', outside the promotion's working directory`,
      'links in cloned or downloaded content must stay inside the working directory; remove the link from the repository'
    )
}

/** Copies a regular file to `full` (resolved by resolveInside) through a temp file and rename. */
export function copyFileNoFollow(src: string, full: string, mode: number): void {
  const tmp = tempNameNear(full)
  fs.copyFileSync(src, tmp, fs.constants.COPYFILE_EXCL)
  try {
    fs.chmodSync(tmp, mode)
    const existing = fs.lstatSync(full, { throwIfNoEntry: false })
    if (existing?.isDirectory())
      throw new WaybillError(`cannot write ${path.basename(full)}: it is a directory`)
    fs.renameSync(tmp, full)
  } catch (e) {
    fs.rmSync(tmp, { force: true })
    throw e
  }
}

/** Whether `p` is `dir` or lies under it (both absolute and resolved). */
export function isWithin(dir: string, p: string): boolean {
  return p === dir || p.startsWith(dir.endsWith(path.sep) ? dir : dir + path.sep)
}
