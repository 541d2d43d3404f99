import { freightId } from '../../src/freight/id.js'
import { generateAlias } from '../../src/freight/alias.js'
import { emptyFreightStatus, type Freight } from '../../src/freight/types.js'
import type { State } from '../../src/state/types.js'

export type FreightKind = 'git+image' | 'image' | 'git' | 'chart+image'

/** A realistic freight (by default one commit and one image) for `warehouse`, distinct per `n`. */
export function makeFreight(
  warehouse: string,
  n: number,
  discoveredAt?: string,
  kind: FreightKind = 'git+image'
): Freight {
  const hex = (seed: string, len: number) => {
    let out = ''
    let x = 0
    for (const c of seed) x = (x * 31 + c.charCodeAt(0)) >>> 0
    while (out.length < len) {
      x = (x * 1103515245 + 12345) >>> 0
      out += (x >>> 8).toString(16).padStart(6, '0')
    }
    return out.slice(0, len)
  }
  const withGit = kind === 'git+image' || kind === 'git'
  const withImage = kind !== 'git'
  const allCommits = [
    {
      repoURL: `https://github.com/example/${warehouse}`,
      id: hex(`c${warehouse}${n}`, 40),
      branch: 'main',
      message: `Change number ${n} to ${warehouse}`,
      author: 'Dev Eloper <dev@example.com>'
    }
  ]
  const allImages = [
    {
      repoURL: `ghcr.io/example/${warehouse}`,
      tag: `v1.${Math.floor(n / 100)}.${n % 100}`,
      digest: `sha256:${hex(`i${warehouse}${n}`, 64)}`
    }
  ]
  const commits = withGit ? allCommits : []
  const images = withImage ? allImages : []
  const charts =
    kind === 'chart+image'
      ? [{ repoURL: `oci://ghcr.io/example/charts/${warehouse}`, version: `1.${n}.0` }]
      : []
  const name = freightId({
    origin: { kind: 'Warehouse', name: warehouse },
    commits,
    images,
    charts
  })
  return {
    name,
    alias: '',
    origin: { kind: 'Warehouse', name: warehouse },
    discoveredAt: discoveredAt ?? new Date(Date.UTC(2025, 0, 1) + n * 60_000).toISOString(),
    commits,
    images,
    charts,
    status: emptyFreightStatus()
  }
}

/** Adds freight to a draft with a unique alias; returns the commit message. */
export function addFreight(draft: State, f: Freight): string {
  const taken = new Set(Object.values(draft.freight).map((x) => x.alias))
  const alias = f.alias || generateAlias(f.name, taken)
  draft.freight[f.name] = { ...f, alias }
  return `freight: add ${alias} (${f.origin.name})`
}
