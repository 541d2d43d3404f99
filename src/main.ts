// Action entry: glue only. Reads inputs (→ WaybillOptions) and the event, builds the
// CommandContext the way the CLI does (runtime/create-context.ts), authenticates as a GitHub App
// when one is configured, runs the command, and maps the result onto outputs, the job summary
// and annotations (on failure too).
import * as core from '@actions/core'
import fs from 'node:fs'
import { commands } from './commands/index.js'
import type { Annotation, Logger } from './util/logger.js'
import { onSecret, redact, registerSecret, safeText } from './util/logger.js'
import { ConfigError, errorMessage } from './util/errors.js'
import { optionsFromInputs, type ActionInputs } from './runtime/options.js'
import { createContext } from './runtime/create-context.js'
import { ARG_INPUTS, promotionWaitingOn, routeEvent } from './events.js'
import { annotateProblems } from './config/index.js'
import { openStateStore } from './state/open.js'
import { failureSummary } from './report/summary.js'
import { authenticateWithApp } from './commands/github-app-auth.js'
import { inputName, parseBoolean } from './runtime/input-values.js'

function toProps(w?: Annotation): core.AnnotationProperties | undefined {
  if (!w) return undefined
  return { file: w.file, startLine: w.line, startColumn: w.column, title: w.title }
}

/**
 * Log lines and annotations as the runner reads them. Two things GitHub does not do are handled
 * here: it does not nest `::group::` (an inner group would end the outer one), so groups inside a
 * group become plain lines; and one failure must make one annotation, so an error that repeats
 * an earlier one (the promotion that failed because its step did) is a plain line.
 */
export class ActionLogger implements Logger {
  private depth = 0
  private readonly errors: string[] = []

  /** Error annotations written so far. */
  get errorAnnotations(): number {
    return this.errors.length
  }
  debug(m: string): void {
    core.debug(safeText(m))
  }
  info(m: string): void {
    core.info(safeText(m))
  }
  notice(m: string, w?: Annotation): void {
    core.notice(safeText(m), toProps(w))
  }
  warn(m: string, w?: Annotation): void {
    core.warning(safeText(m), toProps(w))
  }
  error(m: string, w?: Annotation): void {
    const text = safeText(m)
    const key = text.replace(/^✘\s*/, '').trim()
    if (!w && this.errors.some((e) => key.includes(e) || e.includes(key))) {
      core.info(text)
      return
    }
    this.errors.push(key)
    core.error(text, toProps(w))
  }
  async group<T>(name: string, fn: () => Promise<T>): Promise<T> {
    if (this.depth > 0) {
      core.info(`▸ ${safeText(name)}`)
      return fn()
    }
    this.depth++
    try {
      return await core.group(safeText(name), fn)
    } finally {
      this.depth--
    }
  }
  mask(secret: string): void {
    registerSecret(secret)
  }
  /**
   * Fails the run: an annotation with the message unless this run already annotated its errors
   * (then the message is a plain line, not a second annotation of the same failure).
   */
  fail(message: string): void {
    process.exitCode = 1
    if (this.errors.length) core.info(safeText(message))
    else this.error(message)
  }
}

function readEvent(): unknown {
  const p = process.env.GITHUB_EVENT_PATH
  if (!p || !fs.existsSync(p)) return {}
  return JSON.parse(fs.readFileSync(p, 'utf8'))
}

/** Reads the action's inputs the way action.yml declares them. */
const actionInputs: ActionInputs = {
  get: (name) => core.getInput(name),
  multiline: (name) => core.getMultilineInput(name)
}

/**
 * Masks credential inputs before anything parses them: the whole value, and each line's value
 * (`host=user:password`, `name=value`) and password part.
 */
function maskSecretInputs(logger: Logger): void {
  for (const secretInput of [
    'token',
    'argocd-token',
    'registry-credentials',
    'secrets',
    'private-key'
  ]) {
    const v = core.getInput(secretInput)
    if (!v) continue
    logger.mask(v)
    for (const line of v.split('\n')) {
      const value = line.slice(line.indexOf('=') + 1).trim()
      if (value.length >= 4) logger.mask(value)
      const colon = value.indexOf(':')
      if (colon >= 0 && value.length - colon > 4) logger.mask(value.slice(colon + 1))
    }
  }
}

async function writeSummary(markdown: string): Promise<void> {
  if (process.env.GITHUB_STEP_SUMMARY) await core.summary.addRaw(redact(markdown), true).write()
}

export async function run(): Promise<void> {
  const logger = new ActionLogger()
  // Everything Waybill masks (tokens, registry passwords, secret() values, Basic headers) is
  // masked by the runner too.
  onSecret((secret) => core.setSecret(secret))
  let commandName = 'none'
  let runURL: string | undefined
  let stopApp: (() => void) | undefined
  try {
    maskSecretInputs(logger)
    const options = optionsFromInputs(actionInputs, process.env)
    runURL = options.runURL
    const ctx = createContext(options, {
      logger,
      env: process.env,
      print: (text) => core.info(safeText(text))
    })
    const input = actionInputs.get
    const route = routeEvent({
      eventName: process.env.GITHUB_EVENT_NAME ?? '',
      payload: readEvent(),
      command: input('command') || 'auto',
      inputs: Object.fromEntries(ARG_INPUTS.map((name) => [name, input(name)])),
      repository: process.env.GITHUB_REPOSITORY,
      // The pipeline page follows every run that changes the state (input status-page).
      statusPage: parseBoolean(inputName('status-page'), input('status-page'), true)
    })
    if (route.skip) {
      logger.notice(route.skip)
      core.setOutput('command', 'none')
      return
    }
    commandName = route.command
    // The app's token replaces `token` before anything reads the state branch.
    if (options.services.app) stopApp = await authenticateWithApp(ctx, options.services.app)
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
    logger.info(
      `waybill ${route.command}${route.reason ? ` (${route.reason})` : ''}${ctx.dryRun ? ' (dry run)' : ''}`
    )
    const result = await command.run(ctx, route.args)
    core.setOutput('command', route.command)
    for (const [k, v] of Object.entries(result.outputs ?? {})) core.setOutput(k, redact(v))
    await writeSummary(
      result.summary ??
        `### waybill ${route.command}\n\n${result.exitCode === 0 ? 'Done.' : 'Failed.'}\n`
    )
    if (result.exitCode !== 0) logger.fail(`waybill ${route.command} failed`)
  } catch (err) {
    // The message lists a config's errors; each also gets an annotation at its file and line,
    // so the pull request or the run page points at the YAML (and the list is not annotated again).
    if (err instanceof ConfigError)
      annotateProblems(
        err.problems.map((p) => ({ ...p, severity: 'error' as const })),
        logger
      )
    const message = redact(errorMessage(err))
    core.setOutput('command', commandName)
    core.setOutput('error', message.split('\n')[0])
    await writeSummary(failureSummary(commandName, err, runURL)).catch(() => undefined)
    logger.fail(message)
  } finally {
    stopApp?.()
  }
}
