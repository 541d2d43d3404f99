import { ConfigFieldError } from '../util/errors.js'

/**
 * An image (or OCI artifact) reference split into the parts the Distribution API needs.
 * `nginx` → registry `registry-1.docker.io`, repository `library/nginx` (Docker Hub's official
 * images); `ghcr.io/o/i:1.0`, `127.0.0.1:5000/x@sha256:…` as written.
 */
export interface ImageReference {
  /** Host (and port) the API is served from, e.g. `registry-1.docker.io`, `127.0.0.1:5000`. */
  registry: string
  /** Repository path inside the registry, e.g. `library/nginx`. */
  repository: string
  tag?: string
  digest?: string
}

export const DOCKER_HUB_REGISTRY = 'registry-1.docker.io'
const DOCKER_HUB_ALIASES = new Set(['docker.io', 'index.docker.io', DOCKER_HUB_REGISTRY])

/** True for names Docker treats as a registry host: contains `.` or `:`, or is `localhost`. */
function looksLikeHost(component: string): boolean {
  return component.includes('.') || component.includes(':') || component === 'localhost'
}

/**
 * Parses `[oci://][host[:port]/]path[:tag][@digest]`. Throws ConfigFieldError (naming `field`)
 * when the reference is malformed.
 */
export function parseImageReference(ref: string, field = 'repoURL'): ImageReference {
  let rest = ref.trim().replace(/^oci:\/\//, '')
  if (!rest) throw new ConfigFieldError(field, 'image reference is empty')
  let digest: string | undefined
  const at = rest.indexOf('@')
  if (at >= 0) {
    digest = rest.slice(at + 1)
    rest = rest.slice(0, at)
    if (!/^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(digest))
      throw new ConfigFieldError(field, `'${ref}' has an invalid digest '${digest}'`)
  }
  let tag: string | undefined
  const lastSlash = rest.lastIndexOf('/')
  const colon = rest.lastIndexOf(':')
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1)
    rest = rest.slice(0, colon)
    if (!/^[\w][\w.-]{0,127}$/.test(tag))
      throw new ConfigFieldError(field, `'${ref}' has an invalid tag '${tag}'`)
  }
  const parts = rest.split('/')
  let registry = DOCKER_HUB_REGISTRY
  if (parts.length > 1 && looksLikeHost(parts[0])) registry = parts.shift()!.toLowerCase()
  if (DOCKER_HUB_ALIASES.has(registry)) {
    registry = DOCKER_HUB_REGISTRY
    if (parts.length === 1) parts.unshift('library')
  }
  const repository = parts.join('/')
  if (
    !repository ||
    !/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(
      repository
    )
  ) {
    throw new ConfigFieldError(
      field,
      `'${ref}' is not a valid image reference (repository names are lowercase letters, digits and . _ - separated by /)`
    )
  }
  return { registry, repository, tag, digest }
}

/** The host names under which credentials for `registry` may be configured. */
export function credentialHosts(registry: string): string[] {
  if (registry === DOCKER_HUB_REGISTRY)
    return [DOCKER_HUB_REGISTRY, 'docker.io', 'index.docker.io', 'https://index.docker.io/v1/']
  return [registry]
}

/** `registry/repository[:tag][@digest]`, the form users write (Docker Hub shown as docker.io). */
export function formatImageReference(ref: ImageReference): string {
  const host = ref.registry === DOCKER_HUB_REGISTRY ? 'docker.io' : ref.registry
  return (
    `${host}/${ref.repository}` +
    (ref.tag ? `:${ref.tag}` : '') +
    (ref.digest ? `@${ref.digest}` : '')
  )
}
