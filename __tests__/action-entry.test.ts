// The action entry (src/main.ts) run from sources the way the runner runs it: inputs as
// INPUT_<NAME>, the workspace in GITHUB_WORKSPACE, workflow commands on stdout.
import { afterAll, describe, expect, it } from '@jest/globals'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import os from 'node:os'
import { BASE, writeProject } from './config/support.js'
import { parseOutputFile } from './support/output-file.js'
import { nodeArgs } from './support/built-entry.js'

const entry = path.join(process.cwd(), 'src', 'index.ts')
const dirs: string[] = []
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })))

function runAction(workspace: string, inputs: Record<string, string>) {
  const files = fs.mkdtempSync(path.join(os.tmpdir(), 'waybill-runner-'))
  dirs.push(files)
  const summaryPath = path.join(files, 'summary')
  const outputPath = path.join(files, 'output')
  fs.writeFileSync(summaryPath, '')
  fs.writeFileSync(outputPath, '')
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: workspace,
    GITHUB_EVENT_NAME: 'workflow_dispatch',
    GITHUB_REPOSITORY: 'acme/gitops',
    GITHUB_STEP_SUMMARY: summaryPath,
    GITHUB_OUTPUT: outputPath
  }
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.toUpperCase()}`] = value
  const res = spawnSync('node', nodeArgs(entry), { encoding: 'utf8', env })
  return {
    code: res.status,
    stdout: res.stdout,
    stderr: res.stderr,
    summary: fs.readFileSync(summaryPath, 'utf8'),
    outputs: parseOutputFile(fs.readFileSync(outputPath, 'utf8'))
  }
}

/** `::error` workflow commands: one per annotation. */
const errorAnnotations = (stdout: string) =>
  stdout.split('\n').filter((l) => l.startsWith('::error'))

describe('action entry', () => {
  it('a config error fails the run with one annotation per problem at its file and line', () => {
    const repo = writeProject({
      'base.yaml': BASE,
      'broken.yaml': [
        'apiVersion: kargo.akuity.io/v1alpha1',
        'kind: Stage',
        'metadata:',
        '  name: broken',
        'spec:',
        '  requestedFreight:',
        '    - origin: { kind: Warehouse, name: nowhere }',
        '      sources: { direct: true }',
        ''
      ].join('\n')
    })
    dirs.push(repo)
    const r = runAction(repo, { command: 'plan' })
    expect(r.code).toBe(1)
    // One failure, one annotation: at the file and line; the list is a plain line.
    const annotations = errorAnnotations(r.stdout)
    expect(annotations).toHaveLength(1)
    expect(annotations[0]).toMatch(
      /^::error file=\.waybill\/broken\.yaml,line=7,col=\d+::Stage\/broken: /
    )
    expect(r.stdout).toMatch(/^1 configuration error in \.waybill:/m)
    // The failure still reaches the job summary and the outputs.
    expect(r.summary).toContain('### ❌ waybill plan failed')
    expect(r.summary).toContain('1 configuration error in .waybill')
    expect(r.outputs.command).toBe('plan')
    expect(r.outputs.error).toMatch(/^1 configuration error in \.waybill/)
  }, 120_000)

  it('any other failure is reported without config annotations', () => {
    const repo = writeProject({ 'base.yaml': BASE })
    dirs.push(repo)
    const r = runAction(repo, { command: 'promote' })
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/^::error::--stage is required/m)
    expect(r.stdout).not.toMatch(/^::error /m)
    expect(errorAnnotations(r.stdout)).toHaveLength(1)
    expect(r.summary).toContain('--stage is required')
  }, 120_000)

  it('an input that does not parse fails naming it, with the hint in the summary', () => {
    const repo = writeProject({ 'base.yaml': BASE })
    dirs.push(repo)
    for (const [name, value, message] of [
      ['deployments', 'yes', "input 'deployments' must be true or false"],
      ['wait', '5 minutes', "input 'wait' is not a duration"]
    ]) {
      const r = runAction(repo, { command: 'plan', [name]: value })
      expect(r.code).toBe(1)
      const annotations = errorAnnotations(r.stdout)
      expect(annotations).toHaveLength(1)
      expect(annotations[0]).toContain(message)
      expect(r.summary).toContain(message)
      expect(r.summary).toMatch(/\*\*Hint:\*\* write /)
    }
  }, 120_000)
})
