import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { World, currentAlias, lastPromotion, type Repo, type RunResult } from '../e2e/harness.js'
import { startGitHttpServer } from '../support/git-http.js'
import { startGitHubFake } from '../support/github-fake.js'
import { hasHtpasswd, pushImage, startRegistry, type TestRegistry } from '../support/registry.js'
import { argocdSwaggerAvailable, startArgoCDFake, type ArgoCDFake } from '../support/argocd-fake.js'
import { runCli } from '../support/reliability-pipeline.js'
import { sh } from '../support/git.js'
import { servicesFromFlags } from '../../src/cli.js'
import { redact } from '../../src/util/logger.js'
import { stageYaml } from '../support/resources.js'

/**
 * Secrets scan: full pipelines run with distinctive fake credentials — the GitHub token (git over
 * smart HTTP and the fake GitHub API, a promotion through a pull request), a registry password
 * (the real registry with htpasswd, passed as a registry-credentials line), a secret() value
 * (an `http` step's Authorization header, and files the user chose to write it into) and an Argo
 * CD token (argocd-update against the fake) — then every place Waybill writes to is scanned:
 * logger lines, command outputs and job summary, every commit (message and diff) of every ref
 * of the repository (state branch, stage branches, PR branches), PR titles and bodies, every
 * request body the fake GitHub and the Argo CD fake received, and the stdout/stderr of the CLI
 * run as a child process. Neither the tokens nor their base64 forms may appear anywhere.
 *
 * Writing a secret() value into a file the user commits is the user's choice: those files
 * (api-key.txt, the apiKey line of values.yaml) are the only places it may appear, and the test
 * checks that it does appear there (so the scan is known to see it).
 */

const GH = 'ghs_SECRETSCANgithub7Qx93KfLw2'
const REG_USER = 'ci-bot'
const REG = 'regpw-SECRETSCAN-4b8e1f07'
const API = 'api-SECRETSCAN-value-9d2c44'
const ARGO = 'argocd-SECRETSCAN-token-51ae'
const PROJECT = 'e2e'

const b64 = (s: string) => Buffer.from(s).toString('base64')
const NEEDLES: Record<string, string> = {
  'GitHub token': GH,
  'GitHub token (base64)': b64(GH),
  'git Basic auth (base64)': b64(`x-access-token:${GH}`),
  'registry password': REG,
  'registry password (base64)': b64(REG),
  'registry Basic auth (base64)': b64(`${REG_USER}:${REG}`),
  'secret() value': API,
  'secret() value (base64)': b64(API),
  'Argo CD token': ARGO,
  'Argo CD token (base64)': b64(ARGO)
}

/** Which needles occur in text, as "what (where)". */
function leaks(where: string, text: string): string[] {
  return Object.entries(NEEDLES)
    .filter(([, needle]) => text.includes(needle))
    .map(([what]) => `${what} in ${where}`)
}

const haveEverything = hasHtpasswd && argocdSwaggerAvailable
const d = haveEverything ? describe : describe.skip

function config(echoURL: string): Record<string, string> {
  const stage = (name: string, sources: string, vars = '') =>
    stageYaml(name, { warehouse: 'app', sources, task: 'deploy', extra: vars })
  return {
    '.waybill/warehouse.yaml': `apiVersion: kargo.akuity.io/v1alpha1
kind: Warehouse
metadata:
  name: app
spec:
  interval: 5m
  subscriptions:
    - image:
        repoURL: ghcr.io/acme/app
        imageSelectionStrategy: SemVer
`,
    '.waybill/project-config.yaml': `apiVersion: kargo.akuity.io/v1alpha1
kind: ProjectConfig
metadata:
  name: ${PROJECT}
spec:
  promotionPolicies:
    - stageSelector: { name: test }
      autoPromotionEnabled: true
    - stageSelector: { name: prod }
      autoPromotionEnabled: true
`,
    '.waybill/stages.yaml': [
      stage('test', '{ direct: true }'),
      stage(
        'prod',
        '{ stages: [test] }',
        `          vars:\n            - { name: openPR, value: 'true' }\n`
      )
    ].join('---\n'),
    '.waybill/task.yaml': `apiVersion: kargo.akuity.io/v1alpha1
kind: PromotionTask
metadata:
  name: deploy
spec:
  vars:
    - name: gitRepo
      value: https://github.com/acme/gitops.git
    - name: openPR
      value: 'false'
  steps:
    - uses: git-clone
      config:
        repoURL: \${{ vars.gitRepo }}
        checkout:
          - branch: stage/\${{ ctx.stage }}
            create: true
            path: ./out
    # The user's choice: the secret goes into files they commit.
    - uses: file-write
      config:
        path: ./out/api-key.txt
        contents: \${{ secret('api') }}
        overwrite: true
    - uses: file-write
      config:
        path: ./out/values.yaml
        contents: "image: {}\\n"
        overwrite: true
    - uses: yaml-update
      as: update
      config:
        path: ./out/values.yaml
        updates:
          - key: image.tag
            value: \${{ imageFrom('ghcr.io/acme/app').Tag }}
          - key: apiKey
            value: \${{ secret('api') }}
    - uses: http
      as: notify
      config:
        url: ${echoURL}/notify
        method: POST
        headers:
          - name: Authorization
            value: Bearer \${{ secret('api') }}
          - name: Content-Type
            value: application/json
        body: '{"stage": "\${{ ctx.stage }}", "key": "\${{ secret(''api'') }}"}'
        outputs:
          - name: echoed
            fromExpression: response.body.authorization
          - name: echoedBody
            fromExpression: response.body.body
    - uses: git-commit
      as: commit
      config:
        path: ./out
        message: \${{ task.outputs.update.commitMessage }}
    - uses: git-push
      if: \${{ vars.openPR != 'true' }}
      config:
        path: ./out
        targetBranch: stage/\${{ ctx.stage }}
    - uses: argocd-update
      if: \${{ ctx.stage == 'test' }}
      config:
        apps:
          - name: app-test
            sources:
              - repoURL: \${{ vars.gitRepo }}
                desiredRevision: \${{ task.outputs.commit.commit }}
                updateTargetRevision: true
    - uses: git-push
      as: push
      if: \${{ vars.openPR == 'true' }}
      config:
        path: ./out
        generateTargetBranch: true
    - uses: git-open-pr
      as: open-pr
      if: \${{ vars.openPR == 'true' }}
      config:
        repoURL: \${{ vars.gitRepo }}
        sourceBranch: \${{ task.outputs.push.branch }}
        targetBranch: stage/\${{ ctx.stage }}
    - uses: git-wait-for-pr
      as: wait-for-pr
      if: \${{ vars.openPR == 'true' }}
      config:
        repoURL: \${{ vars.gitRepo }}
        prNumber: \${{ task.outputs['open-pr'].pr.id }}
`
  }
}

d('secrets never leak (full pipelines with fake credentials, then a scan)', () => {
  let world: World
  let repo: Repo
  let registry: TestRegistry
  let argocd: ArgoCDFake
  let echo: http.Server
  let echoURL = ''
  /** Authorization headers the http step's endpoint received (proof the secret was sent). */
  const echoed: string[] = []
  /** Everything Waybill printed or returned, by where it came from. */
  const outputs: Array<{ where: string; text: string }> = []
  let gitHost = ''

  const flags = (): Record<string, unknown> => ({
    token: GH,
    'github-api-url': world.github!.url,
    'github-host': [gitHost],
    'insecure-registry': [registry.host],
    'registry-credentials': `${registry.host}=${REG_USER}:${REG}`,
    secrets: `api=${API}`,
    'argocd-server': argocd.url,
    'argocd-token': ARGO
  })

  const run = async (name: string, args: Record<string, string> = {}): Promise<RunResult> => {
    // The services are built the way users pass credentials: flags (= action inputs).
    const services = servicesFromFlags(flags(), { PATH: process.env.PATH })
    const res = await world.run(repo, name, args, { services, project: PROJECT })
    const label = `${name} #${outputs.length + 1}`
    outputs.push({ where: `logs of ${label}`, text: res.logs })
    outputs.push({ where: `outputs of ${label}`, text: JSON.stringify(res.outputs ?? {}) })
    outputs.push({ where: `job summary of ${label}`, text: res.summary ?? '' })
    return res
  }

  beforeAll(async () => {
    // World.start({ github: true }) with our token instead of the harness's.
    world = new World()
    ;(world as { token: string }).token = GH
    fs.mkdirSync(world.gitRoot, { recursive: true })
    world.http = await startGitHttpServer(world.gitRoot, { token: GH })
    world.github = await startGitHubFake({ token: GH, gitUrl: world.http.url })
    gitHost = new URL(world.http.url).host
    registry = await startRegistry({ mode: 'htpasswd', users: { [REG_USER]: REG } })
    world.urlMap.set('ghcr.io/acme', `${registry.host}/acme`)
    argocd = await startArgoCDFake({ token: ARGO })
    echo = http.createServer((req, res) => {
      let body = ''
      req.on('data', (c: Buffer) => (body += c.toString()))
      req.on('end', () => {
        echoed.push(String(req.headers.authorization))
        // A careless endpoint that echoes the credentials back.
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ ok: true, authorization: req.headers.authorization, body }))
      })
    })
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r))
    echoURL = `http://127.0.0.1:${(echo.address() as AddressInfo).port}`

    repo = world.repo('gitops', config(echoURL))
    const gitopsURL = repo.url
    argocd.addApplication({
      name: 'app-test',
      annotations: { 'kargo.akuity.io/authorized-stage': `${PROJECT}:test` },
      source: { repoURL: gitopsURL, path: '.', targetRevision: 'stage/test' },
      health: 'Healthy'
    })
    // The PR target exists up front (as in examples/rendered-configs).
    const tree = sh('git', ['--git-dir', repo.bare, 'hash-object', '-t', 'tree', '/dev/null'])
    const root = sh('git', ['--git-dir', repo.bare, 'commit-tree', tree, '-m', 'stage/prod'])
    sh('git', ['--git-dir', repo.bare, 'update-ref', 'refs/heads/stage/prod', root])
  }, 30_000)

  afterAll(async () => {
    await new Promise((r) => echo?.close(r))
    await argocd?.close()
    await registry?.close()
    if (world) await world.close()
  })

  /** Finishes the Argo CD sync Waybill started, at the revision it asked for. */
  const finishSync = () => {
    const op = argocd.application('app-test').status?.operationState
    if (op?.phase === 'Running')
      argocd.finishOperation('app-test', 'Succeeded', { health: 'Healthy' })
  }

  it('in process: test promoted (argocd-update), prod through a pull request', async () => {
    await pushImage(registry, 'acme/app', '1.0.0')
    let res = await run('reconcile')
    expect({ code: res.exitCode, logs: res.exitCode ? res.logs : '' }).toEqual({
      code: 0,
      logs: ''
    })
    finishSync()
    res = await run('reconcile')
    expect(res.exitCode).toBe(0)
    finishSync()
    res = await run('reconcile')
    expect(res.exitCode).toBe(0)
    let state = await world.state(repo)
    expect(lastPromotion(state, 'test')?.phase).toBe('Succeeded')
    expect(lastPromotion(state, 'prod')?.phase).toBe('Running')
    expect(world.github!.pulls).toHaveLength(1)
    world.github!.mergePull(world.github!.pulls[0].number)
    res = await run('reconcile')
    expect(res.exitCode).toBe(0)
    await run('status')
    state = await world.state(repo)
    expect(lastPromotion(state, 'prod')?.phase).toBe('Succeeded')
    expect(currentAlias(state, 'prod')).toBe(currentAlias(state, 'test'))
  }, 40_000)

  it('as a CLI child process: credentials in the environment and in flags', async () => {
    await pushImage(registry, 'acme/app', '1.1.0')
    const common = [
      '--repo-dir',
      repo.work,
      '--project',
      PROJECT,
      '--github-api-url',
      world.github!.url,
      '--github-host',
      gitHost,
      '--insecure-registry',
      registry.host,
      '--argocd-server',
      argocd.url,
      '--verbose'
    ]
    const envCreds = {
      GITHUB_TOKEN: GH,
      WAYBILL_REGISTRY_CREDENTIALS: `${registry.host}=${REG_USER}:${REG}`,
      WAYBILL_SECRETS: `api=${API}`,
      ARGOCD_TOKEN: ARGO
    }
    const flagCreds = [
      '--token',
      GH,
      '--registry-credentials',
      `${registry.host}=${REG_USER}:${REG}`,
      '--secrets',
      `api=${API}`,
      '--argocd-token',
      ARGO
    ]
    const runs = [
      { args: ['reconcile', '--force-discover', ...common], env: envCreds },
      { args: ['reconcile', '--json', '--publish-page', ...common, ...flagCreds], env: {} },
      { args: ['reconcile', ...common], env: envCreds, mergePR: true },
      { args: ['status', '--json', ...common, ...flagCreds], env: {} }
    ]
    for (const [i, r] of runs.entries()) {
      finishSync()
      if (r.mergePR) world.github!.mergePull(world.github!.pulls[1].number)
      sh('git', ['-C', repo.work, 'pull', '-q', '--rebase', 'origin', 'main'])
      const out = await runCli(r.args, { env: r.env }).done
      outputs.push({ where: `stdout of CLI run ${i + 1} (${r.args[0]})`, text: out.stdout })
      outputs.push({ where: `stderr of CLI run ${i + 1} (${r.args[0]})`, text: out.stderr })
      expect({ run: i + 1, code: out.code, stderr: out.code === 0 ? '' : out.stderr }).toEqual({
        run: i + 1,
        code: 0,
        stderr: ''
      })
    }
    const state = await world.state(repo)
    const f = Object.values(state.freight).find((x) => x.images[0]?.tag === '1.1.0')
    expect(f).toBeDefined()
    expect(lastPromotion(state, 'test', f!.name)?.phase).toBe('Succeeded')
    expect(lastPromotion(state, 'prod', f!.name)?.phase).toBe('Succeeded')
    expect(world.github!.pulls).toHaveLength(2)
  }, 40_000)

  it('the scan finds no token anywhere Waybill wrote', () => {
    // Positive controls: the secrets really were used.
    expect(echoed.length).toBeGreaterThan(0)
    expect(echoed.every((a) => a === `Bearer ${API}`)).toBe(true)
    expect(world.file(repo, 'stage/test', 'api-key.txt')).toBe(API)
    expect(world.file(repo, 'stage/test', 'values.yaml')).toContain(`apiKey: ${API}`)
    expect(argocd.requests.length).toBeGreaterThan(0)
    expect(argocd.requests.every((r) => r.authorized)).toBe(true)

    const found: string[] = []
    for (const o of outputs) found.push(...leaks(o.where, o.text))

    // Every commit (message and diff) of every ref: the state branch, stage branches, PR branches.
    const refs = sh('git', ['--git-dir', repo.bare, 'for-each-ref', '--format=%(refname)'])
    expect(refs).toContain('refs/heads/waybill/state')
    expect(refs).toContain('refs/heads/stage/test')
    // \x01 starts a commit, \x02 ends its message; the rest of the chunk is its diff.
    const log = sh('git', [
      '--git-dir',
      repo.bare,
      'log',
      '-p',
      '--all',
      '--format=%x01%H%n%an <%ae> %cn <%ce>%n%B%x02',
      '--no-ext-diff',
      '--binary'
    ])
    let commits = 0
    let userFileHits = 0
    for (const chunk of log.split('\x01').slice(1)) {
      commits++
      const sha = chunk.slice(0, 12)
      const [message, diff = ''] = chunk.split('\x02')
      found.push(...leaks(`commit ${sha} (author, message)`, message))
      for (const section of diff.split(/^(?=diff --git )/m)) {
        const file = /^diff --git a\/(\S+)/.exec(section)?.[1] ?? '?'
        let text = section
        // The files the user chose to write the secret into may hold it, and only those lines.
        if (file === 'api-key.txt' || file === 'values.yaml') {
          const before = text
          text = text.replace(new RegExp(`^[-+ ](apiKey: )?${API}$`, 'gm'), '')
          if (before !== text) userFileHits++
        }
        found.push(...leaks(`commit ${sha} ${file}`, text))
      }
    }
    expect(commits).toBeGreaterThan(20)
    expect(userFileHits).toBeGreaterThan(0)
    found.push(
      ...leaks(
        '.git/config of the working copy',
        fs.readFileSync(path.join(repo.work, '.git', 'config'), 'utf8')
      )
    )

    // The fake GitHub: pull requests and every request body it received.
    for (const p of world.github!.pulls)
      found.push(...leaks(`pull request #${p.number}`, `${p.title}\n${p.body ?? ''}`))
    for (const r of world.github!.requests)
      found.push(...leaks(`GitHub request ${r.method} ${r.path}`, JSON.stringify(r.body ?? '')))
    // The Argo CD fake's received bodies.
    for (const r of argocd.requests)
      found.push(...leaks(`Argo CD request ${r.method} ${r.path}`, JSON.stringify(r.body ?? '')))

    expect([...new Set(found)]).toEqual([])
    world.github!.assertNoViolations()
    argocd.assertNoViolations()
  })
})

describe('credentials are masked as soon as they are read', () => {
  it('servicesFromFlags registers every token, password, secret value and Basic header', () => {
    // Fresh values: nothing has used them, so only reading them can have masked them.
    const fresh = {
      gh: 'ghs_FRESHreadmask0001',
      pass: 'regpw-FRESH-0002',
      regToken: 'regtok-FRESH-0003',
      plain: 'secret-FRESH-0004',
      jsonKey: 'jsonkey-FRESH-0005',
      argo: 'argocd-FRESH-0006'
    }
    servicesFromFlags(
      {
        token: fresh.gh,
        'registry-credentials': `r1.example=u1:${fresh.pass}\nr2.example=${fresh.regToken}`,
        secrets: `plain=${fresh.plain}\nobj={"user":"someone","key":"${fresh.jsonKey}"}`,
        'argocd-server': 'https://argocd.example',
        'argocd-token': fresh.argo,
        'github-host': ['git.example']
      },
      {}
    )
    const values = [
      ...Object.values(fresh),
      b64(`u1:${fresh.pass}`),
      b64(`x-access-token:${fresh.gh}`)
    ]
    expect(values.map((v) => redact(`<${v}>`))).toEqual(values.map(() => '<***>'))
  })
})
