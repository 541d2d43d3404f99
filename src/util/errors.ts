/** An error a user can act on: what went wrong, and a hint on what to do about it. */
export class WaybillError extends Error {
  constructor(
    message: string,
    readonly hint?: string
  ) {
    super(message)
    this.name = 'WaybillError'
  }
}

/** Wrong flags or arguments: exit code 2. */
export class UsageError extends WaybillError {
  constructor(message: string, hint?: string) {
    super(message, hint)
    this.name = 'UsageError'
  }
}

/** An external tool (git, helm, kustomize) failed; stderr is kept, trimmed. */
export class ToolError extends WaybillError {
  constructor(
    readonly tool: string,
    readonly args: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string
  ) {
    super(`${tool} ${args.slice(0, 3).join(' ')} failed (exit ${exitCode}): ${trimOutput(stderr)}`)
    this.name = 'ToolError'
  }
}

/** Keeps the end of long tool output, where the useful line usually is. */
export function trimOutput(text: string, max = 2000): string {
  const t = text.trim()
  return t.length <= max ? t : '…' + t.slice(t.length - max)
}

export function errorMessage(err: unknown): string {
  if (err instanceof WaybillError && err.hint) return `${err.message}\nhint: ${err.hint}`
  if (err instanceof Error) return err.message
  return String(err)
}

/** A problem with one field of a config (a resource field or a step's config field). */
export class ConfigFieldError extends WaybillError {
  constructor(
    readonly field: string,
    message: string,
    hint?: string
  ) {
    super(field ? `${field}: ${message}` : message, hint)
    this.name = 'ConfigFieldError'
  }
}

/** One configuration error, located in its file (config/problems.ts's Problem adds a severity). */
export interface ConfigProblem {
  /** Path relative to the repository. */
  file: string
  line?: number
  column?: number
  /** The resource's kind and name (`Stage`, `uat`). */
  kind?: string
  name?: string
  /** Field path inside the resource. */
  field?: string
  message: string
  hint?: string
}

/**
 * The config has errors: the message lists them; `problems` carries each one with its location
 * so an entry point can annotate the file and line without parsing the message.
 */
export class ConfigError extends WaybillError {
  constructor(
    message: string,
    readonly problems: readonly ConfigProblem[],
    hint?: string
  ) {
    super(message, hint)
    this.name = 'ConfigError'
  }
}
