/**
 * Loads a folder of Kargo resources (every *.yaml / *.yml, recursive, multi-document) into a
 * ProjectModel, and reports every problem at once, each located at the offending field.
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import {
  LineCounter,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  parseAllDocuments,
  visit,
  type Document,
  type Node
} from 'yaml'
import type { z } from 'zod'
import {
  API_VERSION,
  IGNORED_METADATA_FIELDS,
  RESOURCE_KINDS,
  RESOURCE_SCHEMAS,
  type ClusterPromotionTask,
  type ProjectConfig,
  type ProjectResource,
  type PromotionTask,
  type ResourceKind,
  type Stage,
  type Warehouse
} from './schema.js'
import { sortProblems, type Problem, problemText, formatProblem } from './problems.js'
import { graphProblems, type Locate } from './graph.js'
import { fieldPath } from '../util/zod.js'
import type { Logger } from '../util/logger.js'
import { WaybillError } from '../util/errors.js'

export interface Location {
  file: string
  line: number
  column: number
}

export interface ProjectModel {
  /** The config folder, relative to the repository. */
  configDir: string
  warehouses: Map<string, Warehouse>
  stages: Map<string, Stage>
  promotionTasks: Map<string, PromotionTask>
  clusterPromotionTasks: Map<string, ClusterPromotionTask>
  projectConfig?: ProjectConfig
  project?: ProjectResource
  /** Where each resource is defined; key `Kind/name`. */
  locations: Map<string, Location>
}

type Path = ReadonlyArray<PropertyKey>

/** One parsed YAML document, kept to locate fields in it. */
interface Source {
  file: string
  doc: Document
  lc: LineCounter
}

/** Kargo kinds that exist at runtime only: Waybill creates them, so config files skip them. */
const KARGO_RUNTIME_KINDS = ['Freight', 'Promotion', 'ClusterConfig', 'PromotionRequest', 'Target']

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

// ─── Locating fields in the YAML ───────────────────────────────────────────────────────────

function keyString(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value)
  return typeof key === 'string' ? key : undefined
}

/** Offset of the node at `path` (the key's when preferKey), or of the deepest ancestor found. */
function offsetOf(src: Source, fieldPath: Path, preferKey = false): number {
  let node: unknown = src.doc.contents
  let keyNode: Node | undefined
  let best = (node as Node | null)?.range?.[0] ?? 0
  let found = 0
  for (let i = 0; i < fieldPath.length; i++) {
    const seg = fieldPath[i]
    if (isAlias(node)) node = node.resolve(src.doc)
    let next: unknown
    let nextKey: Node | undefined
    if (isMap(node) && typeof seg === 'string') {
      const pair = [...node.items].reverse().find((p) => keyString(p.key) === seg)
      if (!pair) break
      next = pair.value
      nextKey = pair.key as Node
    } else if (isSeq(node) && typeof seg === 'number') {
      next = node.items[seg]
      if (next === undefined) break
    } else break
    node = next
    keyNode = nextKey
    found = i + 1
    const isLast = i === fieldPath.length - 1
    const valueStart = (node as Node | null)?.range?.[0]
    if (isLast && preferKey && keyNode?.range) best = keyNode.range[0]
    else if (valueStart !== undefined && !(isLast && preferKey)) best = valueStart
    else if (keyNode?.range) best = keyNode.range[0]
    // an empty value (`sources:`) has no node: point at its key
    if (node === null && keyNode?.range) best = keyNode.range[0]
  }
  // a missing field: point at the key of the mapping that should hold it
  if (found < fieldPath.length && found > 0 && keyNode?.range) return keyNode.range[0]
  return best
}

function position(src: Source, fieldPath: Path, preferKey = false): Location {
  const { line, col } = src.lc.linePos(offsetOf(src, fieldPath, preferKey))
  return { file: src.file, line: Math.max(line, 1), column: col }
}

// ─── Zod issues → problems ─────────────────────────────────────────────────────────────────

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'a boolean (true or false)',
  object: 'a mapping',
  record: 'a mapping',
  map: 'a mapping',
  array: 'a list',
  unknown: 'a value'
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'a mapping'
  if (typeof value === 'string') return `the string '${value}'`
  return `${typeof value} ${String(value)}`
}

function isDefaultMessage(message: string): boolean {
  return /^(Invalid|Too (small|big)|Unrecognized)/.test(message)
}

/** The keys a strict object accepts at `path` in a schema (for "did you mean"). */
function keysAt(schema: z.ZodType, fieldPath: Path): string[] {
  const unwrap = (s: z.ZodType): z.ZodType => {
    for (;;) {
      const def = (s as unknown as { def: Record<string, unknown> }).def
      if (
        ['optional', 'default', 'nullable', 'prefault', 'readonly', 'catch'].includes(
          def.type as string
        )
      )
        s = def.innerType as z.ZodType
      else if (def.type === 'pipe') s = def.in as z.ZodType
      else return s
    }
  }
  let s: z.ZodType | undefined = unwrap(schema)
  for (const seg of fieldPath) {
    if (!s) return []
    const def: Record<string, unknown> = (s as unknown as { def: Record<string, unknown> }).def
    if (def.type === 'object') s = (def.shape as Record<string, z.ZodType>)[String(seg)]
    else if (def.type === 'array') s = def.element as z.ZodType
    else if (def.type === 'record') s = def.valueType as z.ZodType
    else return []
    if (s) s = unwrap(s)
  }
  const def = (s as unknown as { def?: Record<string, unknown> } | undefined)?.def
  if (def?.type !== 'object') return []
  // removed (deprecated) fields are never suggested
  return Object.entries(def.shape as Record<string, z.ZodType>)
    .filter(([, f]) => (unwrap(f) as unknown as { def: { type: string } }).def.type !== 'never')
    .map(([k]) => k)
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)])
  for (let j = 1; j <= b.length; j++) d[0][j] = j
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      d[i][j] = Math.min(
        d[i - 1][j] + 1,
        d[i][j - 1] + 1,
        d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1)
      )
  return d[a.length][b.length]
}

/** `did you mean 'x'?`, or the list of accepted fields. */
export function suggestField(unknown: string, allowed: string[]): string | undefined {
  const visible = allowed.filter((k) => !IGNORED_METADATA_FIELDS.includes(k) && k !== 'status')
  let best: string | undefined
  let bestScore = Infinity
  for (const k of visible) {
    const score = k.toLowerCase() === unknown.toLowerCase() ? 0 : editDistance(unknown, k)
    if (score < bestScore) [best, bestScore] = [k, score]
  }
  if (best && bestScore <= Math.max(2, Math.floor(unknown.length / 4)))
    return `did you mean '${best}'?`
  return visible.length ? `accepted fields: ${visible.join(', ')}` : undefined
}

const DEPRECATED_HINTS: Record<string, (v: unknown) => string> = {
  allowTags: (v) => `replace it with allowTagsRegexes: [${JSON.stringify(String(v))}]`,
  ignoreTags: (v) =>
    `replace it with ignoreTagsRegexes: [${(Array.isArray(v) ? v : [v])
      .map((t) => JSON.stringify(`^${String(t).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`))
      .join(', ')}]`,
  semverConstraint: (v) => `replace it with constraint: ${JSON.stringify(String(v))}`
}

interface RawIssue {
  path: Path
  message: string
  hint?: string
  preferKey?: boolean
}

function convertIssue(issue: z.core.$ZodIssue, schema: z.ZodType): RawIssue[] {
  const input = (issue as { input?: unknown }).input
  const hint = (issue as { params?: { hint?: string } }).params?.hint
  const p = issue.path
  switch (issue.code) {
    case 'unrecognized_keys': {
      const parent = p[p.length - 1]
      const inSubscription =
        typeof parent === 'number' && p[p.length - 2] === 'subscriptions' && p[0] === 'spec'
      return issue.keys.map((key) =>
        inSubscription
          ? {
              path: [...p, key],
              preferKey: true,
              message: `unsupported subscription type '${key}'`,
              hint: 'Waybill subscribes to image, git and chart sources (plus an optional name)'
            }
          : {
              path: [...p, key],
              preferKey: true,
              message: `unknown field '${key}'`,
              hint: suggestField(key, keysAt(schema, p))
            }
      )
    }
    case 'invalid_type': {
      const field = String(p[p.length - 1] ?? '')
      if (issue.expected === 'never') {
        return [
          {
            path: p,
            message: issue.message,
            hint: DEPRECATED_HINTS[field]?.(input),
            preferKey: true
          }
        ]
      }
      if (input === undefined) return [{ path: p, message: 'is required', hint, preferKey: true }]
      if (!isDefaultMessage(issue.message)) return [{ path: p, message: issue.message, hint }]
      const want = TYPE_NAMES[issue.expected] ?? issue.expected
      const quoteHint =
        issue.expected === 'string' && input !== null && typeof input !== 'object'
          ? `quote the value: "${String(input)}"`
          : undefined
      return [
        { path: p, message: `must be ${want}, not ${describe(input)}`, hint: hint ?? quoteHint }
      ]
    }
    case 'invalid_value': {
      if (!isDefaultMessage(issue.message)) return [{ path: p, message: issue.message, hint }]
      const values = issue.values.map((v) => `'${String(v)}'`)
      const message =
        values.length === 1
          ? `must be ${values[0]} (got ${describe(input)})`
          : `must be one of ${values.filter((v) => v !== "''").join(', ')} (got ${describe(input)})`
      return [{ path: p, message, hint }]
    }
    case 'too_small': {
      if (!isDefaultMessage(issue.message)) return [{ path: p, message: issue.message, hint }]
      const min = Number(issue.minimum)
      const message =
        issue.origin === 'array'
          ? `must have at least ${min} item${min === 1 ? '' : 's'}`
          : issue.origin === 'string'
            ? min === 1
              ? 'must not be empty'
              : `must be at least ${min} characters`
            : `must be at least ${min} (got ${String(input)})`
      return [{ path: p, message, hint }]
    }
    case 'too_big': {
      if (!isDefaultMessage(issue.message)) return [{ path: p, message: issue.message, hint }]
      const max = Number(issue.maximum)
      const message =
        issue.origin === 'array'
          ? `must have at most ${max} items`
          : issue.origin === 'string'
            ? `must be at most ${max} characters`
            : `must be at most ${max} (got ${String(input)})`
      return [{ path: p, message, hint }]
    }
    case 'invalid_format':
      return [
        {
          path: p,
          message: isDefaultMessage(issue.message)
            ? `has an invalid format (${issue.format})`
            : issue.message,
          hint
        }
      ]
    default:
      return [{ path: p, message: issue.message, hint }]
  }
}

// ─── Notices for what Waybill accepts and ignores ──────────────────────────────────────────

interface IgnoredRule {
  kinds: ResourceKind[]
  /** Paths to check; `*` matches every item of a list. */
  path: string[]
  severity: Problem['severity']
  message: string
  hint?: string
}

const IGNORED_RULES: IgnoredRule[] = [
  {
    kinds: ['Warehouse', 'Stage'],
    path: ['spec', 'shard'],
    severity: 'notice',
    message: 'is ignored: Waybill has no sharded controllers'
  },
  {
    kinds: ['Stage'],
    path: ['spec', 'verification', 'analysisTemplates'],
    severity: 'notice',
    message:
      'AnalysisTemplate verification needs Argo Rollouts and is skipped by Waybill; use Waybill verification (docs/verification.md)'
  },
  {
    kinds: ['Stage'],
    path: ['spec', 'targets'],
    severity: 'warning',
    message: 'is not supported by Waybill and is ignored (Kargo Target fan-out)'
  },
  {
    kinds: ['ProjectConfig'],
    path: ['spec', 'webhookReceivers'],
    severity: 'notice',
    message:
      'are ignored: Waybill is triggered by GitHub events (schedule, repository_dispatch, push)'
  },
  {
    kinds: ['ProjectConfig'],
    path: ['spec', 'promotionWindows'],
    severity: 'warning',
    message: 'is a Kargo Enterprise feature and is ignored by Waybill'
  },
  {
    kinds: ['ProjectConfig'],
    path: ['spec', 'freightLinks'],
    severity: 'notice',
    message: 'are Kargo UI links and are ignored by Waybill'
  },
  {
    kinds: ['ProjectConfig'],
    path: ['spec', 'stageLinks'],
    severity: 'notice',
    message: 'are Kargo UI links and are ignored by Waybill'
  },
  {
    kinds: ['ProjectConfig', 'Project'],
    path: ['spec', 'promotionPolicies', '*', 'autoRollback'],
    severity: 'warning',
    message: 'is a Kargo Enterprise feature and is ignored by Waybill'
  },
  {
    kinds: ['ProjectConfig'],
    path: ['spec', 'promotionPolicies', '*', 'stage'],
    severity: 'notice',
    message: 'is deprecated in Kargo',
    hint: 'use stageSelector: {name: <stage>}'
  },
  {
    kinds: ['Project'],
    path: ['spec', 'promotionPolicies'],
    severity: 'notice',
    message: 'on Project is deprecated in Kargo',
    hint: 'move them to a ProjectConfig'
  }
]

function expandPaths(value: unknown, pattern: string[], prefix: Path = []): Path[] {
  if (pattern.length === 0) return value === undefined ? [] : [prefix]
  const [head, ...rest] = pattern
  if (head === '*') {
    if (!Array.isArray(value)) return []
    return value.flatMap((v, i) => expandPaths(v, rest, [...prefix, i]))
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return []
  return expandPaths((value as Record<string, unknown>)[head], rest, [...prefix, head])
}

// ─── Loading ───────────────────────────────────────────────────────────────────────────────

interface Entry {
  kind: ResourceKind
  name: string
  src: Source
}

export async function loadProject(
  repoDir: string,
  configDir: string
): Promise<{ model: ProjectModel; problems: Problem[] }> {
  const absConfig = path.resolve(repoDir, configDir)
  const relConfig = toPosix(path.relative(repoDir, absConfig)) || '.'
  const model: ProjectModel = {
    configDir: relConfig,
    warehouses: new Map(),
    stages: new Map(),
    promotionTasks: new Map(),
    clusterPromotionTasks: new Map(),
    locations: new Map()
  }
  const problems: Problem[] = []

  let files: string[]
  try {
    const st = await fs.stat(absConfig)
    if (!st.isDirectory()) throw new Error('not a directory')
    files = await listYamlFiles(absConfig)
  } catch {
    problems.push({
      severity: 'error',
      file: relConfig,
      message: `config folder '${relConfig}' not found`,
      hint: 'put your Kargo resources in .waybill/ or point --config (the config input) at their folder'
    })
    return { model, problems }
  }
  if (files.length === 0) {
    problems.push({
      severity: 'error',
      file: relConfig,
      message: `no *.yaml or *.yml files in '${relConfig}'`,
      hint: 'add Warehouse and Stage resources (apiVersion: kargo.akuity.io/v1alpha1)'
    })
    return { model, problems }
  }

  /** Every resource seen, valid or not, by `Kind/name` (first definition). */
  const seen = new Map<string, Entry>()
  /** Resources that failed validation: references to them are not reported as missing. */
  const invalid = new Set<string>()
  const ignoredAggregate = new Map<string, { problem: Problem; count: number }>()
  let resourceCount = 0

  for (const abs of files) {
    const file = toPosix(path.relative(repoDir, abs))
    const text = await fs.readFile(abs, 'utf8')
    const lc = new LineCounter()
    const docs = parseAllDocuments(text, {
      lineCounter: lc,
      uniqueKeys: false,
      merge: true,
      prettyErrors: true
    }) as Document.Parsed[]

    for (const doc of docs) {
      const src: Source = { file, doc, lc }
      if (doc.errors.length > 0) {
        // the first error; the ones after it are usually its consequences
        for (const err of doc.errors.slice(0, 1)) {
          const { line, col } = lc.linePos(err.pos[0])
          problems.push({
            severity: 'error',
            file,
            line: Math.max(line, 1),
            column: col,
            message: `YAML syntax error: ${err.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`,
            hint: 'check indentation and closing brackets or quotes near this line'
          })
        }
        continue
      }
      for (const w of doc.warnings) {
        const { line, col } = lc.linePos(w.pos[0])
        problems.push({
          severity: 'warning',
          file,
          line,
          column: col,
          message: `YAML: ${w.message.split('\n')[0]}`
        })
      }
      problems.push(...duplicateKeyWarnings(src))

      let value: unknown
      try {
        value = doc.toJS({ maxAliasCount: 1000 })
      } catch (err) {
        problems.push({
          severity: 'error',
          ...position(src, []),
          message: `YAML: ${(err as Error).message}`
        })
        continue
      }
      if (value === null || value === undefined) continue // empty document
      if (typeof value !== 'object' || Array.isArray(value)) {
        problems.push({
          severity: 'error',
          ...position(src, []),
          message: `expected a resource (a mapping with apiVersion, kind, metadata and spec), got ${describe(value)}`
        })
        continue
      }
      const obj = value as Record<string, unknown>
      const apiVersion = obj.apiVersion
      const kind = obj.kind
      const rawName = (obj.metadata as { name?: unknown } | undefined)?.name
      const name = typeof rawName === 'string' ? rawName : undefined
      if (typeof apiVersion !== 'string' || typeof kind !== 'string') {
        const missing = typeof apiVersion !== 'string' ? 'apiVersion' : 'kind'
        problems.push({
          severity: 'error',
          ...position(src, [missing], true),
          field: missing,
          kind: typeof kind === 'string' ? kind : undefined,
          name,
          message: obj[missing] === undefined ? 'is required' : 'must be a string',
          hint: `every document needs apiVersion: ${API_VERSION} and a kind (${RESOURCE_KINDS.join(', ')})`
        })
        continue
      }
      const group = apiVersion.split('/')[0]
      if (group !== 'kargo.akuity.io') {
        problems.push({
          severity: 'notice',
          ...position(src, ['kind']),
          kind,
          name,
          message: `skipped: ${apiVersion} ${kind} is not a Kargo resource`
        })
        continue
      }
      if (!RESOURCE_KINDS.includes(kind as ResourceKind)) {
        if (KARGO_RUNTIME_KINDS.includes(kind)) {
          problems.push({
            severity: 'notice',
            ...position(src, ['kind']),
            kind,
            name,
            message: `skipped: ${kind} resources are created by Waybill, not configured`
          })
        } else {
          problems.push({
            severity: 'error',
            ...position(src, ['kind']),
            field: 'kind',
            kind,
            name,
            message: `unknown Kargo kind '${kind}'`,
            hint: suggestField(kind, RESOURCE_KINDS)
          })
        }
        continue
      }
      const rkind = kind as ResourceKind
      if (apiVersion !== API_VERSION) {
        problems.push({
          severity: 'error',
          ...position(src, ['apiVersion']),
          field: 'apiVersion',
          kind,
          name,
          message: `unsupported apiVersion '${apiVersion}'`,
          hint: `use ${API_VERSION}`
        })
        continue
      }
      resourceCount++
      const schema = RESOURCE_SCHEMAS[rkind] as unknown as z.ZodType
      const res = schema.safeParse(obj, { reportInput: true })
      const key = `${rkind}/${name ?? ''}`
      if (name !== undefined) {
        const first = seen.get(key)
        if (first) {
          const firstLoc = position(first.src, ['metadata', 'name'])
          const loc = position(src, ['metadata', 'name'])
          problems.push({
            severity: 'error',
            ...loc,
            kind,
            name,
            field: 'metadata.name',
            message: `duplicate ${kind} '${name}': defined in ${firstLoc.file}:${firstLoc.line} and ${loc.file}:${loc.line}`,
            hint: `rename one of them; Waybill uses the one in ${firstLoc.file}`
          })
          continue
        }
        seen.set(key, { kind: rkind, name, src })
      }
      if (!res.success) {
        if (name !== undefined) invalid.add(key)
        for (const issue of res.error.issues) {
          for (const raw of convertIssue(issue, schema)) {
            problems.push({
              severity: 'error',
              ...position(src, raw.path, raw.preferKey),
              kind,
              name,
              field: fieldPath(raw.path) || undefined,
              message: raw.message,
              hint: raw.hint
            })
          }
        }
        continue
      }
      const resource = res.data as { metadata: { name: string } }
      model.locations.set(key, position(src, []))
      switch (rkind) {
        case 'Warehouse':
          model.warehouses.set(resource.metadata.name, resource as Warehouse)
          break
        case 'Stage':
          model.stages.set(resource.metadata.name, resource as Stage)
          break
        case 'PromotionTask':
          model.promotionTasks.set(resource.metadata.name, resource as PromotionTask)
          break
        case 'ClusterPromotionTask':
          model.clusterPromotionTasks.set(resource.metadata.name, resource as ClusterPromotionTask)
          break
        case 'ProjectConfig':
        case 'Project': {
          const existing = rkind === 'Project' ? model.project : model.projectConfig
          if (existing) {
            problems.push({
              severity: 'error',
              ...position(src, ['metadata', 'name']),
              kind,
              name,
              field: 'metadata.name',
              message: `only one ${kind} is allowed; '${existing.metadata.name}' is already defined`
            })
          } else if (rkind === 'Project') model.project = resource as ProjectResource
          else model.projectConfig = resource as ProjectConfig
          break
        }
      }

      // Fields Waybill accepts and ignores.
      for (const f of IGNORED_METADATA_FIELDS) {
        if ((obj.metadata as Record<string, unknown>)[f] !== undefined)
          aggregate(ignoredAggregate, src, ['metadata', f], kind, resource.metadata.name)
      }
      if (obj.status !== undefined)
        aggregate(ignoredAggregate, src, ['status'], kind, resource.metadata.name)
      for (const rule of IGNORED_RULES) {
        if (!rule.kinds.includes(rkind)) continue
        for (const p of expandPaths(obj, rule.path)) {
          problems.push({
            severity: rule.severity,
            ...position(src, p, true),
            kind,
            name: resource.metadata.name,
            field: fieldPath(p),
            message: rule.message,
            hint: rule.hint
          })
        }
      }
      if (rkind === 'Warehouse') {
        ;(resource as Warehouse).spec.subscriptions.forEach((s, i) => {
          if (s.git && !/^(https?|file):\/\//.test(s.git.repoURL)) {
            problems.push({
              severity: 'warning',
              ...position(src, ['spec', 'subscriptions', i, 'git', 'repoURL']),
              kind,
              name: resource.metadata.name,
              field: `spec.subscriptions[${i}].git.repoURL`,
              message: 'SSH URLs are deprecated since Kargo v1.10 (removal in v1.13)',
              hint: 'use an https:// URL; Waybill authenticates Git over HTTPS with the GitHub token'
            })
          }
        })
      }
    }
  }

  for (const { problem, count } of ignoredAggregate.values()) {
    if (count > 1) {
      problem.message += ` (${count} resources in this file)`
      delete problem.kind
      delete problem.name
    }
    problems.push(problem)
  }

  if (resourceCount === 0 && !problems.some((p) => p.severity === 'error')) {
    problems.push({
      severity: 'error',
      file: relConfig,
      message: `no Kargo resources (apiVersion: ${API_VERSION}) found in '${relConfig}'`,
      hint: `add Warehouse and Stage resources (kinds: ${RESOURCE_KINDS.join(', ')})`
    })
  }

  const locate: Locate = (kind, name, p, preferKey) => {
    const entry = seen.get(`${kind}/${name}`)
    return entry ? position(entry.src, p, preferKey) : { file: relConfig }
  }
  problems.push(
    ...graphProblems(
      model,
      locate,
      (kind, name) => seen.has(`${kind}/${name}`) && invalid.has(`${kind}/${name}`)
    )
  )
  return { model, problems: sortProblems(problems) }
}

function aggregate(
  into: Map<string, { problem: Problem; count: number }>,
  src: Source,
  p: Path,
  kind: string,
  name: string
): void {
  const field = fieldPath(p)
  const key = `${src.file}|${field}`
  const existing = into.get(key)
  if (existing) {
    existing.count++
    return
  }
  into.set(key, {
    count: 1,
    problem: {
      severity: 'notice',
      ...position(src, p, true),
      kind,
      name,
      field,
      message: 'is Kubernetes-only and ignored by Waybill'
    }
  })
}

/** Kubernetes decoders reject or warn on duplicate keys; YAML keeps the last one. */
function duplicateKeyWarnings(src: Source): Problem[] {
  const out: Problem[] = []
  visit(src.doc, {
    Map(_, map) {
      const firstAt = new Map<string, number>()
      for (const pair of map.items) {
        const k = keyString(pair.key)
        const offset = (pair.key as Node | null)?.range?.[0]
        if (k === undefined || offset === undefined) continue
        const prev = firstAt.get(k)
        if (prev !== undefined) {
          const { line, col } = src.lc.linePos(offset)
          out.push({
            severity: 'warning',
            file: src.file,
            line,
            column: col,
            message: `duplicate key '${k}' (also at line ${src.lc.linePos(prev).line}); the last one is used`,
            hint: 'remove one of them'
          })
        } else firstAt.set(k, offset)
      }
    }
  })
  return out
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
    throw new WaybillError(
      `${errors.length} configuration error${errors.length === 1 ? '' : 's'} in ${model.configDir}:\n` +
        errors.map((p) => '  ' + formatProblem(p)).join('\n'),
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
