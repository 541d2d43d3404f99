import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFile, spawn } from 'node:child_process'
import { promisify } from 'node:util'
import fs from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import YAML from 'yaml'
import { World, currentAlias, freightByImageTag, type Repo } from './harness.js'
import { hasDockerRegistry, skipReason } from '../support/registry.js'
import { gitIn, sh, writeFiles } from '../support/git.js'
import { parseOutputFile } from '../support/output-file.js'

/**
 * The committed bundle, run as the GitHub runner runs a `node24` action: `node dist/index.js` in
 * a fresh checkout, with every input as INPUT_<NAME> (defaults from action.yml, hyphens kept),
 * the event payload in a file named by GITHUB_EVENT_PATH, and outputs/summary written to the
 * files GITHUB_OUTPUT / GITHUB_STEP_SUMMARY name. Payloads are @octokit/webhooks-examples, edited
 * only where they must name this test's image or repository.
 *
 * dist/ is kept fresh by CI's check (`npm run bundle` then no diff); this test does not rebuild it.
 * WAYBILL_ACTION_BUNDLE runs another build instead (`node scripts/bundle.mjs --out DIR`: DIR/index.js).
 */
const DIST = process.env.WAYBILL_ACTION_BUNDLE ?? path.join(process.cwd(), 'dist', 'index.js')
const d = hasDockerRegistry ? describe : describe.skip
if (!hasDockerRegistry) console.warn(skipReason)

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

const require = createRequire(import.meta.url)
const webhookExamples = require('@octokit/webhooks-examples') as Array<{
  name: string
  examples: Json[]
}>
/** A copy of a real webhook payload example (the first that matches). */
function example(event: string, match: (p: Json) => boolean = () => true): Json {
  const found = webhookExamples.find((e) => e.name === event)?.examples.find(match)
  if (!found) throw new Error(`no @octokit/webhooks-examples payload for ${event}`)
  return JSON.parse(JSON.stringify(found)) as Json
}

interface ActionRun {
  code: number | null
  stdout: string
  stderr: string
  outputs: Record<string, string>
  summary: string
}

const SITE_CONFIG = `apiVersion: kargo.akuity.io/v1alpha1
kind: Warehouse
metadata:
  name: site
spec:
  interval: 5m
  subscriptions:
    - git:
        repoURL: https://github.com/acme/gitops.git
        branch: main
        includePaths: [site/]
---
apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata:
  name: docs
spec:
  requestedFreight:
    - origin: { kind: Warehouse, name: site }
      sources: { direct: true }
  promotionTemplate:
    spec:
      vars:
        - name: repo
          value: https://github.com/acme/gitops.git
      steps:
        - uses: git-clone
          config:
            repoURL: \${{ vars.repo }}
            checkout:
              - branch: main
                path: ./out
        - uses: file-write
          config:
            path: ./out/deployed/docs.txt
            contents: "\${{ commitFrom(vars.repo).ID }}\\n"
            overwrite: true
        - uses: git-commit
          config:
            path: ./out
            message: deploy docs \${{ commitFrom(vars.repo).ID }}
        - uses: git-push
          as: push
          config:
            path: ./out
            generateTargetBranch: true
        - uses: git-open-pr
          as: open-pr
          config:
            repoURL: \${{ vars.repo }}
            sourceBranch: \${{ outputs.push.branch }}
            targetBranch: main
        - uses: git-wait-for-pr
          config:
            repoURL: \${{ vars.repo }}
            prNumber: \${{ outputs['open-pr'].pr.id }}
`

const PROJECT_CONFIG = `apiVersion: kargo.akuity.io/v1alpha1
kind: ProjectConfig
metadata:
  name: gitops
spec:
  promotionPolicies:
    - stageSelector: { name: test }
      autoPromotionEnabled: true
    - stageSelector: { name: uat }
      autoPromotionEnabled: true
    - stageSelector: { name: docs }
      autoPromotionEnabled: true
`

d('the committed bundle, run as a GitHub runner runs it', () => {
  let world: World
  let gitops: Repo
  let runs = 0
  const transcript: string[] = []
  const actionDefaults: Record<string, string> = {}

  beforeAll(async () => {
    if (!fs.existsSync(DIST))
      throw new Error(
        'dist/index.js is missing: run `npm run bundle` (dist/ is committed and CI checks it is fresh)'
      )
    const action = YAML.parse(fs.readFileSync('action.yml', 'utf8')) as {
      inputs: Record<string, { default?: string }>
    }
    for (const [name, spec] of Object.entries(action.inputs))
      if (spec.default !== undefined) actionDefaults[name] = spec.default
    world = await World.start({ registry: true, github: true })
    gitops = world.repo('gitops', {
      ...world.exampleFiles('image-updater'),
      '.waybill/project-config.yaml': PROJECT_CONFIG,
      '.waybill/site.yaml': SITE_CONFIG
    })
  })
  afterAll(() => world?.close())

  const authHeader = () =>
    `AUTHORIZATION: basic ${Buffer.from(`x-access-token:${world.token}`).toString('base64')}`

  /**
   * A fresh checkout (actions/checkout with persist-credentials: false) in a new workspace.
   * Asynchronous: the Git HTTP server runs in this process.
   */
  async function checkout(): Promise<string> {
    const ws = path.join(world.root, 'runner', `ws-${++runs}`)
    fs.mkdirSync(path.dirname(ws), { recursive: true })
    await promisify(execFile)(
      'git',
      ['-c', `http.extraheader=${authHeader()}`, 'clone', '-q', gitops.url, ws],
      { env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } }
    )
    gitIn(ws, 'config', 'user.name', 'runner')
    gitIn(ws, 'config', 'user.email', 'runner@example.com')
    return ws
  }

  async function runAction(
    eventName: string,
    payload: Json,
    inputs: Record<string, string> = {},
    prepare?: (workspace: string) => void
  ): Promise<ActionRun> {
    const ws = await checkout()
    prepare?.(ws)
    const dir = path.join(world.root, 'runner', `files-${runs}`)
    fs.mkdirSync(dir, { recursive: true })
    const eventPath = path.join(dir, 'event.json')
    const outputPath = path.join(dir, 'output')
    const summaryPath = path.join(dir, 'summary')
    fs.writeFileSync(eventPath, JSON.stringify(payload, null, 2))
    fs.writeFileSync(outputPath, '')
    fs.writeFileSync(summaryPath, '')
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      CI: 'true',
      GITHUB_ACTIONS: 'true',
      RUNNER_TEMP: dir,
      GITHUB_EVENT_NAME: eventName,
      GITHUB_EVENT_PATH: eventPath,
      GITHUB_OUTPUT: outputPath,
      GITHUB_STEP_SUMMARY: summaryPath,
      GITHUB_WORKSPACE: ws,
      GITHUB_REPOSITORY: 'acme/gitops',
      GITHUB_REPOSITORY_OWNER: 'acme',
      GITHUB_ACTOR: 'octocat',
      GITHUB_RUN_ID: String(1000 + runs),
      GITHUB_SERVER_URL: world.http!.url,
      GITHUB_API_URL: world.github!.url
    }
    const all: Record<string, string> = { ...actionDefaults, token: world.token, ...inputs }
    // The runner keeps hyphens: INPUT_STATE-BRANCH.
    for (const [name, value] of Object.entries(all))
      env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value
    const child = spawn(process.execPath, [DIST], { cwd: ws, env })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()))
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()))
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    const outputText = fs.readFileSync(outputPath, 'utf8')
    const summary = fs.readFileSync(summaryPath, 'utf8')
    transcript.push(stdout, stderr, outputText, summary)
    return { code, stdout, stderr, outputs: parseOutputFile(outputText), summary }
  }

  const stateHead = () =>
    sh('git', ['--git-dir', gitops.bare, 'rev-parse', 'refs/heads/waybill/state'])
  const json = (s: string | undefined) => JSON.parse(s ?? 'null') as Json
  /** Asserts the exit code, showing the run's output when it differs. */
  const exits = (r: ActionRun, code: number) => {
    if (r.code !== code)
      throw new Error(
        `expected exit ${code}, got ${r.code}\n--- stdout ---\n${r.stdout}\n${r.stderr}`
      )
  }

  /** The GHCR package example (docker ecosystem) as a registry_package event for `image:tag`. */
  function packageEvent(image: string, tag: string, digest: string): Json {
    const p = example('package', (x) => Boolean(x.package.package_version.container_metadata))
    const [owner, name] = image.split('/').slice(-2)
    const host = image.split('/')[0]
    const pkg = p.package
    pkg.name = name
    pkg.owner.login = owner
    pkg.registry.url = `http://${host}/${owner}`
    const v = pkg.package_version
    v.package_url = `${image}:${tag}`
    v.container_metadata.tag = { name: tag, digest }
    v.container_metadata.manifest.digest = digest
    v.container_metadata.manifest.uri = `repositories/${owner}/${name}/manifests/${digest}`
    // The registry_package event carries the same object under `registry_package`.
    const { package: _pkg, ...rest } = p
    return { ...rest, registry_package: pkg }
  }

  /** The push example, retargeted at acme/gitops's main with the given changed paths. */
  function pushEvent(commit: string, paths: string[]): Json {
    const p = example('push', (x) => x.ref.startsWith('refs/heads/') && x.commits.length > 0)
    p.ref = 'refs/heads/main'
    p.after = commit
    p.head_commit.id = p.commits[0].id = commit
    p.commits[0].added = paths
    p.commits[0].modified = []
    p.commits[0].removed = []
    p.head_commit.added = paths
    const r = p.repository
    r.name = 'gitops'
    r.full_name = 'acme/gitops'
    r.clone_url = gitops.url
    r.html_url = gitops.url.replace(/\.git$/, '')
    r.git_url = r.ssh_url = r.svn_url = gitops.url
    r.default_branch = r.master_branch = 'main'
    return p
  }

  /** The pull_request closed example for #number of acme/gitops, from `headRepo`. */
  function pullRequestClosed(number: number, headRepo: string, merged: boolean): Json {
    const p = example('pull_request', (x) => x.action === 'closed')
    p.number = p.pull_request.number = number
    p.pull_request.html_url = `${world.http!.url}/acme/gitops/pull/${number}`
    p.pull_request.merged = merged
    p.pull_request.merged_at = merged ? new Date().toISOString() : null
    p.pull_request.head.repo.full_name = headRepo
    p.pull_request.base.repo.full_name = 'acme/gitops'
    p.repository.full_name = 'acme/gitops'
    return p
  }

  it('schedule → reconcile: discovers, promotes test and uat, writes outputs and the summary', async () => {
    await world.pushImage('acme/guestbook', '1.0.0')
    const r = await runAction('schedule', { schedule: '*/10 * * * *' })
    exits(r, 0)
    expect(r.stdout).toContain('waybill reconcile (schedule)')
    // GitHub does not nest groups: never two ::group:: without an ::endgroup:: between them.
    let open = 0
    for (const l of r.stdout.split('\n')) {
      if (l.startsWith('::group::')) expect(++open).toBe(1)
      if (l.startsWith('::endgroup::')) open--
    }
    expect(r.outputs.command).toBe('reconcile')
    const freight = json(r.outputs.freight) as Json[]
    expect(freight.map((f) => f.warehouse)).toEqual(['guestbook'])
    expect(freight[0].images[0].tag).toBe('1.0.0')
    expect((json(r.outputs['promoted-stages']) as string[]).sort()).toEqual(['test', 'uat'])
    expect(r.summary).toContain('```mermaid')
    expect(r.summary).toContain(freight[0].alias)
    const state = await world.state(gitops)
    expect(currentAlias(state, 'uat')).toBe(freight[0].alias)
    expect(world.branches(gitops)).toEqual(
      expect.arrayContaining(['stage/test', 'stage/uat', 'waybill/state'])
    )
    // No commit under site/ yet: the path-filtered warehouse has nothing.
    expect(Object.values(state.freight).some((f) => f.origin.name === 'site')).toBe(false)
    // The promotion records who and which run.
    const promo = Object.values(state.promotions).find((p) => p.stage === 'test')!
    expect(promo.runURL).toBe(`${world.http!.url}/acme/gitops/actions/runs/${1000 + runs}`)
  })

  it('registry_package for the subscribed image discovers only that warehouse and auto-promotes', async () => {
    const digest = await world.pushImage('acme/guestbook', '1.1.0')
    const before = (await world.state(gitops)).warehouses.site?.lastDiscoveredAt
    const r = await runAction(
      'registry_package',
      packageEvent(`${world.registry!.host}/acme/guestbook`, '1.1.0', digest),
      // Written as users write it (Go duration, YAML 1.2 boolean).
      { wait: '5m', deployments: 'True' }
    )
    exits(r, 0)
    expect(r.stdout).toMatch(
      /discovery: registry_package: \S+\/acme\/guestbook:1\.1\.0.* → guestbook\n/
    )
    const freight = json(r.outputs.freight) as Json[]
    expect(freight).toHaveLength(1)
    expect(freight[0].images[0].tag).toBe('1.1.0')
    const state = await world.state(gitops)
    expect(state.warehouses.site?.lastDiscoveredAt).toBe(before)
    expect(currentAlias(state, 'test')).toBe(freight[0].alias)
    expect(currentAlias(state, 'uat')).toBe(freight[0].alias)
  })

  it('a package event for an unrelated image discovers nothing and commits nothing', async () => {
    await world.pushImage('acme/guestbook', '1.1.1') // would be found by any discovery
    const head = stateHead()
    // The example as published: ghcr.io/Codertocat/hello-world.
    const r = await runAction(
      'registry_package',
      example('package', (x) => Boolean(x.package.package_version.container_metadata))
    )
    exits(r, 0)
    expect(r.stdout).toMatch(/no warehouse subscribes to ghcr\.io\/codertocat\/hello-world/)
    expect(json(r.outputs.freight)).toEqual([])
    expect(stateHead()).toBe(head)
  })

  it('repository_dispatch with a relayed {image, tag} discovers the image', async () => {
    await world.pushImage('acme/guestbook', '1.2.0')
    const p = example('repository_dispatch')
    p.client_payload = { image: `${world.registry!.host}/acme/guestbook`, tag: '1.2.0' }
    const r = await runAction('repository_dispatch', p)
    exits(r, 0)
    const tags = (json(r.outputs.freight) as Json[]).flatMap((f) =>
      f.images.map((i: Json) => i.tag)
    )
    // 1.1.1 was pushed as well: discovery lists the repository, the event only says when.
    expect(tags).toEqual(['1.2.0'])
    const state = await world.state(gitops)
    expect(currentAlias(state, 'uat')).toBe(freightByImageTag(state, '1.2.0')!.alias)
  })

  it('workflow_dispatch command=promote stage=prod freight=latest promotes prod', async () => {
    const p = example('workflow_dispatch')
    p.inputs = { command: 'promote', stage: 'prod', freight: 'latest' }
    const r = await runAction('workflow_dispatch', p)
    exits(r, 0)
    expect(r.outputs.command).toBe('promote')
    expect(r.outputs.phase).toBe('Succeeded')
    expect(r.outputs.promotion).toMatch(/^prod\./)
    const state = await world.state(gitops)
    const f = freightByImageTag(state, '1.2.0')!
    expect(currentAlias(state, 'prod')).toBe(f.alias)
    expect(state.promotions[r.outputs.promotion].actor).toBe('octocat')
    const files = world.files(gitops, 'stage/prod')
    expect(world.file(gitops, 'stage/prod', files[0])).toContain('acme/guestbook:1.2.0')
    expect(json(r.outputs['promoted-stages'])).toContain('prod')
  })

  it('workflow_dispatch command=approve approves freight for a stage, recording the actor', async () => {
    const state0 = await world.state(gitops)
    const f = freightByImageTag(state0, '1.0.0')!
    const p = example('workflow_dispatch')
    p.inputs = { command: 'approve', stage: 'prod', freight: f.alias }
    const r = await runAction('workflow_dispatch', p)
    exits(r, 0)
    expect(r.outputs.command).toBe('approve')
    expect(json(r.outputs.approved)).toEqual({ stage: 'prod', freight: f.alias })
    expect(r.summary).toContain(`### Approved ${f.alias} for prod`)
    const state = await world.state(gitops)
    expect(state.freight[f.name].status.approvedFor.prod?.actor).toBe('octocat')
  })

  it('workflow_dispatch with an unknown command or a missing stage fails clearly and changes nothing', async () => {
    const head = stateHead()
    const p = example('workflow_dispatch')
    p.inputs = { command: 'rm -rf', stage: 'prod' }
    const r = await runAction('workflow_dispatch', p)
    exits(r, 1)
    expect(r.stdout).toMatch(
      /::error::unknown command 'rm -rf' \(workflow_dispatch input 'command'\)/
    )
    p.inputs = { command: 'promote', stage: 'staging', freight: 'latest' }
    const r2 = await runAction('workflow_dispatch', p)
    exits(r2, 1)
    expect(r2.stdout).toMatch(/::error::stage 'staging' does not exist/)
    for (const run of [r, r2]) {
      expect(run.stdout.split('\n').filter((l) => l.startsWith('::error'))).toHaveLength(1)
      expect(run.summary).toMatch(/### ❌ waybill \S+ failed/)
    }
    // The hint survives into the summary.
    expect(r2.summary).toContain('**Hint:** stages: ')
    expect(r2.outputs.command).toBe('promote')
    expect(stateHead()).toBe(head)
  })

  let prNumber = 0
  let siteCommit = ''
  it('push touching the path filter discovers that Git warehouse; the stage opens a PR and waits', async () => {
    const outside = world.commit(gitops, { 'README.md': '# gitops\n\nmore\n' }, 'readme')
    const r0 = await runAction('push', pushEvent(outside, ['README.md']))
    exits(r0, 0)
    expect(r0.stdout).toMatch(/push to branch main: no Git subscription follows it/)
    expect(json(r0.outputs.freight)).toEqual([])

    const commit = (siteCommit = world.commit(gitops, { 'site/index.md': '# docs\n' }, 'docs'))
    const r = await runAction('push', pushEvent(commit, ['site/index.md']))
    exits(r, 0)
    expect(r.stdout).toMatch(/push to branch main: site/)
    const freight = json(r.outputs.freight) as Json[]
    expect(freight.map((f) => [f.warehouse, f.commits[0].id])).toEqual([['site', commit]])
    const promotions = json(r.outputs.promotions) as Json[]
    const docs = promotions.find((p) => p.stage === 'docs')!
    expect(docs.phase).toBe('Running')
    expect(docs.message).toMatch(/waiting for pull request #\d+/)
    prNumber = Number(/#(\d+)/.exec(docs.message)![1])
    expect(r.outputs['pull-request-number']).toBe(String(prNumber))
    expect(r.outputs['pull-request-url']).toMatch(new RegExp(`/pull/${prNumber}$`))
    expect(world.github!.pull(prNumber, 'acme/gitops').state).toBe('open')
  })

  it('pull_request closed from a fork is skipped: no promotion moves', async () => {
    const head = stateHead()
    world.github!.mergePull(prNumber, 'acme/gitops')
    const r = await runAction('pull_request', pullRequestClosed(prNumber, 'mallory/gitops', true))
    exits(r, 0)
    expect(r.outputs.command).toBe('none')
    expect(r.stdout).toMatch(
      /::notice::pull request #\d+ from fork mallory\/gitops cannot trigger promotions/
    )
    expect(stateHead()).toBe(head)
    const state = await world.state(gitops)
    expect(Object.values(state.promotions).find((p) => p.stage === 'docs')!.phase).toBe('Running')
  })

  it('pull_request closed on a PR nobody waits on is a cheap no-op', async () => {
    const head = stateHead()
    const r = await runAction(
      'pull_request',
      pullRequestClosed(prNumber + 100, 'acme/gitops', true)
    )
    exits(r, 0)
    expect(r.outputs.command).toBe('none')
    expect(r.stdout).toMatch(/no promotion waits on pull request #\d+/)
    expect(stateHead()).toBe(head)
  })

  it('pull_request closed (merged) from the same repository resumes the waiting promotion', async () => {
    const r = await runAction('pull_request', pullRequestClosed(prNumber, 'acme/gitops', true))
    exits(r, 0)
    expect(r.outputs.command).toBe('reconcile')
    expect(json(r.outputs['promoted-stages'])).toEqual(['docs'])
    const state = await world.state(gitops)
    const promo = Object.values(state.promotions).find((p) => p.stage === 'docs')!
    expect(promo.phase).toBe('Succeeded')
    expect(world.file(gitops, 'main', 'deployed/docs.txt')).toBe(siteCommit)
  })

  it('a bad config fails with a file/line annotation and leaves the state untouched', async () => {
    const head = stateHead()
    const r = await runAction('schedule', { schedule: '*/10 * * * *' }, {}, (ws) =>
      writeFiles(ws, {
        '.waybill/broken.yaml': [
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
    )
    exits(r, 1)
    expect(r.stdout).toMatch(/::error (title=[^,]*,)?file=\.waybill\/broken\.yaml,line=\d+/)
    // One failure, one annotation (at the file); the summary and outputs still report it.
    expect(r.stdout.split('\n').filter((l) => l.startsWith('::error'))).toHaveLength(1)
    expect(r.stdout).toMatch(/^1 configuration error/m)
    expect(r.summary).toContain('### ❌ waybill reconcile failed')
    expect(r.outputs.error).toMatch(/^1 configuration error/)
    expect(stateHead()).toBe(head)
  })

  it('explicit inputs: command=status with state-branch (hyphenated input) reads the state', async () => {
    const r = await runAction('workflow_dispatch', example('workflow_dispatch'), {
      command: 'status',
      'state-branch': 'waybill/state'
    })
    exits(r, 0)
    const status = json(r.outputs.status)
    expect(r.summary).toContain('```mermaid')
    expect(status.stages.map((s: Json) => s.name)).toEqual(
      expect.arrayContaining(['test', 'uat', 'prod', 'docs'])
    )
    const missing = await runAction('workflow_dispatch', example('workflow_dispatch'), {
      command: 'status',
      'state-branch': 'waybill/nope'
    })
    // A missing state branch reads as empty state.
    expect(json(missing.outputs.status).stages.every((s: Json) => s.lastPromotion === null)).toBe(
      true
    )
  })

  it('never prints the token (only the runner mask command carries it)', () => {
    expect(transcript.length).toBeGreaterThan(20)
    const text = transcript
      .join('\n')
      .split('\n')
      .filter((l) => !l.startsWith('::add-mask::'))
      .join('\n')
    expect(text).not.toContain(world.token)
    const b64 = Buffer.from(`x-access-token:${world.token}`).toString('base64')
    expect(text).not.toContain(b64)
  })
})
