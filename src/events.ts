import type { CommandArgs } from './runtime/context.js'
import { UsageError } from './util/errors.js'
import { hasControlCharacter } from './util/text.js'
import { checkDispatchPayload } from './discovery/webhooks.js'

/**
 * Maps a GitHub event (name + webhook payload) and the action's inputs to a command.
 * `command: auto` (the default) lets the event decide; an explicit command wins.
 *
 * Everything that comes from the payload is untrusted (anyone who may dispatch the workflow or
 * open a pull request writes it): only known inputs are taken, values are checked for shape here,
 * and the commands check that the named stage, freight or warehouse exists.
 */
export interface EventRoute {
  command: string
  args: CommandArgs
  reason?: string
  /** Set when the event must not trigger anything (e.g. a fork's pull request). */
  skip?: string
  /**
   * A closed pull request: the run only matters when a promotion waits on it (git-wait-for-pr).
   * The action checks the state for one before running anything else.
   */
  pullRequest?: { number: number; url?: string; merged: boolean }
}

export interface RouteInput {
  eventName: string
  payload: unknown
  command: string
  inputs: Record<string, string>
  repository?: string
  /** Publish the pipeline page on runs that reconcile (input status-page). */
  statusPage?: boolean
}

/** Commands the action may run (init and demo write files locally; they are CLI-only). */
export const ACTION_COMMANDS = [
  'reconcile',
  'discover',
  'promote',
  'approve',
  'respond',
  'assemble',
  'abort',
  'verify',
  'plan',
  'status',
  'validate',
  'migrate',
  'version'
] as const

/** Inputs (action inputs, workflow_dispatch inputs) that become command arguments. */
export const ARG_INPUTS = [
  'stage',
  'freight',
  'warehouse',
  'image',
  'commit',
  'chart',
  'promotion',
  'override-windows',
  'response',
  'step'
] as const

/** Inputs that hold one `<repo>=<value>` pair per line. */
const MULTILINE = new Set(['image', 'commit', 'chart'])
const MAX_VALUE = 512
const MAX_LINES = 50

type Json = Record<string, unknown>

function obj(v: unknown): Json {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {}
}

/** Checks an untrusted input value's shape; returns it trimmed. */
export function checkInputValue(name: string, raw: string, source: string): string {
  const value = raw.trim()
  const lines = MULTILINE.has(name) ? value.split(/\r?\n/) : [value]
  if (lines.length > MAX_LINES)
    throw new UsageError(`${source} '${name}' has more than ${MAX_LINES} lines`)
  for (const line of lines) {
    if (line.length > MAX_VALUE)
      throw new UsageError(`${source} '${name}' is longer than ${MAX_VALUE} characters`)
    if (hasControlCharacter(line.replace(/\r$/, '')))
      throw new UsageError(
        `${source} '${name}' contains control characters`,
        MULTILINE.has(name) ? 'one <repoURL>=<value> per line' : 'pass a single line'
      )
  }
  return value
}

export function checkCommand(command: string, source: string): string {
  const c = command.trim()
  if (!(ACTION_COMMANDS as readonly string[]).includes(c)) {
    const shown =
      c.length > 40 || hasControlCharacter(c) ? JSON.stringify(c.slice(0, 40)) : `'${c}'`
    throw new UsageError(
      `unknown command ${shown} (${source})`,
      `use auto or one of: ${ACTION_COMMANDS.join(', ')}`
    )
  }
  return c
}

export function routeEvent(input: RouteInput): EventRoute {
  const route = commandFor(input)
  if (input.statusPage && route.command === 'reconcile')
    return { ...route, args: { ...route.args, 'publish-page': true } }
  return route
}

function commandFor(input: RouteInput): EventRoute {
  const p = obj(input.payload)
  const args: CommandArgs = {}
  // The workflow's own `with:` inputs are written by the repository's maintainers: they win over
  // anything an event carries.
  for (const name of ARG_INPUTS) {
    const v = input.inputs[name]
    if (v) args[name] = checkInputValue(name, v, 'input')
  }
  const explicit = (input.command || 'auto').trim()
  if (explicit !== 'auto') {
    return { command: checkCommand(explicit, "input 'command'"), args, reason: 'input command' }
  }
  switch (input.eventName) {
    case 'workflow_dispatch': {
      const inputs = obj(p.inputs)
      const raw = inputs.command ?? inputs.action
      const requested = typeof raw === 'string' && raw.trim() ? raw.trim() : 'reconcile'
      const command =
        requested === 'auto'
          ? 'reconcile'
          : checkCommand(requested, "workflow_dispatch input 'command'")
      for (const name of ARG_INPUTS) {
        const v = inputs[name]
        if (args[name] !== undefined || v === undefined || v === null || v === '') continue
        if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean')
          throw new UsageError(`workflow_dispatch input '${name}' must be a string`)
        const value = checkInputValue(name, String(v), 'workflow_dispatch input')
        if (value) args[name] = value
      }
      return { command, args, reason: 'workflow_dispatch' }
    }
    case 'pull_request':
    case 'pull_request_target': {
      const pr = obj(p.pull_request)
      const headRepo = obj(obj(pr.head).repo).full_name
      const baseRepo = obj(obj(pr.base).repo).full_name ?? obj(p.repository).full_name
      const number = Number(pr.number ?? p.number)
      // A fork's head repository differs from the base (or is gone when the fork was deleted).
      if (typeof headRepo !== 'string' || (baseRepo && headRepo !== baseRepo)) {
        return {
          command: 'none',
          args,
          skip: `pull request #${number} from fork ${typeof headRepo === 'string' ? headRepo : '(deleted)'} cannot trigger promotions`
        }
      }
      const action = typeof p.action === 'string' ? p.action : ''
      if (action !== 'closed') {
        return {
          command: 'none',
          args,
          skip: `pull_request ${action}: only a closed pull request can resume a promotion`
        }
      }
      const merged = pr.merged === true || Boolean(pr.merged_at)
      return {
        command: 'reconcile',
        args: { ...args, 'event-name': 'pull_request', event: JSON.stringify(p) },
        reason: `pull request #${number} closed${merged ? ' (merged)' : ''}`,
        pullRequest: {
          number,
          url: typeof pr.html_url === 'string' ? pr.html_url : undefined,
          merged
        }
      }
    }
    case 'repository_dispatch':
      checkDispatchPayload(p.client_payload)
    // falls through
    case 'registry_package':
    case 'package':
    case 'push':
      return {
        command: 'reconcile',
        args: { ...args, event: JSON.stringify(p), 'event-name': input.eventName },
        reason: input.eventName
      }
    case 'schedule':
    default:
      return { command: 'reconcile', args, reason: input.eventName || 'default' }
  }
}

/**
 * The unfinished promotion that waits on a pull request, by name: its step outputs or message name
 * the pull request's URL (git-open-pr / git-wait-for-pr record it).
 */
export function promotionWaitingOn(
  promotions: Record<string, { name: string; phase: string; message?: string; state?: unknown }>,
  pr: { number: number; url?: string }
): string | undefined {
  if (!pr.url) return undefined
  const escaped = pr.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  const re = new RegExp(`${escaped}(?![0-9])`)
  for (const p of Object.values(promotions)) {
    if (p.phase !== 'Running' && p.phase !== 'Pending') continue
    if (re.test(`${p.message ?? ''}\n${JSON.stringify(p.state ?? {})}`)) return p.name
  }
  return undefined
}
