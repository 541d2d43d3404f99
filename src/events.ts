import type { CommandArgs } from './commands/context.js'

/**
 * Maps a GitHub event (name + webhook payload) and the action's inputs to a command.
 * `command: auto` (the default) lets the event decide; an explicit command wins.
 */
export interface EventRoute {
  command: string
  args: CommandArgs
  reason?: string
  /** Set when the event must not trigger anything (e.g. a fork's pull request). */
  skip?: string
}

export interface RouteInput {
  eventName: string
  payload: unknown
  command: string
  inputs: Record<string, string>
  repository?: string
}

type Json = Record<string, unknown>

function obj(v: unknown): Json {
  return v && typeof v === 'object' ? (v as Json) : {}
}

export function routeEvent(input: RouteInput): EventRoute {
  const p = obj(input.payload)
  const args: CommandArgs = {}
  for (const [k, v] of Object.entries(input.inputs)) if (v) args[k] = v
  if (input.command && input.command !== 'auto') {
    return { command: input.command, args, reason: 'input command' }
  }
  switch (input.eventName) {
    case 'workflow_dispatch': {
      const inputs = obj(p.inputs)
      const command = String(inputs.command ?? inputs.action ?? 'reconcile')
      for (const [k, v] of Object.entries(inputs))
        if (typeof v === 'string' && v && k !== 'command') args[k] = v
      return { command, args, reason: 'workflow_dispatch' }
    }
    case 'pull_request':
    case 'pull_request_target': {
      const pr = obj(p.pull_request)
      const headRepo = obj(obj(pr.head).repo).full_name
      if (headRepo && input.repository && headRepo !== input.repository) {
        return {
          command: 'none',
          args,
          skip: `pull request from fork ${String(headRepo)} cannot trigger promotions`
        }
      }
      return {
        command: 'reconcile',
        args: { ...args, 'pr-event': 'true' },
        reason: `pull_request ${String(p.action ?? '')}`
      }
    }
    case 'registry_package':
    case 'package':
    case 'repository_dispatch':
      return {
        command: 'reconcile',
        args: { ...args, event: JSON.stringify(p), 'event-name': input.eventName },
        reason: input.eventName
      }
    case 'push':
      return {
        command: 'reconcile',
        args: { ...args, event: JSON.stringify(p), 'event-name': 'push' },
        reason: 'push'
      }
    case 'schedule':
    default:
      return { command: 'reconcile', args, reason: input.eventName || 'default' }
  }
}
