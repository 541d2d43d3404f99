import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import fs from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import zlib from 'node:zlib'
import { sh, tempDir, writeFiles } from '../support/git.js'
import { stepContext } from '../support/step-context.js'
import { copy } from '../../src/steps/files/copy.js'
import { del } from '../../src/steps/files/delete.js'
import { fileWrite } from '../../src/steps/files/file-write.js'
import { tar } from '../../src/steps/files/tar.js'
import { untar } from '../../src/steps/files/untar.js'
import { httpDownload } from '../../src/steps/files/http-download.js'
import { gitignoreMatcher } from '../../src/steps/files/common.js'
import type { StepContext, StepDefinition } from '../../src/steps/types.js'
import type { Capability } from '../../src/steps/capabilities.js'

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function run(step: StepDefinition<any>, ctx: StepContext<Capability>, config: unknown) {
  return step.run(step.parse(config), ctx)
}
const at = (ctx: StepContext<Capability>, f: string) => path.join(ctx.workDir, f)
const read = (ctx: StepContext<Capability>, f: string) => fs.readFileSync(at(ctx, f), 'utf8')

function walk(dir: string, rel = ''): string[] {
  const out: string[] = []
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name
    if (e.isDirectory()) out.push(...walk(dir, r))
    else out.push(r)
  }
  return out.sort()
}

const TREE = {
  'src/a.yaml': 'a\n',
  'src/sub/b.yaml': 'b\n',
  'src/sub/c.txt': 'c\n',
  'src/.git/config': 'x\n',
  'src/tmp/t.yaml': 't\n'
}

describe('gitignore matching', () => {
  it('follows .gitignore rules', () => {
    const m = gitignoreMatcher('# comment\n*.txt\n/tmp/\n!keep.txt\nsub/deep/\n')
    expect(m('x.txt', false)).toBe(true)
    expect(m('d/x.txt', false)).toBe(true)
    expect(m('keep.txt', false)).toBe(false)
    expect(m('tmp', true)).toBe(true)
    expect(m('tmp/f', false)).toBe(true)
    expect(m('a/tmp', true)).toBe(false)
    expect(m('tmp', false)).toBe(false)
    expect(m('sub/deep/x', false)).toBe(true)
    expect(m('a.yaml', false)).toBe(false)
  })
})

describe('copy', () => {
  it('copies a tree, honouring ignore', async () => {
    const ctx = stepContext()
    writeFiles(ctx.workDir, TREE)
    await run(copy, ctx, { inPath: 'src', outPath: 'dst', ignore: '*.txt\n/tmp/\n.git' })
    expect(walk(at(ctx, 'dst'))).toEqual(['a.yaml', 'sub/b.yaml'])
    await run(copy, ctx, { inPath: 'src/a.yaml', outPath: 'one/a-copy.yaml' })
    expect(read(ctx, 'one/a-copy.yaml')).toBe('a\n')
  })

  it('refuses escapes and links out', async () => {
    const ctx = stepContext()
    writeFiles(ctx.workDir, TREE)
    const outside = tempDir()
    fs.symlinkSync(outside, at(ctx, 'out-link'))
    await expect(run(copy, ctx, { inPath: '../', outPath: 'x' })).rejects.toThrow(
      /copy\.inPath: .*leaves/
    )
    await expect(run(copy, ctx, { inPath: 'src', outPath: 'out-link/x' })).rejects.toThrow(
      /copy\.outPath: .*symlink/
    )
    fs.symlinkSync('/etc/passwd', at(ctx, 'src/sub/pw'))
    await expect(run(copy, ctx, { inPath: 'src', outPath: 'dst' })).rejects.toThrow(/symbolic link/)
    expect(fs.readdirSync(outside)).toEqual([])
  })
})

describe('delete', () => {
  it('deletes a path, a list of paths, or globs; strict fails on nothing to delete', async () => {
    const ctx = stepContext()
    writeFiles(ctx.workDir, TREE)
    await run(del, ctx, { path: 'src/tmp' })
    expect(fs.existsSync(at(ctx, 'src/tmp'))).toBe(false)
    await run(del, ctx, { paths: ['src/a.yaml', 'not-there'] })
    expect(fs.existsSync(at(ctx, 'src/a.yaml'))).toBe(false)
    await run(del, ctx, { path: 'src/**/*.yaml', pathsAreGlobs: true })
    expect(walk(at(ctx, 'src'))).toEqual(['.git/config', 'sub/c.txt'])
    await expect(run(del, ctx, { path: 'nothing', strict: true })).rejects.toThrow(
      /delete\.path: 'nothing' does not exist/
    )
    await expect(
      run(del, ctx, { paths: ['src/*.none'], pathsAreGlobs: true, strict: true })
    ).rejects.toThrow(/delete\.paths\[0\]: 'src\/\*\.none' matches nothing/)
  })

  it('validates exactly one of path/paths and refuses escapes', async () => {
    const ctx = stepContext()
    expect(() => del.parse({})).toThrow(/exactly one of 'path' and 'paths'/)
    expect(() => del.parse({ path: 'a', paths: ['b'] })).toThrow(/exactly one/)
    const outside = tempDir()
    writeFiles(outside, { 'keep.txt': 'k' })
    await expect(run(del, ctx, { path: path.join(outside, 'keep.txt') })).rejects.toThrow(
      /delete\.path: .*absolute/
    )
    await expect(run(del, ctx, { paths: ['ok', '../x'] })).rejects.toThrow(
      /delete\.paths\[1\]: .*leaves/
    )
    await expect(run(del, ctx, { path: '../*', pathsAreGlobs: true })).rejects.toThrow(
      /delete\.path: .*leaves/
    )
    await expect(run(del, ctx, { path: '.' })).rejects.toThrow(/whole working directory/)
    fs.symlinkSync(outside, at(ctx, 'link'))
    await expect(run(del, ctx, { path: 'link/keep.txt' })).rejects.toThrow(
      /delete\.path: .*symlink/
    )
    expect(fs.existsSync(path.join(outside, 'keep.txt'))).toBe(true)
  })
})

describe('file-write', () => {
  it('writes with 0600 by default, honours permissions and overwrite', async () => {
    const ctx = stepContext()
    await run(fileWrite, ctx, { path: 'a/b.txt', contents: 'hello\n' })
    expect(read(ctx, 'a/b.txt')).toBe('hello\n')
    expect(fs.statSync(at(ctx, 'a/b.txt')).mode & 0o777).toBe(0o600)
    await expect(run(fileWrite, ctx, { path: 'a/b.txt', contents: 'x' })).rejects.toThrow(
      /file-write\.path: 'a\/b.txt' already exists/
    )
    await run(fileWrite, ctx, {
      path: 'a/b.txt',
      contents: 'x',
      overwrite: true,
      permissions: '0644'
    })
    expect(read(ctx, 'a/b.txt')).toBe('x')
    expect(fs.statSync(at(ctx, 'a/b.txt')).mode & 0o777).toBe(0o644)
    expect(() => fileWrite.parse({ path: 'a', contents: '', permissions: '644' })).toThrow(
      /permissions/
    )
    expect(() => fileWrite.parse({ path: 'a', contents: '', permissions: '0800' })).toThrow(
      /permissions/
    )
    await expect(run(fileWrite, ctx, { path: '../evil', contents: 'x' })).rejects.toThrow(
      /file-write\.path: .*leaves/
    )
  })
})

/** A tar archive with hand-made entries (to build hostile ones the tar CLI would not write). */
function rawTar(
  entries: Array<{ name: string; type?: '0' | '2' | '5'; data?: string; link?: string }>
): Buffer {
  const blocks: Buffer[] = []
  for (const e of entries) {
    const data = Buffer.from(e.data ?? '')
    const h = Buffer.alloc(512)
    h.write(e.name, 0, 100)
    h.write('0000644\0', 100)
    h.write('0000000\0', 108)
    h.write('0000000\0', 116)
    h.write(data.length.toString(8).padStart(11, '0') + '\0', 124)
    h.write('00000000000\0', 136)
    h.write('        ', 148)
    h.write(e.type ?? '0', 156)
    if (e.link) h.write(e.link, 157, 100)
    h.write('ustar\0', 257)
    h.write('00', 263)
    let sum = 0
    for (const b of h) sum += b
    h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148)
    blocks.push(h, data, Buffer.alloc((512 - (data.length % 512)) % 512))
  }
  blocks.push(Buffer.alloc(1024))
  return Buffer.concat(blocks)
}

describe('tar and untar', () => {
  it('round-trips a tree (gzip), readable by system tar, with ignore and stripComponents', async () => {
    const ctx = stepContext()
    const long = `src/${'d'.repeat(120)}/${'f'.repeat(90)}.yaml`
    writeFiles(ctx.workDir, { ...TREE, [long]: 'long\n' })
    await run(tar, ctx, { inPath: 'src', outPath: 'out/src.tgz', gzip: true, ignore: '.git\n' })
    const listed = sh('tar', ['-tzf', at(ctx, 'out/src.tgz')])
      .split('\n')
      .sort()
    expect(listed).toContain('src/sub/b.yaml')
    expect(listed).toContain(long)
    expect(listed.some((l) => l.includes('.git'))).toBe(false)
    await run(untar, ctx, {
      inPath: 'out/src.tgz',
      outPath: 'x',
      stripComponents: 1,
      ignore: '*.txt'
    })
    expect(walk(at(ctx, 'x'))).toEqual([
      'a.yaml',
      `${'d'.repeat(120)}/${'f'.repeat(90)}.yaml`,
      'sub/b.yaml',
      'tmp/t.yaml'
    ])
    expect(read(ctx, 'x/sub/b.yaml')).toBe('b\n')
  })

  it('extracts archives made by system tar', async () => {
    const ctx = stepContext()
    writeFiles(ctx.workDir, TREE)
    sh('tar', ['-czf', at(ctx, 'sys.tar.gz'), '-C', ctx.workDir, 'src'])
    await run(untar, ctx, { inPath: 'sys.tar.gz', outPath: 'y' })
    expect(walk(at(ctx, 'y'))).toEqual(Object.keys(TREE).sort())
  })

  it('refuses tar-slip: .., absolute names, links out, and writes nothing', async () => {
    const ctx = stepContext()
    const cases: Array<[string, Buffer, RegExp]> = [
      [
        'dotdot.tar',
        rawTar([
          { name: 'ok.txt', data: 'ok' },
          { name: '../evil.txt', data: 'x' }
        ]),
        /leaves outPath/
      ],
      ['abs.tar', rawTar([{ name: '/tmp/evil.txt', data: 'x' }]), /absolute path/],
      [
        'link.tar',
        rawTar([{ name: 'l', type: '2', link: '../../..' }]),
        /link to '..\/..\/..', outside outPath/
      ],
      ['abslink.tar', rawTar([{ name: 'l', type: '2', link: '/etc' }]), /outside outPath/]
    ]
    for (const [name, buf, re] of cases) {
      fs.writeFileSync(at(ctx, name), name.endsWith('.tar') ? buf : zlib.gzipSync(buf))
      await expect(run(untar, ctx, { inPath: name, outPath: `out-${name}` })).rejects.toThrow(re)
      // A refused archive writes nothing, not even outPath.
      expect(fs.existsSync(at(ctx, `out-${name}`))).toBe(false)
    }
    expect(fs.existsSync(path.join(path.dirname(ctx.workDir), 'evil.txt'))).toBe(false)
    // A link inside outPath is fine.
    fs.writeFileSync(
      at(ctx, 'inside.tar'),
      rawTar([
        { name: 'dir/', type: '5' },
        { name: 'dir/f', data: 'f' },
        { name: 'l', type: '2', link: 'dir/f' }
      ])
    )
    await run(untar, ctx, { inPath: 'inside.tar', outPath: 'in' })
    expect(read(ctx, 'in/l')).toBe('f')
  })

  it('refuses writing through a link that an existing outPath holds', async () => {
    const ctx = stepContext()
    const outside = tempDir()
    fs.mkdirSync(at(ctx, 'out'))
    fs.symlinkSync(outside, at(ctx, 'out/l'))
    fs.writeFileSync(at(ctx, 't.tar'), rawTar([{ name: 'l/pwned', data: 'x' }]))
    await expect(run(untar, ctx, { inPath: 't.tar', outPath: 'out' })).rejects.toThrow(
      /through a link outside outPath/
    )
    expect(fs.readdirSync(outside)).toEqual([])
    await expect(run(untar, ctx, { inPath: 't.tar', outPath: '../o' })).rejects.toThrow(
      /untar\.outPath/
    )
    await expect(run(tar, ctx, { inPath: '/etc', outPath: 'o.tar' })).rejects.toThrow(
      /tar\.inPath: .*absolute/
    )
    expect(() => untar.parse({ inPath: 'a', outPath: 'b', stripComponents: -1 })).toThrow(
      /stripComponents/
    )
  })
})

describe('http-download', () => {
  let server: http.Server
  let base: string
  const seen: http.IncomingHttpHeaders[] = []
  const body = Buffer.alloc(3 * 1024 * 1024, 'z')

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      seen.push(req.headers)
      const url = new URL(req.url ?? '/', 'http://x')
      if (url.pathname === '/big') res.writeHead(200).end(body)
      else if (url.pathname === '/redirect') res.writeHead(302, { location: '/echo?r=1' }).end()
      else if (url.pathname === '/echo')
        res.writeHead(200).end(
          JSON.stringify({
            q: Object.fromEntries(url.searchParams),
            auth: req.headers.authorization
          })
        )
      else if (url.pathname === '/slow')
        setTimeout(() => res.writeHead(200).end('late'), 2000).unref()
      else res.writeHead(404).end('nope')
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections()
        server.close(() => r())
      })
  )

  it('streams a download to outPath, with headers and query params, following redirects', async () => {
    const ctx = stepContext()
    await run(httpDownload, ctx, { url: `${base}/big`, outPath: 'dl/big.bin' })
    expect(fs.statSync(at(ctx, 'dl/big.bin')).size).toBe(body.length)
    await run(httpDownload, ctx, {
      url: `${base}/redirect`,
      outPath: 'dl/echo.json',
      headers: [{ name: 'Authorization', value: 'Bearer t0ken-value' }],
      queryParams: [{ name: 'a', value: 'b c' }]
    })
    expect(JSON.parse(read(ctx, 'dl/echo.json'))).toEqual({
      q: { r: '1' },
      auth: 'Bearer t0ken-value'
    })
    await run(httpDownload, ctx, {
      url: `${base}/echo`,
      outPath: 'q.json',
      queryParams: [{ name: 'a', value: 'b c' }]
    })
    expect(JSON.parse(read(ctx, 'q.json')).q).toEqual({ a: 'b c' })
  })

  it('refuses to overwrite unless allowOverwrite, reports HTTP errors and timeouts', async () => {
    const ctx = stepContext()
    writeFiles(ctx.workDir, { 'f.txt': 'old' })
    await expect(run(httpDownload, ctx, { url: `${base}/big`, outPath: 'f.txt' })).rejects.toThrow(
      /http-download\.outPath: 'f.txt' already exists/
    )
    await run(httpDownload, ctx, { url: `${base}/echo`, outPath: 'f.txt', allowOverwrite: true })
    expect(read(ctx, 'f.txt')).toMatch(/^\{/)
    await expect(
      run(httpDownload, ctx, { url: `${base}/missing`, outPath: 'm.txt' })
    ).rejects.toThrow(/returned HTTP 404/)
    expect(fs.existsSync(at(ctx, 'm.txt'))).toBe(false)
    await expect(
      run(httpDownload, ctx, { url: `${base}/slow`, outPath: 's.txt', timeout: '300ms' })
    ).rejects.toThrow(/did not finish within 300ms/)
    expect(fs.readdirSync(ctx.workDir).sort()).toEqual(['f.txt'])
    await expect(run(httpDownload, ctx, { url: `${base}/big`, outPath: '../x' })).rejects.toThrow(
      /http-download\.outPath: .*leaves/
    )
    expect(() => httpDownload.parse({ url: 'x', outPath: 'y', timeout: 'soon' })).toThrow(/timeout/)
  })
})
