import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { CommandArgs, CommandContext } from '../runtime/context.js'
import { defineCommand } from './define.js'
import { git } from '../git/git.js'
import { WaybillError } from '../util/errors.js'
// A cycle (index → demo → index) that is safe: the table is only read when the demo runs.
import { commands } from './index.js'

/**
 * A whole pipeline on this machine, no network: an "app" repository whose commits become freight,
 * and a GitOps repository holding the .waybill/ config, the state branch and one branch per
 * stage. test and uat promote automatically; prod is promoted by hand, as most teams do.
 */
const WAREHOUSE = (appURL: string) => `apiVersion: kargo.akuity.io/v1alpha1
kind: Warehouse
metadata:
  name: app
spec:
  interval: 1m
  subscriptions:
    - git:
        repoURL: ${appURL}
        branch: main
`

/** test takes freight straight from the warehouse; each later stage after it is verified upstream. */
function stage(name: string, sources: string): string {
  return `apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata:
  name: ${name}
spec:
  requestedFreight:
    - origin: {kind: Warehouse, name: app}
      sources: ${sources}
  promotionTemplate:
    spec:
      steps:
        - task: {name: render-and-push}
`
}

const STAGES = [
  stage('test', '{direct: true}'),
  stage('uat', '{stages: [test]}'),
  stage('prod', '{stages: [uat]}')
].join('---\n')

const TASK = (gitopsURL: string, appURL: string) => `apiVersion: kargo.akuity.io/v1alpha1
kind: PromotionTask
metadata:
  name: render-and-push
spec:
  vars:
    - name: gitopsRepo
      value: ${gitopsURL}
    - name: appRepo
      value: ${appURL}
  steps:
    - uses: git-clone
      config:
        repoURL: \${{ vars.gitopsRepo }}
        checkout:
          - branch: main
            path: ./src
          - branch: stage/\${{ ctx.stage }}
            create: true
            path: ./out
    - uses: git-clear
      config:
        path: ./out
    - uses: copy
      config:
        inPath: ./src/env/values.yaml
        outPath: ./out/values.yaml
    - uses: yaml-update
      as: update
      config:
        path: ./out/values.yaml
        updates:
          - key: app.commit
            value: \${{ commitFrom(vars.appRepo).ID }}
          - key: app.stage
            value: \${{ ctx.stage }}
    - uses: git-commit
      as: commit
      config:
        path: ./out
        message: \${{ task.outputs.update.commitMessage }}
    - uses: git-push
      config:
        path: ./out
        targetBranch: stage/\${{ ctx.stage }}
`

const PROJECT_CONFIG = `apiVersion: kargo.akuity.io/v1alpha1
kind: ProjectConfig
metadata:
  name: demo
spec:
  promotionPolicies:
    - stageSelector: {name: test}
      autoPromotionEnabled: true
    - stageSelector: {name: uat}
      autoPromotionEnabled: true
`

async function commitAll(dir: string, message: string): Promise<void> {
  await git(['add', '-A'], { cwd: dir })
  await git(
    [
      '-c',
      'user.name=Demo',
      '-c',
      'user.email=demo@waybill.invalid',
      'commit',
      '-q',
      '-m',
      message
    ],
    { cwd: dir }
  )
  await git(['push', '-q', 'origin', 'HEAD:main'], { cwd: dir })
}

function write(dir: string, files: Record<string, string>): void {
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true })
    fs.writeFileSync(path.join(dir, rel), text)
  }
}

export const demoCommand = defineCommand({
  name: 'demo',
  description: 'Run a test → uat → prod pipeline against local Git repositories (no network)',
  flags: {
    dir: {
      type: 'string',
      description: 'Where to create the demo repositories (default: a temp folder)'
    }
  },
  async run(ctx, args) {
    const root = args.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'waybill-demo-'))
    fs.mkdirSync(root, { recursive: true })
    const appBare = path.join(root, 'app.git')
    const gitopsBare = path.join(root, 'gitops.git')
    const app = path.join(root, 'app')
    const gitops = path.join(root, 'gitops')
    if (fs.existsSync(appBare))
      throw new WaybillError(`${root} already holds a demo`, 'pass another --dir or remove it')
    const appURL = `file://${appBare}`
    const gitopsURL = `file://${gitopsBare}`
    for (const bare of [appBare, gitopsBare])
      await git(['init', '-q', '--bare', '-b', 'main', bare])
    for (const [dir, url] of [
      [app, appBare],
      [gitops, gitopsBare]
    ]) {
      await git(['init', '-q', '-b', 'main', dir])
      await git(['remote', 'add', 'origin', url], { cwd: dir })
    }
    write(app, { 'main.go': 'package main\n\nfunc main() { println("v1") }\n' })
    await commitAll(app, 'app: first version')
    write(gitops, {
      'env/values.yaml':
        '# Rendered per stage by Waybill\napp:\n  commit: none # replaced on promotion\n  stage: none\n',
      '.waybill/warehouse.yaml': WAREHOUSE(appURL),
      '.waybill/stages.yaml': STAGES,
      '.waybill/task.yaml': TASK(gitopsURL, appURL),
      '.waybill/project-config.yaml': PROJECT_CONFIG
    })
    await commitAll(gitops, 'gitops: pipeline config')

    const demoCtx: CommandContext = {
      ...ctx,
      repoDir: gitops,
      configDir: '.waybill',
      stateBranch: 'waybill/state',
      remote: 'origin',
      project: 'demo'
    }
    const say = (text: string) => ctx.logger.info(`\n▶ ${text}`)
    const run = async (name: string, cmdArgs: CommandArgs = {}) => {
      const result = await commands[name].run(demoCtx, cmdArgs)
      if (result.exitCode !== 0) throw new WaybillError(`demo: waybill ${name} failed`)
    }
    say(
      `repositories in ${root}; first reconcile discovers the app's commit and promotes it to test and uat`
    )
    await run('reconcile')
    say(
      'a new commit lands in the app repository; the next reconcile carries it through test and uat'
    )
    write(app, { 'main.go': 'package main\n\nfunc main() { println("v2") }\n' })
    await commitAll(app, 'app: second version')
    await run('reconcile', { 'force-discover': true })
    say('prod is manual: promote the freight verified in uat')
    await run('promote', { stage: 'prod', freight: 'latest' })
    say('the pipeline now')
    if (commands.status) await run('status')
    const prodValues = await git(['--git-dir', gitopsBare, 'show', 'stage/prod:values.yaml'])
    ctx.logger.info(`\nstage/prod:values.yaml in ${gitopsBare}:\n${prodValues}`)
    ctx.logger.info(
      `\nTry: cd ${gitops} && waybill status   (or: npm run waybill -- status --repo-dir ${gitops})`
    )
    return { exitCode: 0 }
  }
})
