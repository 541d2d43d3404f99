/** Freight as Kargo models it (api/v1alpha1/freight_types.go), stored in the state file. */
export interface FreightOrigin {
  kind: 'Warehouse'
  name: string
}

export interface GitCommit {
  repoURL: string
  id: string
  branch?: string
  tag?: string
  /** Subject line only. */
  message?: string
  author?: string
  committer?: string
  subscriptionName?: string
}

export interface Image {
  repoURL: string
  tag: string
  digest: string
  annotations?: Record<string, string>
  subscriptionName?: string
}

export interface Chart {
  repoURL: string
  name?: string
  version: string
  subscriptionName?: string
}

export interface FreightStatus {
  currentlyIn: Record<string, { since: string }>
  verifiedIn: Record<string, { verifiedAt: string; longestSoak?: number }>
  approvedFor: Record<string, { approvedAt: string; actor?: string }>
  metadata: Record<string, unknown>
}

export interface Freight {
  /** The ID: Kargo's sha1 fingerprint over origin and artifacts. */
  name: string
  alias: string
  origin: FreightOrigin
  discoveredAt: string
  commits: GitCommit[]
  images: Image[]
  charts: Chart[]
  status: FreightStatus
}

export function emptyFreightStatus(): FreightStatus {
  return { currentlyIn: {}, verifiedIn: {}, approvedFor: {}, metadata: {} }
}

/** Key of an origin in collections and maps: "Warehouse/<name>". */
export function originKey(origin: FreightOrigin): string {
  return `${origin.kind}/${origin.name}`
}
