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

/** True when `text` holds a registered secret. */
export function containsSecret(text: string): boolean {
  for (const s of secrets) if (s.length >= 4 && text.includes(s)) return true
  return false
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

/**
 * Marks where text was escaped so the runner would not read it as a workflow command. Visible in
 * the log, and lossless: every marker Waybill adds or finds in the text is a marker followed by
 * one character, so removing one marker before each character gives the original text back.
 */
export const COMMAND_ESCAPE = '\u241b' // ␛ SYMBOL FOR ESCAPE

/** .NET's TrimStart (what the runner uses) trims these too; \s alone misses a few. */
// eslint-disable-next-line no-control-regex
const LEADING_SPACE = /^[\s\u0085\u180e\u001c-\u001f]*/
/** The runner splits output into lines on \r, \n and \r\n. */
const LINE_BREAK = /(\r\n|\r|\n)/

/**
 * Neutralises GitHub Actions workflow commands in untrusted text, line by line: a line whose
 * trimmed start is `::` (`::add-mask::`, `::error::`, `::stop-commands::`…) gets the marker
 * between the two colons, and every `##[` (the older syntax, matched anywhere in a line) gets it
 * before the bracket. Literal markers are doubled so the escaping stays reversible.
 */
export function escapeWorkflowCommands(text: string): string {
  if (!text.includes('::') && !text.includes('##[') && !text.includes(COMMAND_ESCAPE)) return text
  return text
    .split(LINE_BREAK)
    .map((part, i) => (i % 2 === 1 ? part : escapeLine(part)))
    .join('')
}

function escapeLine(line: string): string {
  let out = line.split(COMMAND_ESCAPE).join(COMMAND_ESCAPE + COMMAND_ESCAPE)
  out = out.split('##[').join(`##${COMMAND_ESCAPE}[`)
  const lead = LEADING_SPACE.exec(out)![0].length
  if (out.startsWith('::', lead))
    out = `${out.slice(0, lead + 1)}${COMMAND_ESCAPE}${out.slice(lead + 1)}`
  return out
}

/** Reverses escapeWorkflowCommands. */
export function unescapeWorkflowCommands(text: string): string {
  return text.replace(new RegExp(`${COMMAND_ESCAPE}([\\s\\S])`, 'g'), '$1')
}

/** What every logger writes: registered secrets replaced, then workflow commands neutralised. */
export function safeText(text: string): string {
  return escapeWorkflowCommands(redact(text))
}

const listeners: Array<(secret: string) => void> = []

export function registerSecret(secret: string | undefined): void {
  if (!secret || secret.length < 4 || secrets.has(secret)) return
  secrets.add(secret)
  for (const l of listeners) l(secret)
}

/**
 * Registers a secret value; when it is a JSON object or array (a `secrets` entry holding a JSON
 * document), every string inside it too, however deeply nested, and each as it is spelled inside
 * the JSON text (escaped): a single field printed by a tool or a step is masked on its own.
 */
export function registerSecretValue(value: string | undefined): void {
  registerSecret(value)
  if (!value || !/^\s*[[{]/.test(value)) return
  let parsed: unknown
  try {
    parsed = JSON.parse(value)
  } catch {
    return // not JSON: the string itself
  }
  const walk = (v: unknown, depth: number): void => {
    if (depth > 64) return
    if (typeof v === 'string') {
      registerSecret(v)
      registerSecret(JSON.stringify(v).slice(1, -1))
    } else if (Array.isArray(v)) for (const x of v) walk(x, depth + 1)
    else if (v && typeof v === 'object') for (const x of Object.values(v)) walk(x, depth + 1)
  }
  walk(parsed, 0)
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
    for (const line of redact(message).split('\n'))
      this.write(escapeWorkflowCommands(pad + prefix + line))
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
    this.lines.push('debug: ' + safeText(m))
  }
  info(m: string): void {
    this.lines.push(safeText(m))
  }
  notice(m: string): void {
    this.lines.push('notice: ' + safeText(m))
  }
  warn(m: string): void {
    this.lines.push('warning: ' + safeText(m))
  }
  error(m: string): void {
    this.lines.push('error: ' + safeText(m))
  }
  async group<T>(name: string, fn: () => Promise<T>): Promise<T> {
    this.lines.push('group: ' + safeText(name))
    return fn()
  }
  mask(secret: string): void {
    registerSecret(secret)
  }
  text(): string {
    return this.lines.join('\n')
  }
}
