import { createHash } from 'node:crypto'
import type { Chart, FreightOrigin, GitCommit, Image } from './types.js'
import { goPathJoin, normalizeChartUrl, normalizeGitUrl } from './urls.js'

/** A generic artifact (Kargo's `artifacts` from non-built-in subscriptions). */
export interface GenericArtifact {
  artifactType: string
  subscriptionName: string
  version: string
}

/** What a Freight ID is computed from. */
export interface FreightIdInput {
  origin: FreightOrigin
  commits?: ReadonlyArray<Pick<GitCommit, 'repoURL' | 'id' | 'tag' | 'subscriptionName'>>
  images?: ReadonlyArray<Pick<Image, 'repoURL' | 'tag' | 'digest' | 'subscriptionName'>>
  charts?: ReadonlyArray<Pick<Chart, 'repoURL' | 'name' | 'version' | 'subscriptionName'>>
  artifacts?: ReadonlyArray<GenericArtifact>
}

function sha1Hex(text: string): string {
  return createHash('sha1').update(text, 'utf8').digest('hex')
}

function byteCompare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}

function withSubscription(base: string, subscriptionName?: string): string {
  return subscriptionName ? `${base}:${subscriptionName}` : base
}

/** The sorted artifact strings a Freight ID hashes (exported for diagnostics and tests). */
export function freightIdParts(f: FreightIdInput): string[] {
  const parts: string[] = []
  for (const c of f.commits ?? []) {
    const url = normalizeGitUrl(c.repoURL)
    const base = c.tag ? `${url}:${c.tag}:${c.id}` : `${url}:${c.id}`
    parts.push(withSubscription(base, c.subscriptionName))
  }
  for (const i of f.images ?? []) {
    // Kargo does not normalize image URLs here.
    parts.push(withSubscription(`${i.repoURL}:${i.tag}@${i.digest}`, i.subscriptionName))
  }
  for (const h of f.charts ?? []) {
    const base = `${goPathJoin(normalizeChartUrl(h.repoURL), h.name ?? '')}:${h.version}`
    parts.push(withSubscription(base, h.subscriptionName))
  }
  for (const a of f.artifacts ?? [])
    parts.push(`${a.artifactType}:${a.subscriptionName}:${a.version}`)
  return parts.sort(byteCompare)
}

/**
 * Kargo's GenerateFreightID: the hex sha1 of `<kind>/<name>:` followed by the sorted artifact
 * strings joined with `|`. Identical artifacts from the same warehouse always get the same ID.
 */
export function freightId(f: FreightIdInput): string {
  return sha1Hex(`${f.origin.kind}/${f.origin.name}:${freightIdParts(f).join('|')}`)
}

/** Kargo's FreightCollection ID: sha1 of the sorted freight names joined with `,`. */
export function freightCollectionId(names: readonly string[]): string {
  return sha1Hex([...names].sort(byteCompare).join(','))
}

/** The first 7 characters, as Kargo prints IDs and names promotions. */
export function shortId(id: string): string {
  return id.slice(0, 7)
}
