import { describe, expect, it } from '@jest/globals'
import fs from 'node:fs'
import path from 'node:path'
import { tempDir, writeFiles } from '../support/git.js'
import { stepContext } from '../support/step-context.js'
import { copy } from '../../src/steps/files/copy.js'
import { del } from '../../src/steps/files/delete.js'
import { fileWrite } from '../../src/steps/files/file-write.js'
import { jsonUpdate } from '../../src/steps/files/json-update.js'
import { kustomizeBuild, writeResourceFiles } from '../../src/steps/files/kustomize-build.js'
import { tar } from '../../src/steps/files/tar.js'
import { untar } from '../../src/steps/files/untar.js'
import { yamlMerge } from '../../src/steps/files/yaml-merge.js'
import { yamlParse } from '../../src/steps/files/yaml-parse.js'
import { yamlUpdate } from '../../src/steps/files/yaml-update.js'
import { resolveInside } from '../../src/util/fs-confined.js'
import type { StepContext, StepDefinition } from '../../src/steps/types.js'
import type { Capability } from '../../src/steps/capabilities.js'

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function run(step: StepDefinition<any>, ctx: StepContext<Capability>, config: unknown) {
  return step.run(step.parse(config), ctx)
}
const at = (ctx: StepContext<Capability>, f: string) => path.join(ctx.workDir, f)

/**
 * The bypass: `env -> p/..` and `p -> <outside>/sub`. realpath resolves `env` to the
 * work dir (it applies `..` to the link's own path); the kernel goes to `<outside>`.
 */
function dotDotTrap(ctx: StepContext<Capability>): string {
  const outside = tempDir('waybill-outside-')
  fs.mkdirSync(path.join(outside, 'sub'))
  writeFiles(outside, { 'values.yaml': 'secret: outside\n', 'a.json': '{"a":1}\n' })
  fs.symlinkSync(path.join(outside, 'sub'), at(ctx, 'p'))
  fs.symlinkSync('p/..', at(ctx, 'env'))
  // The kernel agrees that env/values.yaml is the outside file.
  expect(fs.readFileSync(at(ctx, 'env/values.yaml'), 'utf8')).toBe('secret: outside\n')
  return outside
}

/** A ustar archive from entries (type 0 file, 1 hard link, 2 symlink, 5 directory). */
function rawTar(
  entries: Array<{ name: string; type?: '0' | '1' | '2' | '5'; data?: string; link?: string }>
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

describe('path resolution follows the kernel, not realpath', () => {
  it('refuses `..` after a link that leads out', () => {
    const ctx = stepContext()
    dotDotTrap(ctx)
    expect(() => resolveInside(ctx.workDir, 'env/values.yaml', 'f')).toThrow(
      /f: 'env\/values.yaml' resolves through a symlink outside/
    )
  })

  it('follows links that stay inside and names the resolved target', () => {
    const ctx = stepContext()
    writeFiles(ctx.workDir, { 'real/dir/x.yaml': 'x' })
    fs.symlinkSync('real/dir', at(ctx, 'l'))
    fs.symlinkSync('l/..', at(ctx, 'up')) // kernel: real/dir/.. = real
    expect(resolveInside(ctx.workDir, 'l/x.yaml', 'f')).toBe(at(ctx, 'real/dir/x.yaml'))
    expect(resolveInside(ctx.workDir, 'up/dir/x.yaml', 'f')).toBe(at(ctx, 'real/dir/x.yaml'))
    expect(resolveInside(ctx.workDir, 'l', 'f', { followFinal: false })).toBe(at(ctx, 'l'))
    fs.symlinkSync(at(ctx, 'real'), at(ctx, 'abs'))
    expect(resolveInside(ctx.workDir, 'abs/dir/x.yaml', 'f')).toBe(at(ctx, 'real/dir/x.yaml'))
    fs.symlinkSync('loop', at(ctx, 'loop'))
    expect(() => resolveInside(ctx.workDir, 'loop/x', 'f')).toThrow(/too many levels/)
  })

  it('a missing component before `..` does not hide a link out', () => {
    const ctx = stepContext()
    const outside = tempDir('waybill-outside-')
    fs.symlinkSync(outside, at(ctx, 'evil'))
    expect(() => resolveInside(ctx.workDir, 'nope/../evil/x', 'f')).toThrow(/symlink outside/)
  })
})

describe('steps refuse the `..`-after-link bypass', () => {
  it('yaml-update does not overwrite the outside file', async () => {
    const ctx = stepContext()
    const outside = dotDotTrap(ctx)
    await expect(
      run(yamlUpdate, ctx, { path: 'env/values.yaml', updates: [{ key: 'secret', value: 'x' }] })
    ).rejects.toThrow(/yaml-update\.path: .*symlink outside/)
    expect(fs.readFileSync(path.join(outside, 'values.yaml'), 'utf8')).toBe('secret: outside\n')
  })

  it('yaml-parse, json-update, yaml-merge and copy do not read outside', async () => {
    const ctx = stepContext()
    dotDotTrap(ctx)
    await expect(
      run(yamlParse, ctx, {
        path: 'env/values.yaml',
        outputs: [{ name: 's', fromExpression: 'secret' }]
      })
    ).rejects.toThrow(/yaml-parse\.path: .*symlink outside/)
    await expect(
      run(jsonUpdate, ctx, { path: 'env/a.json', updates: [{ key: 'a', value: 2 }] })
    ).rejects.toThrow(/json-update\.path: .*symlink outside/)
    await expect(
      run(yamlMerge, ctx, { inFiles: ['env/values.yaml'], outFile: 'm.yaml' })
    ).rejects.toThrow(/yaml-merge\.inFiles\[0\]: .*symlink outside/)
    await expect(run(copy, ctx, { inPath: 'env/values.yaml', outPath: 'c.yaml' })).rejects.toThrow(
      /copy\.inPath: .*symlink outside/
    )
    expect(fs.existsSync(at(ctx, 'c.yaml'))).toBe(false)
    expect(fs.existsSync(at(ctx, 'm.yaml'))).toBe(false)
  })
})

describe('writes never go through a link in the destination', () => {
  it('copy does not write through existing or dangling links under outPath', async () => {
    const ctx = stepContext()
    const outside = tempDir('waybill-outside-')
    writeFiles(outside, { 'victim.txt': 'keep\n' })
    writeFiles(ctx.workDir, { 'src/victim.txt': 'pwned\n', 'src/fresh.txt': 'pwned\n' })
    fs.mkdirSync(at(ctx, 'out'))
    fs.symlinkSync(path.join(outside, 'victim.txt'), at(ctx, 'out/victim.txt'))
    fs.symlinkSync(path.join(outside, 'fresh.txt'), at(ctx, 'out/fresh.txt')) // dangling
    await expect(run(copy, ctx, { inPath: 'src', outPath: 'out' })).rejects.toThrow(
      /copy\.outPath: .*symlink outside/
    )
    expect(fs.readFileSync(path.join(outside, 'victim.txt'), 'utf8')).toBe('keep\n')
    expect(fs.existsSync(path.join(outside, 'fresh.txt'))).toBe(false)
  })

  it('copy does not write into a linked-out directory under outPath', async () => {
    const ctx = stepContext()
    const outside = tempDir('waybill-outside-')
    writeFiles(ctx.workDir, { 'src/sub/f.txt': 'pwned\n' })
    fs.mkdirSync(at(ctx, 'out'))
    fs.symlinkSync(outside, at(ctx, 'out/sub'))
    await expect(run(copy, ctx, { inPath: 'src', outPath: 'out' })).rejects.toThrow(
      /symlink outside/
    )
    expect(fs.readdirSync(outside)).toEqual([])
  })

  it('tar does not write its archive through a link at outPath', async () => {
    const ctx = stepContext()
    const outside = tempDir('waybill-outside-')
    writeFiles(outside, { 'victim.tar': 'keep' })
    writeFiles(ctx.workDir, { 'src/a.txt': 'a' })
    fs.symlinkSync(path.join(outside, 'victim.tar'), at(ctx, 'out.tar'))
    fs.symlinkSync(path.join(outside, 'new.tar'), at(ctx, 'dangling.tar'))
    await expect(run(tar, ctx, { inPath: 'src', outPath: 'out.tar' })).rejects.toThrow(
      /tar\.outPath: .*symlink outside/
    )
    await expect(run(tar, ctx, { inPath: 'src', outPath: 'dangling.tar' })).rejects.toThrow(
      /tar\.outPath: .*symlink outside/
    )
    expect(fs.readFileSync(path.join(outside, 'victim.tar'), 'utf8')).toBe('keep')
    expect(fs.existsSync(path.join(outside, 'new.tar'))).toBe(false)
  })

  it('file-write replaces a link inside instead of following one out', async () => {
    const ctx = stepContext()
    const outside = tempDir('waybill-outside-')
    fs.symlinkSync(path.join(outside, 'x'), at(ctx, 'w'))
    await expect(
      run(fileWrite, ctx, { path: 'w', contents: 'pwned', overwrite: true })
    ).rejects.toThrow(/file-write\.path: .*symlink outside/)
    expect(fs.existsSync(path.join(outside, 'x'))).toBe(false)
  })

  it('delete removes a link, not what it points to', async () => {
    const ctx = stepContext()
    const outside = tempDir('waybill-outside-')
    writeFiles(outside, { 'keep.txt': 'k' })
    fs.symlinkSync(outside, at(ctx, 'link'))
    await run(del, ctx, { path: 'link' })
    expect(fs.existsSync(at(ctx, 'link'))).toBe(false)
    expect(fs.existsSync(path.join(outside, 'keep.txt'))).toBe(true)
  })
})

describe('file names taken from content are sanitized', () => {
  it('kustomize-build refuses a resource name that is a path', () => {
    const ctx = stepContext()
    const out = at(ctx, 'out')
    const evil = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ../../../pwned\n'
    expect(() => writeResourceFiles(ctx.workDir, out, evil, 'kargo')).toThrow(
      /ConfigMap '..\/..\/..\/pwned'.*file name/
    )
    expect(() => writeResourceFiles(ctx.workDir, out, evil, 'kustomize')).toThrow(/file name/)
    expect(fs.existsSync(path.join(ctx.workDir, '..', 'pwned.yaml'))).toBe(false)
  })

  it('kustomize-build with real kustomize writes nothing outside for a hostile name', async () => {
    // The work dir sits three levels deep in a folder of its own, so other test processes
    // creating temp dirs beside it cannot change what this test compares.
    const box = tempDir('waybill-box-')
    const workDir = path.join(box, 'a', 'b', 'work')
    fs.mkdirSync(workDir, { recursive: true })
    const ctx = stepContext({ workDir })
    writeFiles(ctx.workDir, {
      'app/kustomization.yaml': 'resources:\n- cm.yaml\n',
      'app/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ../../../../evil\n'
    })
    fs.mkdirSync(at(ctx, 'out'))
    const listing = () => fs.readdirSync(box, { recursive: true }).map(String).sort()
    const before = listing()
    await expect(run(kustomizeBuild, ctx, { path: 'app', outPath: 'out' })).rejects.toThrow(
      /file name/
    )
    expect(listing()).toEqual(before)
    expect(fs.existsSync(path.join(path.dirname(box), 'evil.yaml'))).toBe(false)
  })

  it('kustomize-build does not write through a link already in outPath', () => {
    const ctx = stepContext()
    const outside = tempDir('waybill-outside-')
    fs.mkdirSync(at(ctx, 'out'))
    fs.symlinkSync(path.join(outside, 'x.yaml'), at(ctx, 'out/configmap-a.yaml'))
    const cm = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n'
    writeResourceFiles(ctx.workDir, at(ctx, 'out'), cm, 'kargo')
    expect(fs.existsSync(path.join(outside, 'x.yaml'))).toBe(false)
    expect(fs.lstatSync(at(ctx, 'out/configmap-a.yaml')).isFile()).toBe(true)
  })

  it('untar refuses a link chain that only leaves once a later entry exists', async () => {
    // y -> z/..  looks like the output dir while z is missing; z -> . then makes y its parent.
    const ctx = stepContext()
    fs.writeFileSync(
      at(ctx, 't.tar'),
      rawTar([
        { name: 'y', type: '2', link: 'z/..' },
        { name: 'z', type: '2', link: '.' }
      ])
    )
    await expect(run(untar, ctx, { inPath: 't.tar', outPath: 'out' })).rejects.toThrow(
      /untar\.inPath: archive entry 'y' .*outside outPath/
    )
    expect(fs.existsSync(at(ctx, 'out/y'))).toBe(false)
  })

  it('untar refuses writing a file under a link from the same archive', async () => {
    const ctx = stepContext()
    fs.writeFileSync(
      at(ctx, 't.tar'),
      rawTar([
        { name: 'd', type: '5' },
        { name: 'l', type: '2', link: 'd' },
        { name: 'l/f', data: 'x' }
      ])
    )
    await expect(run(untar, ctx, { inPath: 't.tar', outPath: 'out' })).rejects.toThrow(
      /archive entry 'l\/f' .*link/
    )
  })

  it('untar skips hard links and refuses absolute and `..` names', async () => {
    const ctx = stepContext()
    fs.writeFileSync(
      at(ctx, 'h.tar'),
      rawTar([
        { name: 'f', data: 'x' },
        { name: 'h', type: '1', link: '/etc/passwd' }
      ])
    )
    await run(untar, ctx, { inPath: 'h.tar', outPath: 'out' })
    expect(fs.readdirSync(at(ctx, 'out'))).toEqual(['f'])
    fs.writeFileSync(at(ctx, 'a.tar'), rawTar([{ name: '/abs', data: 'x' }]))
    await expect(run(untar, ctx, { inPath: 'a.tar', outPath: 'o2' })).rejects.toThrow(/absolute/)
    fs.writeFileSync(at(ctx, 'd.tar'), rawTar([{ name: 'a/../../x', data: 'x' }]))
    await expect(run(untar, ctx, { inPath: 'd.tar', outPath: 'o3' })).rejects.toThrow(/'\.\.'/)
  })
})
