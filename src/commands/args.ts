import fs from 'node:fs'
import type { CommandArgs } from '../runtime/context.js'
import type { DiscoveryEvent } from '../discovery/index.js'
import { UsageError } from '../util/errors.js'

/** Reads `--event` (a JSON string or a file path) with `--event-name`. */
export function eventFromArgs(args: CommandArgs): DiscoveryEvent | undefined {
  const name = args['event-name'] as string | undefined
  const raw = args.event as string | undefined
  if (!name && !raw) return undefined
  if (!name) throw new UsageError('--event needs --event-name')
  let payload: unknown = {}
  if (raw) {
    const text = raw.trim().startsWith('{') ? raw : fs.readFileSync(raw, 'utf8')
    try {
      payload = JSON.parse(text)
    } catch (err) {
      throw new UsageError(`--event is not valid JSON: ${(err as Error).message}`)
    }
  }
  return { name, payload }
}

/** A repeated flag, or one input holding several values (whitespace or comma separated). */
export function list(v: unknown): string[] {
  return Array.isArray(v)
    ? (v as string[])
    : typeof v === 'string' && v
      ? v.split(/[\s,]+/).filter(Boolean)
      : []
}
