/**
 * Loads a folder of Kargo resources (every *.yaml / *.yml, recursive, multi-document) into a
 * ProjectModel, and reports every problem at once, each located at the offending field.
 *
 * Phases, each its own function: find the files → parse YAML documents (yaml-source.ts) →
 * classify kinds (classify.ts) → index names (duplicates) → drop empty optional fields
 * (null-fields.ts) → validate with zod → check step configs (step-config.ts) → add to the model,
 * with notices for ignored fields (notices.ts) → check references between resources (graph.ts).
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import type { z } from 'zod'
import {
  API_VERSION,
  RESOURCE_KINDS,
  RESOURCE_SCHEMAS,
  type ProjectConfig,
  type ProjectResource
} from './schema.js'
import { sortProblems, type Problem, problemText, formatProblem } from './problems.js'
import { graphProblems, type Locate } from './graph.js'
import { emptyModel, type ProjectModel } from './model.js'
import { parseYamlFile, position, type Source } from './yaml-source.js'
import { classifyDocument, type KargoDocument } from './classify.js'
import { fieldIssues } from './schema-issues.js'
import { KubernetesOnlyNotices, resourceNotices } from './notices.js'
import { withEra } from './era.js'
import { withoutEmptyOptionals } from './null-fields.js'
import { stepConfigProblems } from './step-config.js'
import { compileWindow } from './windows.js'
import { fieldPath } from '../util/zod.js'
import type { Logger } from '../util/logger.js'
import { ConfigError } from '../util/errors.js'

export type { Location, ProjectModel } from './model.js'
export { suggestField } from './schema-issues.js'

function toPosix(p: string): string {
  return p.split(path.sep).join('/')
}

async function listYamlFiles(dir: string): Promise<string[]> {
  const out: string[] = []
  const entries = await fs.readdir(dir, { withFileTypes: true })
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  for (const e of entries) {
    const full = path.join(dir, e.name)
    if (e.isDirectory()) out.push(...(await listYamlFiles(full)))
    else if (e.isFile() && /\.ya?ml$/i.test(e.name)) out.push(full)
  }
  return out
}

/** Open files at a time: enough to keep the thread pool busy, far below any descriptor limit. */
const READ_CONCURRENCY = 16

/** The files' texts, in order, read a few at a time (not one round trip per file). */
async function readFiles(paths: string[]): Promise<string[]> {
  const texts: string[] = new Array<string>(paths.length)
  let next = 0
  const reader = async () => {
    for (let i = next++; i < paths.length; i = next++)
      texts[i] = await fs.readFile(paths[i], 'utf8')
  }
  await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, paths.length) }, reader))
  return texts
}

export interface ConfigFile {
  /** Absolute path, to read it. */
  path: string
  /** Relative to the repository (posix separators), to report it. */
  file: string
}

/**
 * Phase 1: the config folder (relative to the repository) and its YAML files, recursively, in
 * name order; a problem when the folder is missing or holds no YAML.
 */
export async function findConfigFiles(
  repoDir: string,
  configDir: string
): Promise<{ configDir: string; files: ConfigFile[]; problem?: Problem }> {
  const absConfig = path.resolve(repoDir, configDir)
  const relConfig = toPosix(path.relative(repoDir, absConfig)) || '.'
  const unusable = (message: string, hint: string) => ({
    configDir: relConfig,
    files: [],
    problem: { severity: 'error' as const, file: relConfig, message, hint }
  })
  let paths: string[]
  try {
    const st = await fs.stat(absConfig)
    if (!st.isDirectory()) throw new Error('not a directory')
    paths = await listYamlFiles(absConfig)
  } catch {
    return unusable(
      `config folder '${relConfig}' not found`,
      'put your Kargo resources in .waybill/ or point --config (the config input) at their folder'
    )
  }
  if (paths.length === 0)
    return unusable(
      `no *.yaml or *.yml files in '${relConfig}'`,
      'add Warehouse and Stage resources (apiVersion: kargo.akuity.io/v1alpha1)'
    )
  const files = paths.map((p) => ({ path: p, file: toPosix(path.relative(repoDir, p)) }))
  return { configDir: relConfig, files }
}

/**
 * Every named resource seen, valid or not, by `Kind/name` (its first definition): finds
 * duplicates, and locates resources for the reference checks, which skip references to
 * resources that exist but failed validation (they are reported already).
 */
export class ResourceIndex {
  private readonly first = new Map<string, Source>()
  private readonly invalid = new Set<string>()

  /** Records a resource's definition; a later one with the same kind and name is a duplicate. */
  claim({ kind, name, src }: KargoDocument): Problem | undefined {
    if (name === undefined) return undefined
    const key = `${kind}/${name}`
    const firstSrc = this.first.get(key)
    if (!firstSrc) {
      this.first.set(key, src)
      return undefined
    }
    const firstLoc = position(firstSrc, ['metadata', 'name'])
    const loc = position(src, ['metadata', 'name'])
    return {
      severity: 'error',
      ...loc,
      kind,
      name,
      field: 'metadata.name',
      message: `duplicate ${kind} '${name}': defined in ${firstLoc.file}:${firstLoc.line} and ${loc.file}:${loc.line}`,
      hint: `rename one of them; Waybill uses the one in ${firstLoc.file}`
    }
  }

  markInvalid({ kind, name }: KargoDocument): void {
    if (name !== undefined) this.invalid.add(`${kind}/${name}`)
  }

  existsButInvalid(kind: string, name: string): boolean {
    const key = `${kind}/${name}`
    return this.first.has(key) && this.invalid.has(key)
  }

  /** Where a field of a named resource is; the config folder for a resource never seen. */
  locator(configDir: string): Locate {
    return (kind, name, p, preferKey) => {
      const src = this.first.get(`${kind}/${name}`)
      return src ? position(src, p, preferKey) : { file: configDir }
    }
  }
}

type KargoResource = { metadata: { name: string } }

/** Phase: the resource checked against its kind's schema, or every issue located in the YAML. */
export function validateResource(
  doc: KargoDocument
):
  | { resource: KargoResource; problems?: undefined }
  | { resource?: undefined; problems: Problem[] } {
  const schema = RESOURCE_SCHEMAS[doc.kind] as unknown as z.ZodType
  const res = schema.safeParse(doc.obj, { reportInput: true })
  if (res.success) return { resource: res.data as KargoResource }
  const problems: Problem[] = []
  for (const issue of res.error.issues) {
    for (const found of fieldIssues(issue, schema)) {
      problems.push({
        severity: 'error',
        ...position(doc.src, found.path, found.preferKey),
        kind: doc.kind,
        name: doc.name,
        field: fieldPath(found.path) || undefined,
        message: found.message,
        hint: found.hint
      })
    }
  }
  return { problems }
}

/** Phase: a valid resource joins the model; a second Project or ProjectConfig is a problem. */
export function addToModel(
  model: ProjectModel,
  { kind, name, src }: KargoDocument,
  resource: KargoResource
): Problem | undefined {
  model.locations.set(`${kind}/${name ?? ''}`, position(src, []))
  const resourceName = resource.metadata.name
  // Resources kept by name: the map of the model each kind goes into.
  const byName: Partial<Record<string, Map<string, KargoResource>>> = {
    Warehouse: model.warehouses,
    Stage: model.stages,
    PromotionTask: model.promotionTasks,
    ClusterPromotionTask: model.clusterPromotionTasks,
    MessageChannel: model.messageChannels,
    ClusterMessageChannel: model.clusterMessageChannels
  }
  const collection = byName[kind]
  if (collection) {
    collection.set(resourceName, resource)
    return undefined
  }
  switch (kind) {
    case 'ProjectConfig':
    case 'Project': {
      const existing = kind === 'Project' ? model.project : model.projectConfig
      if (existing) {
        return {
          severity: 'error',
          ...position(src, ['metadata', 'name']),
          kind,
          name,
          field: 'metadata.name',
          message: `only one ${kind} is allowed; '${existing.metadata.name}' is already defined`
        }
      }
      if (kind === 'Project') model.project = resource as ProjectResource
      else {
        model.projectConfig = resource as ProjectConfig
        model.promotionWindows = (model.projectConfig.spec?.promotionWindows ?? []).map((w) =>
          compileWindow(w)
        )
      }
      return undefined
    }
  }
}

/**
 * Phase: a document with its empty optional fields dropped (Kubernetes reads a null field as
 * absent); an empty required field stays, for validation to report.
 */
export function withoutEmptyFields(doc: KargoDocument): KargoDocument {
  const schema = RESOURCE_SCHEMAS[doc.kind] as unknown as z.ZodType
  return { ...doc, obj: withoutEmptyOptionals(doc.obj, schema) as Record<string, unknown> }
}

/** Phase: references between resources (warehouses, stages, tasks) and the stage graph. */
export function referenceProblems(model: ProjectModel, index: ResourceIndex): Problem[] {
  return graphProblems(model, index.locator(model.configDir), (kind, name) =>
    index.existsButInvalid(kind, name)
  )
}

export async function loadProject(
  repoDir: string,
  configDir: string
): Promise<{ model: ProjectModel; problems: Problem[] }> {
  const found = await findConfigFiles(repoDir, configDir)
  const model = emptyModel(found.configDir)
  if (found.problem) return { model, problems: [found.problem] }

  const problems: Problem[] = []
  const index = new ResourceIndex()
  const kubernetesOnly = new KubernetesOnlyNotices()
  let resourceCount = 0
  const texts = await readFiles(found.files.map((f) => f.path))
  for (const [i, { file }] of found.files.entries()) {
    const parsed = parseYamlFile(file, texts[i])
    problems.push(...parsed.problems)
    for (const yamlDoc of parsed.documents) {
      const { resource: doc, problem } = classifyDocument(yamlDoc)
      if (problem) problems.push(problem)
      if (!doc) continue
      resourceCount++
      const duplicate = index.claim(doc)
      if (duplicate) {
        problems.push(duplicate)
        continue
      }
      const input = withoutEmptyFields(doc)
      const validated = validateResource(input)
      if (!validated.resource) {
        index.markInvalid(doc)
        problems.push(...withEra(input, validated.problems))
        continue
      }
      problems.push(...stepConfigProblems(input, validated.resource))
      const conflict = addToModel(model, input, validated.resource)
      if (conflict) problems.push(conflict)
      problems.push(...resourceNotices(input, validated.resource, kubernetesOnly))
    }
  }
  problems.push(...kubernetesOnly.problems())

  if (resourceCount === 0 && !problems.some((p) => p.severity === 'error')) {
    problems.push({
      severity: 'error',
      file: model.configDir,
      message: `no Kargo resources (apiVersion: ${API_VERSION}) found in '${model.configDir}'`,
      hint: `add Warehouse and Stage resources (kinds: ${RESOURCE_KINDS.join(', ')})`
    })
  }
  problems.push(...referenceProblems(model, index))
  return { model, problems: sortProblems(problems) }
}

/** Reports notices and warnings on the logger (annotations in the action) and throws on errors. */
export async function loadProjectOrThrow(
  repoDir: string,
  configDir: string,
  logger: Logger
): Promise<ProjectModel> {
  const { model, problems } = await loadProject(repoDir, configDir)
  annotateProblems(problems, logger, ['notice', 'warning'])
  const errors = problems.filter((p) => p.severity === 'error')
  if (errors.length > 0) {
    throw new ConfigError(
      `${errors.length} configuration error${errors.length === 1 ? '' : 's'} in ${model.configDir}:\n` +
        errors.map((p) => '  ' + formatProblem(p)).join('\n'),
      errors,
      'run `waybill validate` for details; see docs/configuration.md'
    )
  }
  return model
}

/** Sends problems to the logger with their location (GitHub annotations in the action). */
export function annotateProblems(
  problems: Problem[],
  logger: Logger,
  severities: Problem['severity'][] = ['error', 'warning', 'notice']
): void {
  for (const p of problems) {
    if (!severities.includes(p.severity)) continue
    const where = { file: p.file, line: p.line, column: p.column }
    const text = problemText(p)
    if (p.severity === 'error') logger.error(text, where)
    else if (p.severity === 'warning') logger.warn(text, where)
    else logger.notice(text, where)
  }
}
