import type { Annotation, Logger } from './logger.js'

type Entry =
  | { kind: 'debug' | 'info' | 'notice' | 'warn' | 'error'; message: string; where?: Annotation }
  | { kind: 'group'; name: string; entries: Entry[] }

/**
 * Holds what one of several concurrent tasks logs and hands it to the real logger in one piece
 * (`replay`), so parallel promotions read as one group each instead of interleaved lines.
 * Secrets are masked at once: a line printed later must already be masked.
 */
export class BufferedLogger implements Logger {
  private readonly root: Entry[] = []
  private current: Entry[] = this.root

  constructor(private readonly target: Logger) {}

  debug(message: string): void {
    this.current.push({ kind: 'debug', message })
  }
  info(message: string): void {
    this.current.push({ kind: 'info', message })
  }
  notice(message: string, where?: Annotation): void {
    this.current.push({ kind: 'notice', message, where })
  }
  warn(message: string, where?: Annotation): void {
    this.current.push({ kind: 'warn', message, where })
  }
  error(message: string, where?: Annotation): void {
    this.current.push({ kind: 'error', message, where })
  }
  async group<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const group: Entry = { kind: 'group', name, entries: [] }
    this.current.push(group)
    const outer = this.current
    this.current = group.entries
    try {
      return await fn()
    } finally {
      this.current = outer
    }
  }
  mask(secret: string): void {
    this.target.mask(secret)
  }

  /** Writes everything held so far to the real logger (inside `group` when named), then forgets it. */
  async replay(group?: string): Promise<void> {
    const entries = this.root.splice(0)
    if (group) await this.target.group(group, () => write(this.target, entries))
    else await write(this.target, entries)
  }
}

async function write(target: Logger, entries: Entry[]): Promise<void> {
  for (const e of entries) {
    if (e.kind === 'group') await target.group(e.name, () => write(target, e.entries))
    else if (e.kind === 'debug') target.debug(e.message)
    else if (e.kind === 'info') target.info(e.message)
    else target[e.kind](e.message, e.where)
  }
}
