import type { Document } from 'yaml'
import type { ProjectFacts } from './facts.js'

/** What a migration did or could not do, located in the file it edited. */
export interface MigrationNote {
  severity: 'change' | 'warning'
  file: string
  line?: number
  /** `Kind/name` of the resource. */
  resource?: string
  message: string
}

/** One parsed document being migrated, with what a migration needs to report on it. */
export interface MigrationTarget {
  doc: Document
  file: string
  kind: string
  name: string
  facts: ProjectFacts
  /** Records a note at a node's line. */
  note(severity: MigrationNote['severity'], message: string, node?: unknown): void
}
