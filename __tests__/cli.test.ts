import { describe, expect, it } from '@jest/globals'
import { execFileSync, spawnSync } from 'node:child_process'
import path from 'node:path'
import { nodeArgs } from './support/built-entry.js'

const cli = path.join(process.cwd(), 'src', 'cli-entry.ts')

describe('waybill CLI', () => {
  it('prints its version', () => {
    const out = execFileSync('node', nodeArgs(cli, 'version'), { encoding: 'utf8' })
    expect(out.trim()).toMatch(/^\d+\.\d+\.\d+$/)
    for (const flag of ['--version', '-v'])
      expect(execFileSync('node', nodeArgs(cli, flag), { encoding: 'utf8' })).toBe(out)
  })
  it('exits 2 on an unknown command and names it', () => {
    const res = spawnSync('node', nodeArgs(cli, 'frobnicate'), { encoding: 'utf8' })
    expect(res.status).toBe(2)
    expect(res.stderr).toContain("unknown command 'frobnicate'")
  })
  it('exits 2 on a bare word instead of ignoring it, and says values are flags', () => {
    const res = spawnSync('node', nodeArgs(cli, 'promote', 'uat', 'brave-otter'), {
      encoding: 'utf8'
    })
    expect(res.status).toBe(2)
    expect(res.stderr).toContain("waybill promote: unexpected argument 'uat'")
    expect(res.stderr).toContain('--stage uat --freight brave-otter')
  })
  it('exits 2 on an unknown flag', () => {
    const res = spawnSync('node', nodeArgs(cli, 'version', '--nope'), {
      encoding: 'utf8'
    })
    expect(res.status).toBe(2)
    expect(res.stderr).toContain('--nope')
  })
})

describe('waybill CLI: values as users write them', () => {
  it('rejects a --wait that is not a duration, naming the flag', () => {
    const res = spawnSync('node', nodeArgs(cli, 'version', '--wait', 'soon'), {
      encoding: 'utf8'
    })
    expect(res.status).toBe(2)
    expect(res.stderr).toContain('--wait is not a duration')
  })
  it('refuses --dry-run for a command that changes the state', () => {
    const res = spawnSync(
      'node',
      nodeArgs(cli, 'approve', '--stage', 'a', '--freight', 'b', '--dry-run'),
      { encoding: 'utf8' }
    )
    expect(res.status).toBe(2)
    expect(res.stderr).toContain('approve has no dry run')
  })
})
