/**
 * Core code logs through this interface and never imports @actions/core: the action maps it
 * onto workflow commands (groups, annotations, masking), the CLI onto stderr, tests onto memory.
 */
export interface Annotation {
  file?: string
  line?: number
  column?: number
  title?: string
}

export interface Logger {
  debug(message: string): void
  info(message: string): void
  notice(message: string, where?: Annotation): void
  warn(message: string, where?: Annotation): void
  error(message: string, where?: Annotation): void
  /** Runs fn inside a collapsible group (the action) or an indented section (the CLI). */
  group<T>(name: string, fn: () => Promise<T>): Promise<T>
  /** Registers a secret so that it never appears in any later output. */
  mask(secret: string): void
}

const secrets = new Set<string>()

/** Replaces every registered secret in text; used by every logger and by anything that persists text. */
export function redact(text: string): string {
  let out = text
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join('***')
  return out
}

/** redact() applied to every string inside a JSON-like value (keys included); returns a copy. */
export function redactValue<T>(value: T): T {
  if (secrets.size === 0) return value
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return redact(v)
    if (Array.isArray(v)) return v.map(walk)
    if (v && typeof v === 'object')
      // fromEntries defines own properties: a '__proto__' key stays a key.
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [redact(k), walk(x)]))
    return v
  }
  return walk(value) as T
}

const listeners: Array<(secret: string) => void> = []

export function registerSecret(secret: string | undefined): void {
  if (!secret || secret.length < 4 || secrets.has(secret)) return
  secrets.add(secret)
  for (const l of listeners) l(secret)
}

/**
 * Tells `listener` about every secret registered from now on, and every one registered so far
 * (the action passes core.setSecret, so the runner masks what Waybill masks).
 */
export function onSecret(listener: (secret: string) => void): void {
  listeners.push(listener)
  for (const s of secrets) listener(s)
}

/** Writes to stderr so that stdout stays clean for --json output. */
export class ConsoleLogger implements Logger {
  private depth = 0
  constructor(
    private readonly verbose = false,
    private readonly write: (line: string) => void = (l) => process.stderr.write(l + '\n')
  ) {}
  private out(prefix: string, message: string): void {
    const pad = '  '.repeat(this.depth)
    for (const line of redact(message).split('\n')) this.write(pad + prefix + line)
  }
  private where(w?: Annotation): string {
    if (!w?.file) return ''
    return `${w.file}${w.line ? `:${w.line}` : ''}${w.column ? `:${w.column}` : ''}: `
  }
  debug(message: string): void {
    if (this.verbose) this.out('debug: ', message)
  }
  info(message: string): void {
    this.out('', message)
  }
  notice(message: string, where?: Annotation): void {
    this.out('notice: ' + this.where(where), message)
  }
  warn(message: string, where?: Annotation): void {
    this.out('warning: ' + this.where(where), message)
  }
  error(message: string, where?: Annotation): void {
    this.out('error: ' + this.where(where), message)
  }
  async group<T>(name: string, fn: () => Promise<T>): Promise<T> {
    this.out('▸ ', name)
    this.depth++
    try {
      return await fn()
    } finally {
      this.depth--
    }
  }
  mask(secret: string): void {
    registerSecret(secret)
  }
}

/** Keeps every line in memory; tests assert on it. */
export class MemoryLogger implements Logger {
  readonly lines: string[] = []
  debug(m: string): void {
    this.lines.push('debug: ' + redact(m))
  }
  info(m: string): void {
    this.lines.push(redact(m))
  }
  notice(m: string): void {
    this.lines.push('notice: ' + redact(m))
  }
  warn(m: string): void {
    this.lines.push('warning: ' + redact(m))
  }
  error(m: string): void {
    this.lines.push('error: ' + redact(m))
  }
  async group<T>(name: string, fn: () => Promise<T>): Promise<T> {
    this.lines.push('group: ' + name)
    return fn()
  }
  mask(secret: string): void {
    registerSecret(secret)
  }
  text(): string {
    return this.lines.join('\n')
  }
}
