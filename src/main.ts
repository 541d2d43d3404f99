// Action entry: glue only. Reads inputs and the event, builds the same CommandContext the CLI
// builds, runs the command, and maps the result onto outputs, the job summary and annotations.
import * as core from '@actions/core'
import fs from 'node:fs'
import path from 'node:path'
import { commands } from './commands/index.js'
import type { CommandContext } from './runtime/context.js'
import type { Annotation, Logger } from './util/logger.js'
import { onSecret, redact, registerSecret } from './util/logger.js'
import { errorMessage } from './util/errors.js'
import { servicesFromFlags } from './cli.js'
import { promotionWaitingOn, routeEvent } from './events.js'
import { annotateProblems, loadProject } from './config/index.js'
import { openStateStore } from './state/open.js'

function toProps(w?: Annotation): core.AnnotationProperties | undefined {
  if (!w) return undefined
  return { file: w.file, startLine: w.line, startColumn: w.column, title: w.title }
}

export class ActionLogger implements Logger {
  debug(m: string): void {
    core.debug(redact(m))
  }
  info(m: string): void {
    core.info(redact(m))
  }
  notice(m: string, w?: Annotation): void {
    core.notice(redact(m), toProps(w))
  }
  warn(m: string, w?: Annotation): void {
    core.warning(redact(m), toProps(w))
  }
  error(m: string, w?: Annotation): void {
    core.error(redact(m), toProps(w))
  }
  group<T>(name: string, fn: () => Promise<T>): Promise<T> {
    return core.group(redact(name), fn)
  }
  mask(secret: string): void {
    registerSecret(secret)
  }
}

function readEvent(): unknown {
  const p = process.env.GITHUB_EVENT_PATH
  if (!p || !fs.existsSync(p)) return {}
  return JSON.parse(fs.readFileSync(p, 'utf8'))
}

/**
 * A command that failed on the config: annotate each error at its file and line (the thrown
 * message only lists them), so the pull request or the run page points at the YAML.
 */
async function annotateConfigErrors(ctx: CommandContext): Promise<void> {
  try {
    const { problems } = await loadProject(ctx.repoDir, ctx.configDir)
    annotateProblems(
      problems.filter((p) => p.severity === 'error'),
      ctx.logger,
      ['error']
    )
  } catch {
    // The config cannot even be read: the error message says why.
  }
}

export async function run(): Promise<void> {
  const logger = new ActionLogger()
  // Everything Waybill masks (tokens, registry passwords, secret() values, Basic headers) is
  // masked by the runner too.
  onSecret((secret) => core.setSecret(secret))
  let ctx: CommandContext | undefined
  try {
    const input = (name: string) => core.getInput(name)
    for (const secretInput of ['token', 'argocd-token', 'registry-credentials', 'secrets']) {
      const v = input(secretInput)
      if (v) {
        logger.mask(v)
        for (const line of v.split('\n')) {
          const value = line.slice(line.indexOf('=') + 1).trim()
          if (value.length >= 4) logger.mask(value)
          const colon = value.indexOf(':')
          if (colon >= 0 && value.length - colon > 4) logger.mask(value.slice(colon + 1))
        }
      }
    }
    const flags: Record<string, unknown> = {
      token: input('token') || undefined,
      'registry-credentials': input('registry-credentials') || undefined,
      secrets: input('secrets') || undefined,
      'insecure-registry': core.getMultilineInput('insecure-registries'),
      'github-api-url': input('github-api-url') || undefined,
      'github-host': core.getMultilineInput('github-hosts'),
      'argocd-server': input('argocd-server') || undefined,
      'argocd-token': input('argocd-token') || undefined,
      'argocd-namespace': input('argocd-namespace') || undefined,
      'argocd-insecure': input('argocd-insecure') === 'true'
    }
    const services = servicesFromFlags(flags, process.env)
    const workspace = process.env.GITHUB_WORKSPACE ?? process.cwd()
    const serverUrl = process.env.GITHUB_SERVER_URL ?? 'https://github.com'
    const runURL =
      process.env.GITHUB_REPOSITORY && process.env.GITHUB_RUN_ID
        ? `${serverUrl}/${process.env.GITHUB_REPOSITORY}/actions/runs/${process.env.GITHUB_RUN_ID}`
        : undefined
    ctx = {
      repoDir: path.resolve(workspace, input('repo-dir') || '.'),
      configDir: input('config') || '.waybill',
      stateBranch: input('state-branch') || 'waybill/state',
      remote: 'origin',
      project: input('project') || process.env.GITHUB_REPOSITORY?.split('/')[1],
      json: true,
      logger,
      services,
      actor: process.env.GITHUB_ACTOR,
      runURL,
      repository: process.env.GITHUB_REPOSITORY,
      deployments: input('deployments') !== 'false',
      waitMs: Number(input('wait') || 0) * 1000,
      print: (text) => core.info(redact(text)),
      now: () => new Date()
    }
    const route = routeEvent({
      eventName: process.env.GITHUB_EVENT_NAME ?? '',
      payload: readEvent(),
      command: input('command') || 'auto',
      inputs: {
        stage: input('stage'),
        freight: input('freight'),
        warehouse: input('warehouse'),
        image: input('image'),
        commit: input('commit'),
        chart: input('chart'),
        promotion: input('promotion')
      },
      repository: process.env.GITHUB_REPOSITORY
    })
    if (route.skip) {
      logger.notice(route.skip)
      core.setOutput('command', 'none')
      return
    }
    if (route.pullRequest?.url) {
      // Cheap for the common case (a pull request that is not a promotion's): one read of the
      // state, nothing discovered, promoted or committed.
      const state = await openStateStore(ctx).read()
      const waiting = promotionWaitingOn(state.promotions, route.pullRequest)
      if (!waiting) {
        logger.notice(
          `no promotion waits on pull request #${route.pullRequest.number}: nothing to do`
        )
        core.setOutput('command', 'none')
        return
      }
      logger.info(`${waiting} waits on pull request #${route.pullRequest.number}`)
    }
    const command = commands[route.command]
    if (!command) throw new Error(`unknown command '${route.command}' (input 'command')`)
    logger.info(`waybill ${route.command}${route.reason ? ` (${route.reason})` : ''}`)
    const args = { ...route.args }
    // The pipeline page follows every run that changes the state (input status-page).
    if (route.command === 'reconcile' && input('status-page') !== 'false')
      args['publish-page'] = true
    const result = await command.run(ctx, args)
    core.setOutput('command', route.command)
    for (const [k, v] of Object.entries(result.outputs ?? {})) core.setOutput(k, redact(v))
    if (result.summary && process.env.GITHUB_STEP_SUMMARY) {
      await core.summary.addRaw(redact(result.summary), true).write()
    }
    if (result.exitCode !== 0) core.setFailed(`waybill ${route.command} failed`)
  } catch (err) {
    if (ctx && /configuration error/.test(errorMessage(err))) await annotateConfigErrors(ctx)
    core.setFailed(redact(errorMessage(err)))
  }
}
