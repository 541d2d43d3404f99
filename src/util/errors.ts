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
