// The action bundle run as the runner runs it, authenticated as a GitHub App (inputs app-id,
// private-key): the installation token is minted from the fake GitHub (JWT checked with the app's
// public key) and used for the REST API instead of the `token` input. Also: `dry-run`, and the
// pull-request outputs and commit identity of a promotion that opens a pull request.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFile, spawn } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import YAML from 'yaml'
import { startGitHttpServer, type GitHttpServer } from '../support/git-http.js'
import { startGitHubFake, type GitHubFake } from '../support/github-fake.js'
import { gitIn, sh, tempDir, writeFiles } from '../support/git.js'
import { parseOutputFile } from '../support/output-file.js'

const DIST = process.env.WAYBILL_ACTION_BUNDLE ?? path.join(process.cwd(), 'dist', 'index.js')
const keys = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })
const privateKey = keys.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()
const publicKey = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString()
/** What GITHUB_TOKEN would be: the fake accepts only minted installation tokens. */
const GITHUB_TOKEN = 'ghs_workflowTokenNotAccepted0001'

const config = (repo: string) => `apiVersion: kargo.akuity.io/v1alpha1
kind: Warehouse
metadata: { name: site }
spec:
  subscriptions:
    - git: { repoURL: ${repo}, branch: main, includePaths: [site/] }
---
apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata: { name: docs }
spec:
  requestedFreight:
    - origin: { kind: Warehouse, name: site }
      sources: { direct: true }
  promotionTemplate:
    spec:
      steps:
        - uses: git-clone
          config:
            repoURL: ${repo}
            checkout: [{ branch: main, path: ./out }]
        - uses: file-write
          config:
            path: ./out/deployed/docs.txt
            contents: "\${{ commitFrom('${repo}').ID }}\\n"
            overwrite: true
        - uses: git-commit
          config: { path: ./out, message: deploy docs }
        - uses: git-push
          as: push
          config: { path: ./out, generateTargetBranch: true }
        - uses: git-open-pr
          as: open-pr
          config:
            repoURL: ${repo}
            sourceBranch: \${{ outputs.push.branch }}
            targetBranch: main
        - uses: git-wait-for-pr
          config:
            repoURL: ${repo}
            prNumber: \${{ outputs['open-pr'].pr.id }}
---
apiVersion: kargo.akuity.io/v1alpha1
kind: ProjectConfig
metadata: { name: gitops }
spec:
  promotionPolicies:
    - stageSelector: { name: docs }
      autoPromotionEnabled: true
`

describe('the action authenticated as a GitHub App', () => {
  const root = tempDir('waybill-e2e-app-')
  let git: GitHttpServer
  let gh: GitHubFake
  let bare = ''
  let url = ''
  let runs = 0
  const defaults: Record<string, string> = {}

  beforeAll(async () => {
    if (!fs.existsSync(DIST)) throw new Error(`${DIST} is missing: run npm run bundle`)
    const action = YAML.parse(fs.readFileSync('action.yml', 'utf8')) as {
      inputs: Record<string, { default?: string }>
    }
    for (const [name, spec] of Object.entries(action.inputs))
      if (spec.default !== undefined) defaults[name] = spec.default
    const gitRoot = path.join(root, 'git')
    bare = path.join(gitRoot, 'acme', 'gitops.git')
    fs.mkdirSync(path.dirname(bare), { recursive: true })
    git = await startGitHttpServer(gitRoot)
    gh = await startGitHubFake({
      gitUrl: git.url,
      app: { id: 4242, publicKey, installationId: 77, tokenTtlMs: 3_600_000 }
    })
    url = `${git.url}/acme/gitops.git`
    const work = path.join(root, 'seed')
    sh('git', ['init', '-q', '--bare', '-b', 'main', bare])
    sh('git', ['init', '-q', '-b', 'main', work])
    writeFiles(work, { '.waybill/pipeline.yaml': config(url), 'site/index.md': '# docs\n' })
    gitIn(work, 'add', '-A')
    gitIn(work, '-c', 'user.name=dev', '-c', 'user.email=dev@example.com', 'commit', '-qm', 'init')
    gitIn(work, 'push', '-q', bare, 'main')
    gh.addRepo('acme', 'gitops', bare)
  })
  afterAll(async () => {
    gh?.assertNoViolations()
    await gh?.close()
    await git?.close()
    fs.rmSync(root, { recursive: true, force: true })
  })

  async function runAction(inputs: Record<string, string>) {
    const ws = path.join(root, `ws-${++runs}`)
    await promisify(execFile)('git', ['clone', '-q', url, ws])
    const files = path.join(root, `files-${runs}`)
    fs.mkdirSync(files)
    const event = path.join(files, 'event.json')
    fs.writeFileSync(event, JSON.stringify({ inputs: {} }))
    fs.writeFileSync(path.join(files, 'output'), '')
    fs.writeFileSync(path.join(files, 'summary'), '')
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      CI: 'true',
      GITHUB_ACTIONS: 'true',
      RUNNER_TEMP: files,
      GITHUB_EVENT_NAME: 'workflow_dispatch',
      GITHUB_EVENT_PATH: event,
      GITHUB_OUTPUT: path.join(files, 'output'),
      GITHUB_STEP_SUMMARY: path.join(files, 'summary'),
      GITHUB_WORKSPACE: ws,
      GITHUB_REPOSITORY: 'acme/gitops',
      GITHUB_ACTOR: 'octocat',
      GITHUB_RUN_ID: String(2000 + runs),
      GITHUB_SERVER_URL: git.url,
      GITHUB_API_URL: gh.url
    }
    const all: Record<string, string> = {
      ...defaults,
      token: GITHUB_TOKEN,
      'app-id': '4242',
      'private-key': privateKey,
      deployments: 'false',
      'commit-statuses': 'false',
      'status-page': 'false',
      ...inputs
    }
    for (const [name, value] of Object.entries(all)) env[`INPUT_${name.toUpperCase()}`] = value
    const child = spawn(process.execPath, [DIST], { cwd: ws, env })
    let stdout = ''
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()))
    child.stderr.on('data', (b: Buffer) => (stdout += b.toString()))
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    return {
      code,
      stdout,
      outputs: parseOutputFile(fs.readFileSync(path.join(files, 'output'), 'utf8')),
      summary: fs.readFileSync(path.join(files, 'summary'), 'utf8')
    }
  }

  const stateHead = () => sh('git', ['--git-dir', bare, 'rev-parse', 'refs/heads/waybill/state'])
  const branches = () =>
    sh('git', ['--git-dir', bare, 'for-each-ref', '--format=%(refname:short)', 'refs/heads'])
      .split('\n')
      .sort()

  it('discover: the state is written with the app token, as github-actions[bot]', async () => {
    const r = await runAction({ command: 'discover' })
    if (r.code !== 0) throw new Error(r.stdout)
    expect(r.stdout).toContain('authenticated as GitHub App 4242')
    expect(JSON.parse(r.outputs.freight)).toHaveLength(1)
    expect(gh.installationTokens.size).toBeGreaterThan(0)
    expect(sh('git', ['--git-dir', bare, 'log', '-1', '--format=%an <%ae>', 'waybill/state'])).toBe(
      'github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>'
    )
    // The minted token is masked like any other secret.
    for (const t of gh.installationTokens.keys())
      expect(r.stdout.replace(/^::add-mask::.*$/gm, '')).not.toContain(t)
  })

  it('dry-run promote: shows the diff and what would run; pushes, opens and records nothing', async () => {
    const head = stateHead()
    const before = branches()
    const requests = gh.requests.length
    const r = await runAction({
      command: 'promote',
      stage: 'docs',
      freight: 'latest',
      'dry-run': 'true'
    })
    if (r.code !== 0) throw new Error(r.stdout)
    expect(r.outputs['dry-run']).toBe('true')
    expect(r.outputs.diff).toContain('+++ b/out/deployed/docs.txt')
    expect(r.summary).toContain('### Dry run: promotion to docs')
    expect(r.summary).toMatch(/- push \(git-push\)\n- open-pr \(git-open-pr\)/)
    expect(r.summary).toContain('```diff')
    expect(stateHead()).toBe(head)
    expect(branches()).toEqual(before)
    const writes = gh.requests.slice(requests).filter((q) => q.method !== 'GET')
    expect(writes.filter((q) => !q.path.includes('/access_tokens'))).toEqual([])
  })

  it('a promotion opens its pull request with the installation token and outputs it', async () => {
    const r = await runAction({ command: 'reconcile' })
    if (r.code !== 0) throw new Error(r.stdout)
    const create = gh.requests.find((q) => q.method === 'POST' && /\/pulls$/.test(q.path))!
    expect(create).toBeDefined()
    // The fake accepts only minted installation tokens: GITHUB_TOKEN would have been refused.
    expect(create.authorized).toBe(true)
    expect(create.status).toBe(201)
    const number = Number(r.outputs['pull-request-number'])
    expect(number).toBeGreaterThan(0)
    expect(r.outputs['pull-request-url']).toMatch(new RegExp(`/pull/${number}$`))
    expect(gh.pull(number, 'acme/gitops').state).toBe('open')
    const branch = gh.pull(number, 'acme/gitops').head
    expect(sh('git', ['--git-dir', bare, 'log', '-1', '--format=%an', branch])).toBe(
      'github-actions[bot]'
    )
  })
})
