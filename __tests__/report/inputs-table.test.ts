import { describe, expect, it } from '@jest/globals'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

const script = path.join(process.cwd(), 'scripts', 'inputs-table.mjs')
const run = (...args: string[]) => spawnSync('node', [script, ...args], { encoding: 'utf8' })

describe('scripts/inputs-table.mjs', () => {
  it('finds the README tables up to date with action.yml (--check)', () => {
    const res = run('--check')
    expect(res.stderr).toBe('')
    expect(res.status).toBe(0)
  })

  it('fails --check on a stale README, then fixes it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'waybill-inputs-'))
    const readme = path.join(dir, 'README.md')
    const action = path.join(dir, 'action.yml')
    fs.writeFileSync(
      action,
      [
        'name: x',
        'inputs:',
        '  token:',
        "    description: 'A | pipe and <b>tag</b>'",
        '    required: true',
        '    default: ${{ github.token }}',
        '  quiet:',
        '    description: Less output',
        'outputs:',
        '  result:',
        '    description: What happened',
        ''
      ].join('\n')
    )
    fs.writeFileSync(
      readme,
      '# x\n<!-- inputs:start -->\nold\n<!-- inputs:end -->\n\n<!-- outputs:start -->\n<!-- outputs:end -->\n'
    )
    let res = run('--check', '--readme', readme, '--action', action)
    expect(res.status).toBe(1)
    expect(res.stderr).toContain('stale')
    res = run('--readme', readme, '--action', action)
    expect(res.status).toBe(0)
    const text = fs.readFileSync(readme, 'utf8')
    expect(text).toContain(
      '| `token` (required) | A \\| pipe and &lt;b>tag&lt;/b> | `${{ github.token }}` |'
    )
    expect(text).toContain('| `quiet` | Less output |  |')
    expect(text).toContain('| `result` | What happened |')
    expect(text).not.toContain('old')
    expect(run('--check', '--readme', readme, '--action', action).status).toBe(0)
  })

  it('says which markers are missing', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'waybill-inputs-'))
    const readme = path.join(dir, 'README.md')
    fs.writeFileSync(readme, '# no markers\n')
    const res = run('--check', '--readme', readme)
    expect(res.status).toBe(2)
    expect(res.stderr).toContain('<!-- inputs:start -->')
  })
})
