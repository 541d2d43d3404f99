/**
 * `waybill migrate`: rewrites older Kargo configs (0.x, 1.0-era step fields, deprecated fields)
 * into the current format, editing the YAML syntax tree so comments and layout stay.
 */
import fs from 'node:fs/promises'
import { Document, LineCounter, parseAllDocuments } from 'yaml'
import { findConfigFiles } from '../config/load.js'
import { projectFacts } from './facts.js'
import { child, mapChild, text } from './nodes.js'
import { policiesFromProject, policyFromPromotionPolicy } from './policies.js'
import { renderFile, type DocumentEdit } from './render.js'
import { migrateStageV0 } from './stage-v0.js'
import { migrateStepsV1 } from './steps-v1.js'
import type { MigrationNote, MigrationTarget } from './types.js'
import { migrateWarehouse } from './warehouse.js'

export type { MigrationNote } from './types.js'
export { unifiedDiff } from './diff.js'

export interface MigratedFile {
  /** Relative to the repository. */
  file: string
  path: string
  before: string
  /** Empty when every document of the file was moved elsewhere (the file is deleted). */
  after: string
}

export interface MigrationPlan {
  configDir: string
  /** Files whose text changes. */
  files: MigratedFile[]
  notes: MigrationNote[]
}

interface ParsedFile {
  file: string
  path: string
  text: string
  edits: DocumentEdit[]
  lc: LineCounter
}

const KARGO_GROUP = 'kargo.akuity.io'

function isKargo(doc: Document): boolean {
  const apiVersion = text(doc.contents, 'apiVersion')
  return !!apiVersion && apiVersion.split('/')[0] === KARGO_GROUP
}

/** Reads the config folder and works out every change, without writing anything. */
export async function planMigration(repoDir: string, configDir: string): Promise<MigrationPlan> {
  const found = await findConfigFiles(repoDir, configDir)
  const notes: MigrationNote[] = []
  if (found.problem) {
    notes.push({ severity: 'warning', file: found.problem.file, message: found.problem.message })
    return { configDir: found.configDir, files: [], notes }
  }
  const parsed: ParsedFile[] = []
  for (const f of found.files) {
    const source = await fs.readFile(f.path, 'utf8')
    const lc = new LineCounter()
    const docs = parseAllDocuments(source, {
      lineCounter: lc,
      uniqueKeys: false,
      logLevel: 'error'
    })
    const broken = docs.find((d) => d.errors.length > 0)
    if (broken) {
      notes.push({
        severity: 'warning',
        file: f.file,
        line: lc.linePos(broken.errors[0].pos[0]).line,
        message: 'not migrated: the file is not valid YAML (run `waybill validate`)'
      })
      continue
    }
    parsed.push({ ...f, text: source, lc, edits: docs.map((doc) => ({ doc, changed: false })) })
  }
  const facts = projectFacts(
    parsed.flatMap((p) => p.edits.filter((e) => isKargo(e.doc)).map((e): unknown => e.doc.toJS()))
  )

  const policies: Record<string, unknown>[] = []
  let projectConfig: Document | undefined
  let policyHome: { file: ParsedFile; edit: DocumentEdit } | undefined
  for (const file of parsed) {
    for (const edit of file.edits) {
      const { doc } = edit
      if (!isKargo(doc)) continue
      const kind = text(doc.contents, 'kind') ?? ''
      const name = text(child(doc.contents, 'metadata'), 'name') ?? ''
      const t: MigrationTarget = {
        doc,
        file: file.file,
        kind,
        name,
        facts,
        note(severity, message, node) {
          const range = (node as { range?: number[] } | undefined)?.range
          if (severity === 'change') edit.changed = true
          notes.push({
            severity,
            file: file.file,
            line: range ? file.lc.linePos(range[0]).line : undefined,
            resource: `${kind}/${name}`,
            message
          })
        }
      }
      switch (kind) {
        case 'Stage':
          migrateStageV0(t)
          migrateStepsV1(t)
          break
        case 'PromotionTask':
        case 'ClusterPromotionTask':
          migrateStepsV1(t)
          break
        case 'Warehouse':
          migrateWarehouse(t)
          break
        case 'ProjectConfig':
          projectConfig ??= doc
          break
        case 'PromotionPolicy': {
          const policy = policyFromPromotionPolicy(t)
          if (policy) policies.push({ ...policy })
          edit.changed = true
          edit.removed = true
          policyHome ??= { file, edit }
          t.note(
            'change',
            `PromotionPolicy (removed in Kargo 1.0) → ProjectConfig spec.promotionPolicies${policy ? ` (stage ${policy.stageSelector.name})` : ''}`,
            doc.contents
          )
          break
        }
        case 'Project': {
          const moved = policiesFromProject(t)
          if (!moved) break
          policies.push(...moved)
          doc.deleteIn(['spec', 'promotionPolicies'])
          const spec = mapChild(doc.contents, 'spec')
          if (spec && spec.items.length === 0) doc.deleteIn(['spec'])
          t.note(
            'change',
            'Project spec.promotionPolicies (Project spec removed in Kargo 1.7) → ProjectConfig spec.promotionPolicies',
            child(doc.contents, 'spec') ?? doc.contents
          )
          policyHome ??= { file, edit }
          break
        }
      }
    }
  }
  if (policies.length > 0)
    addPolicies(policies, projectConfig, parsed, policyHome, facts.projectName)

  const files: MigratedFile[] = []
  for (const p of parsed) {
    const after = renderFile(p.text, p.edits)
    if (after !== p.text) files.push({ file: p.file, path: p.path, before: p.text, after })
  }
  return { configDir: found.configDir, files, notes }
}

/** Appends policies to the ProjectConfig, or creates one where the first old policy was. */
function addPolicies(
  policies: Record<string, unknown>[],
  projectConfig: Document | undefined,
  parsed: ParsedFile[],
  home: { file: ParsedFile; edit: DocumentEdit } | undefined,
  projectName: string | undefined
): void {
  if (projectConfig) {
    const existing = projectConfig.getIn(['spec', 'promotionPolicies'], true)
    const seq = existing ?? projectConfig.createNode([])
    for (const p of policies) (seq as { add(v: unknown): void }).add(projectConfig.createNode(p))
    if (!existing) projectConfig.setIn(['spec', 'promotionPolicies'], seq)
    for (const f of parsed) for (const e of f.edits) if (e.doc === projectConfig) e.changed = true
    return
  }
  if (!home) return
  const config = new Document({
    apiVersion: `${KARGO_GROUP}/v1alpha1`,
    kind: 'ProjectConfig',
    metadata: { name: projectName ?? 'default' },
    spec: { promotionPolicies: policies }
  })
  const text = config.toString({ indentSeq: false, lineWidth: 0 })
  if (home.edit.removed) {
    home.edit.replacement = text
    return
  }
  // The policies came from a Project: the new ProjectConfig follows it in the same file.
  home.file.edits.push({
    doc: new Document(null),
    changed: true,
    replacement: `---\n${text}`
  })
}

/** Writes the planned files (deleting those left empty). */
export async function writeMigration(plan: MigrationPlan): Promise<void> {
  for (const f of plan.files) {
    if (f.after === '') await fs.rm(f.path)
    else await fs.writeFile(f.path, f.after)
  }
}
