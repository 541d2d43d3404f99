import type { RegistryCredential } from './services.js'
import { UsageError } from '../util/errors.js'

/**
 * Parses `host=username:password` (or `host=token`) lines, one registry per line.
 * The format is shared by the `registry-credentials` input and the `--registry-credentials` flag.
 */
export function parseRegistryCredentials(text: string): Record<string, RegistryCredential> {
  const out: Record<string, RegistryCredential> = {}
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim()
    if (!line || line.startsWith('#')) continue
    const eq = line.indexOf('=')
    if (eq <= 0)
      throw new UsageError(`registry-credentials line ${i + 1}: expected host=username:password`)
    const host = line.slice(0, eq).trim()
    const value = line.slice(eq + 1)
    const colon = value.indexOf(':')
    out[host] =
      colon >= 0
        ? { username: value.slice(0, colon), password: value.slice(colon + 1) }
        : { token: value }
  }
  return out
}

/** Parses `name=value` lines for the secret() expression function. */
export function parseSecrets(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim()
    if (!line || line.startsWith('#')) continue
    const eq = line.indexOf('=')
    if (eq <= 0) throw new UsageError(`secrets line ${i + 1}: expected name=value`)
    out[line.slice(0, eq).trim()] = line.slice(eq + 1)
  }
  return out
}
