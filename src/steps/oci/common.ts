import { z } from 'zod'
import { RegistryClient } from '../../oci/client.js'
import { parseImageReference, type ImageReference } from '../../oci/reference.js'
import type { StepContext } from '../types.js'
import { ConfigFieldError } from '../../util/errors.js'

/** Kargo's reference patterns for oci-download.imageRef / oci-push.srcRef (tag or digest). */
export const REF_WITH_TAG_OR_DIGEST =
  /^(oci:\/\/)?[a-zA-Z0-9._-]+(:\d+)?(\/[a-zA-Z0-9._-]+)*[@:][a-zA-Z0-9._:-]+$/
/** oci-push.destRef: a tag is required. */
export const REF_WITH_TAG =
  /^(oci:\/\/)?[a-zA-Z0-9._-]+(:\d+)?(\/[a-zA-Z0-9._-]+)*[:][a-zA-Z0-9._-]+$/

export const refString = (pattern: RegExp, what: string) =>
  z
    .string()
    .min(1)
    .regex(pattern, { error: `must be ${what}` })

/** Parses a step's reference field; a tag or digest is required. */
export function stepReference(value: string, field: string): ImageReference {
  const ref = parseImageReference(value, field)
  if (!ref.tag && !ref.digest)
    throw new ConfigFieldError(field, `'${value}' needs a tag or a digest`)
  return ref
}

export function clientFor(
  ctx: StepContext<'registry'>,
  registry: string,
  insecureSkipTLSVerify: boolean
): RegistryClient {
  return ctx.caps.registry.client(registry, { insecureSkipTLSVerify })
}
