// `waybill validate` through the real CLI entry point.
import { afterAll, describe, expect, it } from '@jest/globals'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { BASE, writeProject } from './support.js'
import { nodeArgs } from '../support/built-entry.js'

const cli = path.join(process.cwd(), 'src', 'cli-entry.ts')
const dirs: string[] = []
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })))

function project(files: Record<string, string>): string {
  const dir = writeProject(files)
  dirs.push(dir)
  return dir
}

function validate(repo: string, ...flags: string[]) {
  const res = spawnSync(
    'node',
    nodeArgs(cli, 'validate', '--repo-dir', repo, ...flags),
    {
      encoding: 'utf8'
    }
  )
  return { code: res.status, stdout: res.stdout, stderr: res.stderr }
}

const BAD_STAGE = `apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata:
  name: uat
spec:
  requestedFreight:
  - origin:
      kind: Warehouse
      name: app
    sources: {}
`

describe('waybill validate', () => {
  it('exits 0 on a valid config and says what it found', () => {
    const r = validate(project({ 'base.yaml': BASE }))
    expect(r.code).toBe(0)
    expect(r.stdout.trim()).toBe('.waybill: valid (1 warehouse, 1 stage, 1 promotion task)')
  })

  it('exits 0 with warnings, and prints them with their location on stderr', () => {
    const ok = validate(
      project({
        'base.yaml': BASE,
        'w.yaml':
          'apiVersion: kargo.akuity.io/v1alpha1\nkind: Warehouse\nmetadata:\n  name: w2\nspec:\n  subscriptions:\n  - git:\n      repoURL: git@github.com:acme/src.git\n'
      })
    )
    expect(ok.code).toBe(0)
    expect(ok.stdout.trim()).toBe(
      '.waybill: valid (2 warehouses, 1 stage, 1 promotion task; 1 warning)'
    )
    expect(ok.stderr).toContain(
      'warning: .waybill/w.yaml:8:16: Warehouse/w2: spec.subscriptions[0].git.repoURL: SSH URLs are deprecated since Kargo v1.10 (removal in v1.13)'
    )
  })

  it('exits 1 on errors and names file, line, column, resource and field', () => {
    const r = validate(project({ 'base.yaml': BASE, 'stages/uat.yaml': BAD_STAGE }))
    expect(r.code).toBe(1)
    expect(r.stdout.trim()).toBe('.waybill: 1 error')
    expect(r.stderr).toContain(
      'error: .waybill/stages/uat.yaml:10:14: Stage/uat: spec.requestedFreight[0].sources: must set direct or stages (hint: direct: true takes freight straight from the warehouse; stages: [name] after it is verified upstream)'
    )
  })

  it('--json prints {valid, problems} with a stable shape', () => {
    const r = validate(project({ 'base.yaml': BASE, 'uat.yaml': BAD_STAGE }), '--json')
    expect(r.code).toBe(1)
    const out = JSON.parse(r.stdout)
    expect(out).toEqual({
      valid: false,
      problems: [
        {
          severity: 'error',
          file: '.waybill/uat.yaml',
          line: 10,
          column: 14,
          kind: 'Stage',
          name: 'uat',
          field: 'spec.requestedFreight[0].sources',
          message: 'must set direct or stages',
          hint: 'direct: true takes freight straight from the warehouse; stages: [name] after it is verified upstream'
        }
      ]
    })
    expect(Object.keys(out.problems[0])).toEqual([
      'severity',
      'file',
      'line',
      'column',
      'kind',
      'name',
      'field',
      'message',
      'hint'
    ])
    const ok = JSON.parse(validate(project({ 'base.yaml': BASE }), '--json').stdout)
    expect(ok).toEqual({ valid: true, problems: [] })
  })

  it('--config points at another folder; a missing folder is an error', () => {
    const repo = project({ 'base.yaml': BASE })
    fs.renameSync(path.join(repo, '.waybill'), path.join(repo, 'kargo'))
    expect(validate(repo, '--config', 'kargo').code).toBe(0)
    const missing = validate(repo)
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain("error: .waybill: config folder '.waybill' not found")
  })
})
