import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import fs from 'node:fs'
import path from 'node:path'
import { git, gitEnv } from '../../src/git/git.js'
import { childEnv, runTool } from '../../src/util/exec.js'
import { registerSecret } from '../../src/util/logger.js'
import { makeRepo, tempDir } from '../support/git.js'

/**
 * Issue 12, item 1: every tool Waybill starts inherited the whole process environment, so a chart
 * whose file is a symlink to /proc/self/environ rendered INPUT_TOKEN into the manifests. Each
 * child now gets a minimal environment built for it.
 */

const SECRETS: Record<string, string> = {
  INPUT_TOKEN: 'ghs_inputTokenValue1234',
  INPUT_SECRETS: 'db=hunter2-input-secrets',
  GITHUB_TOKEN: 'ghs_githubTokenValue5678',
  ACTIONS_RUNTIME_TOKEN: 'actions-runtime-token-value',
  ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'actions-id-token-request',
  RUNNER_TOKEN_LIKE: 'runner-token-like-value',
  WAYBILL_REGISTRY_CREDENTIALS: 'ghcr.io=user:registry-password-value',
  MY_DEPLOY_KEY: 'registered-secret-in-env'
}
const saved: Record<string, string | undefined> = {}

beforeAll(() => {
  for (const [k, v] of Object.entries(SECRETS)) {
    saved[k] = process.env[k]
    process.env[k] = v
  }
  registerSecret(SECRETS.MY_DEPLOY_KEY)
})
afterAll(() => {
  for (const k of Object.keys(SECRETS)) {
    if (saved[k] === undefined) delete process.env[k]
    else process.env[k] = saved[k]
  }
})

function expectNoSecret(text: string): void {
  for (const [name, value] of Object.entries(SECRETS)) {
    expect(text).not.toContain(value)
    expect(text).not.toContain(`${name}=`)
  }
}

describe('childEnv', () => {
  it('keeps the allowlist, drops inputs, tokens and variables holding a registered secret', () => {
    const parent = {
      PATH: '/usr/bin',
      HOME: '/home/runner',
      LC_CTYPE: 'C.UTF-8',
      HTTPS_PROXY: 'http://proxy:3128',
      SSH_AUTH_SOCK: '/tmp/agent.sock',
      ...SECRETS,
      SOME_OTHER: 'x',
      TMPDIR: `/tmp/${SECRETS.MY_DEPLOY_KEY}`
    }
    const env = childEnv({}, parent)
    expect(env).toEqual({
      PATH: '/usr/bin',
      HOME: '/home/runner',
      LC_CTYPE: 'C.UTF-8',
      HTTPS_PROXY: 'http://proxy:3128',
      SSH_AUTH_SOCK: '/tmp/agent.sock'
    })
  })

  it('adds what the caller builds, but not what it merely passes through from the parent', () => {
    const parent = { PATH: '/usr/bin', ...SECRETS, SOME_OTHER: 'x' }
    const env = childEnv({ ...parent, HELM_CACHE_HOME: '/tmp/h', GIT_CONFIG_COUNT: '1' }, parent)
    expect(env).toEqual({ PATH: '/usr/bin', HELM_CACHE_HOME: '/tmp/h', GIT_CONFIG_COUNT: '1' })
    // Never, even when built for the call.
    expect(childEnv({ INPUT_TOKEN: 'other', GITHUB_TOKEN: 'other' }, parent)).toEqual({
      PATH: '/usr/bin'
    })
  })

  it("gives git its safe settings and exactly this remote's credential header", () => {
    const env = gitEnv({ token: 'ghp_perRemoteToken123', urlPrefix: 'https://git.example/' })
    expect(env.GIT_TERMINAL_PROMPT).toBe('0')
    expect(env.GIT_CONFIG_NOSYSTEM).toBe('1')
    const config = Array.from({ length: Number(env.GIT_CONFIG_COUNT) }, (_, i) => [
      env[`GIT_CONFIG_KEY_${i}`],
      env[`GIT_CONFIG_VALUE_${i}`]
    ])
    expect(config).toEqual([
      ['maintenance.auto', 'false'],
      ['gc.auto', '0'],
      // An empty value first drops headers configured elsewhere (actions/checkout's).
      ['http.https://git.example/.extraheader', ''],
      ['http.https://git.example/.extraheader', expect.stringMatching(/^AUTHORIZATION: basic /)]
    ])
    expectNoSecret(JSON.stringify(env))
  })
})

describe('real children see none of the secrets', () => {
  it('a git hook (run by git itself, no shell from Waybill) prints an environment without them', async () => {
    const { work } = makeRepo()
    const out = path.join(tempDir(), 'hook-env.txt')
    const hook = path.join(work, '.git', 'hooks', 'pre-commit')
    fs.writeFileSync(hook, `#!/bin/sh\nenv > '${out}'\n`, { mode: 0o755 })
    await git(['commit', '-q', '--allow-empty', '-m', 'hooked'], { cwd: work })
    const printed = fs.readFileSync(out, 'utf8')
    expect(printed).toMatch(/^PATH=/m)
    expectNoSecret(printed)
  })

  it('helm renders a chart file that links to /proc/self/environ without any secret in it', async () => {
    const chart = path.join(tempDir(), 'leak')
    fs.mkdirSync(path.join(chart, 'templates'), { recursive: true })
    fs.mkdirSync(path.join(chart, 'files'))
    fs.writeFileSync(path.join(chart, 'Chart.yaml'), 'apiVersion: v2\nname: leak\nversion: 0.1.0\n')
    fs.writeFileSync(
      path.join(chart, 'templates', 'cm.yaml'),
      [
        'apiVersion: v1',
        'kind: ConfigMap',
        'metadata: {name: leak}',
        'data:',
        '  env: {{ .Files.Get "files/env" | replace "\\x00" "\\n" | quote }}',
        ''
      ].join('\n')
    )
    fs.symlinkSync('/proc/self/environ', path.join(chart, 'files', 'env'))
    const helmHome = tempDir()
    const { stdout } = await runTool('helm', ['template', 'leak', chart], {
      // What the helm steps pass: the parent environment spread, plus helm's own directories.
      env: {
        ...process.env,
        HELM_CACHE_HOME: path.join(helmHome, 'cache'),
        HELM_CONFIG_HOME: path.join(helmHome, 'config'),
        HELM_DATA_HOME: path.join(helmHome, 'data')
      }
    })
    expect(stdout).toContain('HELM_CACHE_HOME=')
    expectNoSecret(stdout)
  })
})
