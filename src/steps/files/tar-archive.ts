import fs from 'node:fs'
import path from 'node:path'
import { ConfigFieldError, WaybillError } from '../../util/errors.js'
import { resolveInside, writeFileNoFollow } from '../../util/fs-confined.js'
import { exists } from './common.js'

/*
 * A small ustar/pax reader and writer in Node, so that every entry is checked before anything
 * touches the disk (tar-slip: `..`, absolute names, links leading out of outPath).
 */

const BLOCK = 512

export interface Entry {
  name: string
  type: 'file' | 'dir' | 'symlink' | 'other'
  mode: number
  mtime: number
  linkName: string
  data?: Buffer
}

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0') + '\0'
}

function header(
  name: string,
  opts: { size: number; mode: number; mtime: number; type: string; link?: string; prefix?: string }
): Buffer {
  const h = Buffer.alloc(BLOCK, 0)
  h.write(name, 0, 100, 'utf8')
  h.write(octal(opts.mode & 0o7777, 8), 100, 'ascii')
  h.write(octal(0, 8), 108, 'ascii')
  h.write(octal(0, 8), 116, 'ascii')
  h.write(octal(opts.size, 12), 124, 'ascii')
  h.write(octal(Math.floor(opts.mtime), 12), 136, 'ascii')
  h.write('        ', 148, 'ascii')
  h.write(opts.type, 156, 'ascii')
  if (opts.link) h.write(opts.link, 157, 100, 'utf8')
  h.write('ustar\0', 257, 'ascii')
  h.write('00', 263, 'ascii')
  if (opts.prefix) h.write(opts.prefix, 345, 155, 'utf8')
  let sum = 0
  for (const b of h) sum += b
  h.write(octal(sum, 7) + ' ', 148, 'ascii')
  return h
}

function pad(size: number): Buffer {
  const rest = size % BLOCK
  return Buffer.alloc(rest ? BLOCK - rest : 0)
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`
  let len = Buffer.byteLength(body) + 1
  while (String(len).length + Buffer.byteLength(body) !== len)
    len = String(len).length + Buffer.byteLength(body)
  return `${len}${body}`
}

/** Header blocks for an entry, with a PAX header when the name or link does not fit ustar. */
function entryHeader(e: Entry, size: number): Buffer[] {
  const typeFlag = e.type === 'dir' ? '5' : e.type === 'symlink' ? '2' : '0'
  let name = e.name
  let prefix = ''
  const out: Buffer[] = []
  const fits = (s: string, n: number) => Buffer.byteLength(s) <= n
  if (!fits(name, 100)) {
    const cut = name.lastIndexOf('/', name.length - 2)
    if (cut > 0 && fits(name.slice(0, cut), 155) && fits(name.slice(cut + 1), 100)) {
      prefix = name.slice(0, cut)
      name = name.slice(cut + 1)
    }
  }
  const pax: string[] = []
  if (!fits(name, 100)) pax.push(paxRecord('path', e.name))
  if (e.linkName && !fits(e.linkName, 100)) pax.push(paxRecord('linkpath', e.linkName))
  if (pax.length) {
    const body = Buffer.from(pax.join(''), 'utf8')
    out.push(
      header('PaxHeader', { size: body.length, mode: 0o644, mtime: e.mtime, type: 'x' }),
      body,
      pad(body.length)
    )
    name = name.slice(0, 100)
    prefix = ''
  }
  out.push(
    header(name, {
      size,
      mode: e.mode,
      mtime: e.mtime,
      type: typeFlag,
      link: e.linkName.slice(0, 100),
      prefix
    })
  )
  return out
}

/** Archives inPath (a file or directory; entries named from its base name) into a tar buffer list. */
export function buildArchive(
  inPath: string,
  ignored: (rel: string, isDir: boolean) => boolean
): Buffer[] {
  const chunks: Buffer[] = []
  const base = path.basename(inPath)
  const add = (full: string, name: string, rel: string): void => {
    const st = fs.lstatSync(full)
    const mtime = st.mtimeMs / 1000
    if (st.isSymbolicLink()) {
      if (rel && ignored(rel, false)) return
      chunks.push(
        ...entryHeader(
          { name, type: 'symlink', mode: 0o777, mtime, linkName: fs.readlinkSync(full) },
          0
        )
      )
    } else if (st.isDirectory()) {
      if (rel && ignored(rel, true)) return
      chunks.push(
        ...entryHeader({ name: `${name}/`, type: 'dir', mode: st.mode, mtime, linkName: '' }, 0)
      )
      for (const e of fs.readdirSync(full).sort())
        add(path.join(full, e), `${name}/${e}`, rel ? `${rel}/${e}` : e)
    } else if (st.isFile()) {
      if (rel && ignored(rel, false)) return
      const data = fs.readFileSync(full)
      chunks.push(
        ...entryHeader({ name, type: 'file', mode: st.mode, mtime, linkName: '' }, data.length),
        data,
        pad(data.length)
      )
    }
  }
  add(inPath, base, '')
  chunks.push(Buffer.alloc(BLOCK * 2))
  return chunks
}

function cstr(buf: Buffer, start: number, len: number): string {
  const slice = buf.subarray(start, start + len)
  const end = slice.indexOf(0)
  return slice.subarray(0, end === -1 ? len : end).toString('utf8')
}

function parseOctal(buf: Buffer, start: number, len: number): number {
  // Base-256 (GNU) for big sizes.
  if (buf[start] & 0x80) {
    let n = 0
    for (let i = start + 1; i < start + len; i++) n = n * 256 + buf[i]
    return n
  }
  const s = cstr(buf, start, len).trim()
  return s ? parseInt(s, 8) : 0
}

/** Parses a (decompressed) tar archive. */
export function readArchive(buf: Buffer, file: string): Entry[] {
  const entries: Entry[] = []
  let off = 0
  let paxPath: string | undefined
  let paxLink: string | undefined
  let gnuName: string | undefined
  let gnuLink: string | undefined
  while (off + BLOCK <= buf.length) {
    const h = buf.subarray(off, off + BLOCK)
    if (h.every((b) => b === 0)) break
    let sum = 0
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i]
    if (sum !== parseOctal(h, 148, 8))
      throw new WaybillError(
        `untar: ${file} is not a valid tar archive (bad header checksum at offset ${off})`
      )
    const size = parseOctal(h, 124, 12)
    const flag = String.fromCharCode(h[156] || 48)
    const data = buf.subarray(off + BLOCK, off + BLOCK + size)
    if (data.length < size) throw new WaybillError(`untar: ${file} is truncated`)
    off += BLOCK + Math.ceil(size / BLOCK) * BLOCK
    if (flag === 'x') {
      const text = data.toString('utf8')
      let i = 0
      while (i < text.length) {
        const sp = text.indexOf(' ', i)
        const len = parseInt(text.slice(i, sp), 10)
        if (!(len > 0)) break
        const rec = text.slice(sp + 1, i + len - 1)
        const eq = rec.indexOf('=')
        if (rec.slice(0, eq) === 'path') paxPath = rec.slice(eq + 1)
        if (rec.slice(0, eq) === 'linkpath') paxLink = rec.slice(eq + 1)
        i += len
      }
      continue
    }
    if (flag === 'g') continue
    if (flag === 'L') {
      gnuName = cstr(data, 0, data.length)
      continue
    }
    if (flag === 'K') {
      gnuLink = cstr(data, 0, data.length)
      continue
    }
    const magic = cstr(h, 257, 6)
    const prefix = magic.startsWith('ustar') ? cstr(h, 345, 155) : ''
    let name = paxPath ?? gnuName ?? (prefix ? `${prefix}/${cstr(h, 0, 100)}` : cstr(h, 0, 100))
    const linkName = paxLink ?? gnuLink ?? cstr(h, 157, 100)
    paxPath = paxLink = gnuName = gnuLink = undefined
    const type: Entry['type'] =
      flag === '0' || flag === '7'
        ? 'file'
        : flag === '5'
          ? 'dir'
          : flag === '2'
            ? 'symlink'
            : flag === '1'
              ? 'other'
              : 'other'
    if (type === 'file' && name.endsWith('/')) name = name.slice(0, -1)
    entries.push({
      name,
      type,
      mode: parseOctal(h, 100, 8),
      mtime: parseOctal(h, 136, 12),
      linkName,
      data: type === 'file' ? Buffer.from(data) : undefined
    })
    if (flag === '1') entries[entries.length - 1].type = 'other'
  }
  return entries
}

export function isGzip(buf: Buffer): boolean {
  return buf.length > 2 && buf[0] === 0x1f && buf[1] === 0x8b
}

export const inside = (root: string, p: string) => p === root || p.startsWith(root + path.sep)

/** Extracts entries into outDir, refusing anything that would land or point outside it. */
export function extract(
  entries: Entry[],
  outDir: string,
  opts: { strip: number; ignored: (rel: string, isDir: boolean) => boolean; field: string }
): number {
  const root = path.resolve(outDir)
  // Check every entry before writing anything, so a hostile archive leaves no partial output.
  const plan: Array<{ e: Entry; kept: string[] }> = []
  for (const e of entries) {
    const raw = e.name.replace(/\\/g, '/')
    if (raw.startsWith('/') || /^[a-zA-Z]:/.test(raw))
      throw new ConfigFieldError(opts.field, `archive entry '${e.name}' has an absolute path`)
    const parts = raw.split('/').filter((p) => p !== '' && p !== '.')
    if (parts.includes('..'))
      throw new ConfigFieldError(opts.field, `archive entry '${e.name}' leaves outPath ('..')`)
    const kept = parts.slice(opts.strip)
    if (kept.length === 0) continue
    if (opts.ignored(kept.join('/'), e.type === 'dir')) continue
    if (e.type === 'symlink') {
      const link = e.linkName.replace(/\\/g, '/')
      const resolved = path.resolve(path.dirname(path.join(root, ...kept)), link)
      if (path.isAbsolute(link) || !inside(root, resolved))
        throw new ConfigFieldError(
          opts.field,
          `archive entry '${e.name}' is a link to '${e.linkName}', outside outPath`
        )
    }
    // Hard links, devices and FIFOs are never extracted.
    if (e.type !== 'other') plan.push({ e, kept })
  }
  // Nothing is written below a link the archive creates: links are made last, so every file and
  // directory goes where its name says (GNU tar would follow the link instead).
  const links = new Set(plan.filter((p) => p.e.type === 'symlink').map((p) => p.kept.join('/')))
  for (const { e, kept } of plan) {
    for (let i = 1; i < kept.length; i++) {
      const prefix = kept.slice(0, i).join('/')
      if (links.has(prefix))
        throw new ConfigFieldError(
          opts.field,
          `archive entry '${e.name}' would be written through the link '${prefix}' of the same archive`
        )
    }
  }
  fs.mkdirSync(root, { recursive: true })
  /** Resolves an entry's path inside outPath at the moment it is written (kernel semantics). */
  const resolve = (e: Entry, rel: string, followFinal: boolean): string => {
    try {
      return resolveInside(root, rel, opts.field, { followFinal })
    } catch (err) {
      if (!(err instanceof ConfigFieldError)) throw err
      throw new ConfigFieldError(
        opts.field,
        `archive entry '${e.name}' would be written through a link outside outPath`
      )
    }
  }
  let n = 0
  for (const { e, kept } of plan) {
    if (e.type === 'symlink') continue
    const parent = kept.length > 1 ? resolve(e, kept.slice(0, -1).join('/'), true) : root
    fs.mkdirSync(parent, { recursive: true })
    const target = resolve(e, path.relative(root, path.join(parent, kept[kept.length - 1])), false)
    if (e.type === 'dir') {
      if (exists(target) && !fs.lstatSync(target).isDirectory()) fs.rmSync(target, { force: true })
      fs.mkdirSync(target, { recursive: true })
    } else {
      if (exists(target) && fs.lstatSync(target).isDirectory())
        fs.rmSync(target, { recursive: true, force: true })
      writeFileNoFollow(target, e.data ?? Buffer.alloc(0), e.mode & 0o777 || 0o644)
      n++
    }
  }
  const made: Array<{ e: Entry; rel: string; target: string }> = []
  try {
    for (const { e, kept } of plan) {
      if (e.type !== 'symlink') continue
      const parent = kept.length > 1 ? resolve(e, kept.slice(0, -1).join('/'), true) : root
      fs.mkdirSync(parent, { recursive: true })
      const target = path.join(parent, kept[kept.length - 1])
      if (exists(target)) fs.rmSync(target, { recursive: true, force: true })
      fs.symlinkSync(e.linkName.replace(/\\/g, '/'), target)
      made.push({ e, rel: path.relative(root, target), target })
      n++
    }
    // A link's target is checked once all links exist: `y -> z/..` is harmless until `z -> .`.
    for (const m of made) {
      try {
        resolveInside(root, m.rel, opts.field)
      } catch (err) {
        if (!(err instanceof ConfigFieldError)) throw err
        throw new ConfigFieldError(
          opts.field,
          `archive entry '${m.e.name}' is a link to '${m.e.linkName}', which leads outside outPath`
        )
      }
    }
  } catch (err) {
    for (const m of made) fs.rmSync(m.target, { force: true })
    throw err
  }
  return n
}
