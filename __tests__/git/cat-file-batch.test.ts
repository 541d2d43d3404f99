import { describe, expect, it } from '@jest/globals'
import fs from 'node:fs'
import path from 'node:path'
import { gitIn, makeRepo } from '../support/git.js'
import { catFileBatch } from '../../src/git/git.js'

describe('catFileBatch', () => {
  it('reads objects byte for byte, so content that is not UTF-8 does not shift the ones after it', async () => {
    const { work } = makeRepo({ 'a.yaml': 'kind: A\n' })
    const binary = Buffer.from([0xff, 0xfe, 0x0a, 0x80, 0x00, 0xc3])
    fs.writeFileSync(path.join(work, 'b.bin'), binary)
    fs.writeFileSync(path.join(work, 'c.yaml'), 'kind: C\n')
    gitIn(work, 'add', '-A')
    gitIn(work, 'commit', '-q', '-m', 'more')
    const names = ['HEAD:b.bin', 'HEAD:missing.yaml', 'HEAD:c.yaml', 'HEAD:a.yaml', 'HEAD']
    const objects = await catFileBatch(names, { cwd: work })
    expect(objects.get('HEAD:b.bin')).toEqual({ type: 'blob', content: binary })
    expect(objects.has('HEAD:missing.yaml')).toBe(false)
    expect(objects.get('HEAD:c.yaml')?.content.toString()).toBe('kind: C\n')
    expect(objects.get('HEAD:a.yaml')?.content.toString()).toBe('kind: A\n')
    expect(objects.get('HEAD')?.type).toBe('commit')
  })

  it('refuses an object name with a line break (it would shift every answer)', async () => {
    await expect(catFileBatch(['HEAD:a\nb'])).rejects.toThrow(/line break/)
  })
})
