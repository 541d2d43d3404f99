import fs from 'node:fs'
import type { DiscoveryEvent } from '../discovery/index.js'
import { UsageError } from '../util/errors.js'

/** Reads `--event` (a JSON string or a file path) with `--event-name`. */
export function eventFromArgs(args: {
  'event-name': string | undefined
  event: string | undefined
}): DiscoveryEvent | undefined {
  const name = args['event-name']
  const raw = args.event
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

/**
 * Names from a repeated flag, where each value may hold several (whitespace or comma separated):
 * an action input arrives as one such value.
 */
export function list(values: string[]): string[] {
  return values.flatMap((v) => v.split(/[\s,]+/)).filter(Boolean)
}
