/**
 * Zod schemas for Kargo's resources (kargo.akuity.io/v1alpha1), field for field with Kargo's CRDs
 * and subscription schemas. Kargo's defaults are applied on parse. Objects are strict: unknown
 * fields are errors. Fields that only make sense in Kubernetes (metadata.namespace, status,
 * spec.shard…) are accepted here; the loader reports them as ignored (see IGNORED_FIELDS).
 */
import { displayText } from '../util/text.js'
import { z } from 'zod'
import { regexError } from '../util/regex.js'
import { urlCredentialsProblem, withoutUrlCredentials } from '../freight/urls.js'
import { unknownStepMessage } from '../steps/names.js'
import {
  DEPRECATED_GIT_FIELDS,
  DEPRECATED_IMAGE_FIELDS,
  applyDeprecated,
  checkDeprecatedConflicts,
  deprecatedShape
} from './deprecated-fields.js'
import { WindowSpecError, compileWindow } from './windows.js'
import { MessageChannelSpecSchema } from '../steps/messaging/channel.js'

export const API_VERSION = 'kargo.akuity.io/v1alpha1'
/** Kargo Enterprise's API group: MessageChannel and ClusterMessageChannel live there. */
export const ENTERPRISE_API_VERSION = 'ee.kargo.akuity.io/v1alpha1'

/** Kargo's duration pattern (Warehouse interval, requiredSoakTime). */
export const DURATION_PATTERN = /^([0-9]+(\.[0-9]+)?(s|m|h))+$/
/** A Go duration (metav1.Duration: retry.timeout). */
export const GO_DURATION_PATTERN = /^(0|([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+)$/
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
const VAR_NAME = /^[a-zA-Z_]\w*$/
const IMAGE_REPO = /^(\w+([.-]\w+)*(:[\d]+)?\/)?(\w+([.-]\w+)*)(\/\w+([.-]\w+)*)*$/
// Kargo's pattern, plus file:///path (a Waybill extension for local pipelines and tests).
const GIT_REPO =
  /(?:^(ssh|https?):\/\/(?:([\w-]+)(:(.+))?@)?([\w-]+(?:\.[\w-]+)*)(?::(\d{1,5}))?(\/.*)$)|(?:^([\w-]+)@([\w+]+(?:\.[\w-]+)*):(\/?.*))$|^file:\/\/\/.+$/
const CHART_REPO = /^(((https?)|(oci)):\/\/)(([\w\d.-]+)(:([\d]+)?)?(\/.*)*)$/
const GIT_BRANCH = /^[a-zA-Z0-9]([a-zA-Z0-9._/-]*[a-zA-Z0-9_-])?$/

const IGNORED = 'Kubernetes-only: accepted and ignored by Waybill'

const duration = (what: string) =>
  z
    .string({
      error: (iss) =>
        iss.input === undefined
          ? 'is required'
          : `must be a duration like 90s, 5m or 1h30m, not ${typeof iss.input} ${displayText(iss.input)}`
    })
    .regex(DURATION_PATTERN, {
      error: (iss) =>
        `must be a duration like 90s, 5m or 1h30m (got '${String(iss.input)}'; units s, m, h)`
    })
    .meta({ description: `${what}: a duration such as 90s, 5m0s or 1h30m` })

const goDuration = z
  .string()
  .regex(GO_DURATION_PATTERN, {
    error: (iss) => `must be a duration like 30s, 5m or 1h (got '${String(iss.input)}')`
  })
  .meta({ description: 'A duration such as 30s, 5m or 1h' })

const resourceName = z
  .string()
  .min(1)
  .max(253)
  .regex(DNS_SUBDOMAIN, {
    error: (iss) =>
      `must be a lowercase DNS name (a-z, 0-9, '-' and '.'), got '${String(iss.input)}'`
  })

const labelName = z
  .string()
  .min(1)
  .max(63)
  .regex(DNS_LABEL, {
    error: (iss) => `must be a lowercase DNS label (a-z, 0-9 and '-'), got '${String(iss.input)}'`
  })

const stringMap = z.record(z.string(), z.string())

const ignoredField = (description = IGNORED) => z.unknown().optional().meta({ description })

// ─── Shared pieces ─────────────────────────────────────────────────────────────────────────

export const MetadataSchema = z.strictObject({
  name: resourceName,
  labels: stringMap.optional(),
  annotations: stringMap.optional(),
  namespace: ignoredField(),
  uid: ignoredField(),
  resourceVersion: ignoredField(),
  generation: ignoredField(),
  creationTimestamp: ignoredField(),
  deletionTimestamp: ignoredField(),
  deletionGracePeriodSeconds: ignoredField(),
  managedFields: ignoredField(),
  ownerReferences: ignoredField(),
  finalizers: ignoredField(),
  generateName: ignoredField(),
  selfLink: ignoredField()
})

/** metadata fields that Waybill accepts and ignores (the loader reports them with a notice). */
export const IGNORED_METADATA_FIELDS = Object.keys(MetadataSchema.shape).filter(
  (k) => !['name', 'labels', 'annotations'].includes(k)
)

export const VarSchema = z.strictObject({
  name: z
    .string()
    .min(1)
    .regex(VAR_NAME, {
      error: (iss) =>
        `must be a variable name (letters, digits, '_', not starting with a digit), got '${String(iss.input)}'`
    }),
  value: z.string().optional()
})

const LabelSelectorRequirementSchema = z.strictObject({
  key: z.string(),
  operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']),
  values: z.array(z.string()).optional()
})

export const LabelSelectorSchema = z.strictObject({
  matchLabels: stringMap.optional(),
  matchExpressions: z.array(LabelSelectorRequirementSchema).optional()
})

// ─── Warehouse ─────────────────────────────────────────────────────────────────────────────

const regexList = z
  .array(z.string())
  .superRefine((list, ctx) => {
    list.forEach((re, i) => {
      const error = regexError(re)
      if (error)
        ctx.addIssue({
          code: 'custom',
          path: [i],
          message: `invalid regular expression '${re}': ${error} (Go/RE2 syntax, as Kargo)`
        })
    })
  })
  .optional()

/** includePaths/excludePaths: a `regex:`/`regexp:` selector must be a valid RE2 pattern. */
const pathSelectorList = z
  .array(z.string())
  .superRefine((list, ctx) => {
    list.forEach((selector, i) => {
      const m = /^regexp?:/.exec(selector)
      const error = m ? regexError(selector.slice(m[0].length)) : undefined
      if (error)
        ctx.addIssue({
          code: 'custom',
          path: [i],
          message: `invalid regular expression in '${selector}': ${error} (Go/RE2 syntax, as Kargo)`
        })
    })
  })
  .optional()

const discoveryLimit = z.number().int().min(1).max(100).default(20)

export const ImageSubscriptionSchema = z
  .strictObject({
    repoURL: z
      .string()
      .min(1)
      .regex(IMAGE_REPO, {
        error: (iss) =>
          `must be an image repository without tag or digest, e.g. ghcr.io/org/app (got '${withoutUrlCredentials(String(iss.input))}')`
      })
      .refine((u) => !urlCredentialsProblem(u), {
        error: (iss) => urlCredentialsProblem(String(iss.input))
      }),
    imageSelectionStrategy: z
      .enum(['Digest', 'Lexical', 'NewestBuild', 'SemVer'])
      .default('SemVer'),
    strictSemvers: z.boolean().default(true),
    constraint: z.string().optional(),
    allowTagsRegexes: regexList,
    ignoreTagsRegexes: regexList,
    platform: z
      .string()
      .regex(/^\w+\/\w+(\/\w+)?$/, { error: 'must be <os>/<arch>[/<variant>], e.g. linux/amd64' })
      .optional(),
    insecureSkipTLSVerify: z.boolean().optional(),
    discoveryLimit,
    cacheByTag: z.boolean().default(false),
    ...deprecatedShape(DEPRECATED_IMAGE_FIELDS)
  })
  .superRefine(checkDeprecatedConflicts(DEPRECATED_IMAGE_FIELDS))
  .transform(applyDeprecated(DEPRECATED_IMAGE_FIELDS))
  .superRefine((s, ctx) => {
    if (s.imageSelectionStrategy === 'Digest' && !s.constraint) {
      ctx.addIssue({
        code: 'custom',
        path: ['constraint'],
        message: 'is required with imageSelectionStrategy Digest (the mutable tag to follow)',
        params: { hint: 'e.g. constraint: latest' }
      })
    }
  })

export const GitSubscriptionSchema = z
  .strictObject({
    repoURL: z
      .string()
      .min(1)
      .regex(GIT_REPO, {
        error: (iss) =>
          `must be a Git URL such as https://github.com/org/repo.git (got '${withoutUrlCredentials(String(iss.input))}')`
      })
      .refine((u) => !urlCredentialsProblem(u), {
        error: (iss) => urlCredentialsProblem(String(iss.input))
      }),
    commitSelectionStrategy: z
      .enum(['NewestFromBranch', 'SemVer', 'Lexical', 'NewestTag'])
      .default('NewestFromBranch'),
    branch: z
      .string()
      .min(1)
      .max(255)
      .regex(GIT_BRANCH, { error: (iss) => `is not a valid branch name: '${String(iss.input)}'` })
      .optional(),
    strictSemvers: z.boolean().default(true),
    semverConstraint: z.string().optional(),
    allowTagsRegexes: regexList,
    ignoreTagsRegexes: regexList,
    expressionFilter: z.string().optional(),
    insecureSkipTLSVerify: z.boolean().optional(),
    blobless: z.boolean().optional(),
    includePaths: pathSelectorList,
    excludePaths: pathSelectorList,
    discoveryLimit,
    since: z.iso
      .datetime({ offset: true, error: 'must be an RFC 3339 date-time, e.g. 2025-01-31T00:00:00Z' })
      .optional(),
    ...deprecatedShape(DEPRECATED_GIT_FIELDS)
  })
  .superRefine(checkDeprecatedConflicts(DEPRECATED_GIT_FIELDS))
  .transform(applyDeprecated(DEPRECATED_GIT_FIELDS))

export const ChartSubscriptionSchema = z
  .strictObject({
    repoURL: z
      .string()
      .min(1)
      .regex(CHART_REPO, {
        error: (iss) =>
          `must be an http(s):// chart repository or an oci:// chart (got '${withoutUrlCredentials(String(iss.input))}')`
      })
      .refine((u) => !urlCredentialsProblem(u), {
        error: (iss) => urlCredentialsProblem(String(iss.input))
      }),
    name: z.string().optional(),
    semverConstraint: z.string().optional(),
    discoveryLimit,
    insecureSkipTLSVerify: z.boolean().optional()
  })
  .superRefine((s, ctx) => {
    const oci = s.repoURL.startsWith('oci://')
    if (oci && s.name) {
      ctx.addIssue({
        code: 'custom',
        path: ['name'],
        message: 'must be empty for an oci:// repository (the URL names the chart)',
        params: {
          hint: s.repoURL.replace(/\/$/, '').endsWith(`/${s.name}`)
            ? 'remove name: the URL already names the chart'
            : `use repoURL: ${s.repoURL.replace(/\/$/, '')}/${s.name}`
        }
      })
    }
    if (!oci && !s.name) {
      ctx.addIssue({
        code: 'custom',
        path: ['name'],
        message: 'is required for an http(s) chart repository'
      })
    }
  })

const SUBSCRIPTION_TYPES = ['image', 'git', 'chart'] as const

export const SubscriptionSchema = z
  .strictObject({
    name: labelName.optional(),
    image: ImageSubscriptionSchema.optional(),
    git: GitSubscriptionSchema.optional(),
    chart: ChartSubscriptionSchema.optional()
  })
  .superRefine((s, ctx) => {
    const types = SUBSCRIPTION_TYPES.filter((t) => s[t] !== undefined)
    if (types.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message:
          types.length === 0
            ? 'must set one of image, git or chart'
            : `must set exactly one of image, git or chart (found ${types.join(', ')})`,
        params: { hint: 'use one list item per subscription' }
      })
    }
  })
  .meta({ oneOf: SUBSCRIPTION_TYPES.map((t) => ({ required: [t] })) })

export const WarehouseSpecSchema = z.strictObject({
  interval: duration('interval').default('5m0s'),
  freightCreationPolicy: z.enum(['Automatic', 'Manual']).default('Automatic'),
  freightCreationCriteria: z.strictObject({ expression: z.string().optional() }).optional(),
  shard: ignoredField('Accepted and ignored by Waybill (no sharded controllers)'),
  subscriptions: z
    .array(SubscriptionSchema)
    .min(1, { error: 'must list at least one subscription' })
})

// ─── Promotion steps ───────────────────────────────────────────────────────────────────────

const TaskRefSchema = z.strictObject({
  name: resourceName,
  kind: z.enum(['PromotionTask', 'ClusterPromotionTask']).default('PromotionTask')
})

const stepFields = {
  uses: z.string().min(1).optional(),
  task: TaskRefSchema.optional(),
  as: z.string().optional(),
  if: z.string().optional(),
  continueOnError: z.boolean().optional(),
  retry: z
    .strictObject({
      errorThreshold: z.number().int().min(0).optional(),
      timeout: goDuration.optional()
    })
    .optional(),
  vars: z.array(VarSchema).optional(),
  config: z.record(z.string(), z.unknown()).optional()
}

function checkUses(uses: string | undefined, ctx: z.RefinementCtx): void {
  if (uses === undefined) return
  const problem = unknownStepMessage(uses)
  if (problem) ctx.addIssue({ code: 'custom', path: ['uses'], message: problem })
}

/** A step of a Stage's promotionTemplate: exactly one of uses|task. */
export const PromotionStepSchema = z.strictObject(stepFields).superRefine((s, ctx) => {
  if ((s.uses === undefined) === (s.task === undefined)) {
    ctx.addIssue({
      code: 'custom',
      path: [],
      message: "a step must set exactly one of 'uses' or 'task'"
    })
  }
  if (s.task !== undefined) {
    for (const f of ['continueOnError', 'retry'] as const) {
      if (s[f] !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [f],
          message: `a step that references a task cannot set ${f}`,
          params: { hint: `set ${f} on the steps inside the task` }
        })
      }
    }
  }
  checkUses(s.uses, ctx)
})

/** A step inside a (Cluster)PromotionTask: must use a step, tasks do not nest. */
export const TaskStepSchema = z.strictObject(stepFields).superRefine((s, ctx) => {
  if (s.task !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['task'],
      message: 'a PromotionTask step cannot reference another task',
      params: { hint: 'tasks do not nest: copy the steps in' }
    })
  } else if (s.uses === undefined) {
    ctx.addIssue({ code: 'custom', path: [], message: "a PromotionTask step must set 'uses'" })
  }
  checkUses(s.uses, ctx)
})

// ─── Stage ─────────────────────────────────────────────────────────────────────────────────

const FreightSourcesSchema = z
  .strictObject({
    direct: z.boolean().optional(),
    stages: z.array(resourceName).optional(),
    requiredSoakTime: duration('requiredSoakTime').optional(),
    availabilityStrategy: z
      .enum(['All', 'OneOf', ''])
      .default('OneOf')
      .transform((v): 'All' | 'OneOf' => (v === '' ? 'OneOf' : v)),
    autoPromotionOptions: z
      .strictObject({
        selectionPolicy: z.enum(['NewestFreight', 'MatchUpstream']).default('NewestFreight')
      })
      .optional()
  })
  .superRefine((s, ctx) => {
    const upstream = s.stages ?? []
    if (!s.direct && upstream.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: 'must set direct or stages',
        params: {
          hint: 'direct: true takes freight straight from the warehouse; stages: [name] after it is verified upstream'
        }
      })
    }
    if (s.autoPromotionOptions?.selectionPolicy === 'MatchUpstream' && upstream.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['autoPromotionOptions', 'selectionPolicy'],
        message: `MatchUpstream needs exactly one upstream stage (found ${upstream.length})`
      })
    }
  })

export const RequestedFreightSchema = z.strictObject({
  origin: z.strictObject({
    kind: z.literal('Warehouse', { error: "must be 'Warehouse'" }),
    name: resourceName
  }),
  sources: FreightSourcesSchema
})

export const VerificationSchema = z.strictObject({
  analysisTemplates: z
    .array(
      z.strictObject({
        name: z.string().min(1),
        kind: z.enum(['AnalysisTemplate', 'ClusterAnalysisTemplate']).default('AnalysisTemplate')
      })
    )
    .optional(),
  analysisRunMetadata: z
    .strictObject({ labels: stringMap.optional(), annotations: stringMap.optional() })
    .optional(),
  args: z.array(z.strictObject({ name: z.string().min(1), value: z.string() })).optional(),
  /** Waybill extension: verification that has not passed after this long fails (default 30m). */
  timeout: duration('verification.timeout').optional(),
  /** Waybill extension: verification checks run by Waybill itself (typed by the pipeline). */
  checks: z
    .array(z.record(z.string(), z.unknown()))
    .optional()
    .meta({ description: 'Waybill verification checks (docs/verification.md)' })
})

export const StageSpecSchema = z.strictObject({
  shard: ignoredField('Accepted and ignored by Waybill (no sharded controllers)'),
  vars: z.array(VarSchema).optional(),
  requestedFreight: z
    .array(RequestedFreightSchema)
    .min(1, { error: 'must request freight from at least one warehouse' }),
  promotionTemplate: z
    .strictObject({
      spec: z.strictObject({
        vars: z.array(VarSchema).optional(),
        steps: z.array(PromotionStepSchema).min(1).optional()
      })
    })
    .optional(),
  verification: VerificationSchema.optional(),
  targets: z
    .strictObject({ selectors: z.array(LabelSelectorSchema) })
    .optional()
    .meta({ description: 'Kargo Target fan-out: accepted but not supported by Waybill' })
})

// ─── Promotion tasks ───────────────────────────────────────────────────────────────────────

export const PromotionTaskSpecSchema = z.strictObject({
  vars: z.array(VarSchema).optional(),
  steps: z.array(TaskStepSchema).min(1, { error: 'must list at least one step' })
})

// ─── ProjectConfig / Project ───────────────────────────────────────────────────────────────

function checkNamePattern(name: string | undefined, ctx: z.RefinementCtx): void {
  if (!name) return
  const m = /^(regex|regexp):(.*)$/.exec(name)
  if (!m) return
  const error = regexError(m[2])
  if (error)
    ctx.addIssue({
      code: 'custom',
      path: ['name'],
      message: `invalid regular expression: ${error} (Go/RE2 syntax, as Kargo)`
    })
}

export const StageSelectorSchema = z
  .strictObject({
    name: z
      .string()
      .optional()
      .meta({ description: 'Exact stage name, or glob:<pattern>, regex:<re>, regexp:<re>' }),
    matchLabels: stringMap.optional(),
    matchExpressions: z.array(LabelSelectorRequirementSchema).optional()
  })
  .superRefine((s, ctx) => checkNamePattern(s.name, ctx))

export const PromotionPolicySchema = z
  .strictObject({
    stage: resourceName.optional().meta({ deprecated: true, description: 'Use stageSelector' }),
    stageSelector: StageSelectorSchema.optional(),
    autoPromotionEnabled: z.boolean().default(false),
    autoRollback: z
      .strictObject({
        onPromotion: z
          .array(z.enum(['Failed', 'Errored']))
          .max(2)
          .optional(),
        onVerification: z
          .array(z.enum(['Failed', 'Error']))
          .max(2)
          .optional()
      })
      .optional()
      .meta({
        description:
          'Promote the last verified freight again when a promotion or verification fails'
      })
  })
  .superRefine((p, ctx) => {
    if ((p.stage === undefined) === (p.stageSelector === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: 'must set exactly one of stage or stageSelector',
        params: { hint: 'stageSelector: {name: <stage>}' }
      })
    }
  })

/**
 * A promotion window (Kargo's PromotionWindow): compiled here so that a bad iCal time or RRULE
 * is an error on its field; the pipeline evaluates the schedule.
 */
export const PromotionWindowSchema = z
  .strictObject({
    name: resourceName,
    kind: z.enum(['Allow', 'Deny']),
    rrule: z
      .string()
      .optional()
      .meta({ description: 'RFC 5545 recurrence rule, e.g. FREQ=WEEKLY;BYDAY=SA,SU' }),
    dtstart: z.string().optional().meta({
      description: 'iCal date-time, e.g. 20260101T090000Z or TZID=Europe/Paris:20260101T090000'
    }),
    dtend: z.string().optional().meta({
      description: "iCal date-time; with rrule, dtend - dtstart is each occurrence's length"
    }),
    stageSelector: StageSelectorSchema.optional(),
    projectSelector: z
      .never({
        error:
          'is only allowed on ClusterConfig windows: a ProjectConfig window applies to its own project'
      })
      .optional()
  })
  .superRefine((w, ctx) => {
    try {
      compileWindow(w)
    } catch (err) {
      if (!(err instanceof WindowSpecError)) throw err
      ctx.addIssue({
        code: 'custom',
        path: [err.field.slice(err.field.lastIndexOf('.') + 1)],
        message: err.message
      })
    }
  })

function uniqueWindowNames(windows: Array<{ name: string }>, ctx: z.RefinementCtx): void {
  const first = new Map<string, number>()
  windows.forEach((w, i) => {
    const at = first.get(w.name)
    if (at === undefined) first.set(w.name, i)
    else
      ctx.addIssue({
        code: 'custom',
        path: [i, 'name'],
        message: `duplicate window name '${w.name}' (also spec.promotionWindows[${at}])`
      })
  })
}

const linkSchema = z.strictObject({
  title: z.string().min(1),
  url: z.string().min(1),
  description: z.string().optional(),
  if: z.string().optional()
})

export const ProjectConfigSpecSchema = z.strictObject({
  promotionPolicies: z.array(PromotionPolicySchema).optional(),
  webhookReceivers: z
    .array(z.record(z.string(), z.unknown()))
    .optional()
    .meta({ description: 'Accepted and ignored: Waybill is triggered by GitHub events' }),
  promotionWindows: z.array(PromotionWindowSchema).superRefine(uniqueWindowNames).optional(),
  freightLinks: z
    .array(linkSchema)
    .optional()
    .meta({ description: 'UI links: ignored by Waybill' }),
  stageLinks: z.array(linkSchema).optional().meta({ description: 'UI links: ignored by Waybill' })
})

export const ProjectSpecSchema = z.strictObject({
  promotionPolicies: z.array(PromotionPolicySchema).optional()
})

// ─── Resources ─────────────────────────────────────────────────────────────────────────────

function resource<K extends string, S extends z.ZodType>(
  kind: K,
  spec: S,
  description: string,
  apiVersion: string = API_VERSION
) {
  return z
    .strictObject({
      apiVersion: z.literal(apiVersion),
      kind: z.literal(kind),
      metadata: MetadataSchema,
      spec,
      status: ignoredField()
    })
    .meta({ title: kind, description })
}

export const WarehouseSchema = resource(
  'Warehouse',
  WarehouseSpecSchema,
  'Subscribes to image, Git and chart sources and produces Freight'
)
export const StageSchema = resource(
  'Stage',
  StageSpecSchema,
  'A promotion target: which freight it takes and how it is promoted'
)
export const PromotionTaskSchema = resource(
  'PromotionTask',
  PromotionTaskSpecSchema,
  'A reusable list of promotion steps'
)
export const ClusterPromotionTaskSchema = resource(
  'ClusterPromotionTask',
  PromotionTaskSpecSchema,
  'A reusable list of promotion steps (cluster-scoped in Kargo)'
)
export const ProjectConfigSchema = resource(
  'ProjectConfig',
  ProjectConfigSpecSchema.optional(),
  'Project-wide settings: promotion policies'
)
export const ProjectSchema = resource(
  'Project',
  ProjectSpecSchema.optional(),
  'The project (legacy spec.promotionPolicies; prefer ProjectConfig)'
)

export const MessageChannelSchema = resource(
  'MessageChannel',
  MessageChannelSpecSchema,
  'Where send-message delivers: Slack or SMTP, with credentials from the secrets input',
  ENTERPRISE_API_VERSION
)
export const ClusterMessageChannelSchema = resource(
  'ClusterMessageChannel',
  MessageChannelSpecSchema,
  'A MessageChannel shared by projects (cluster-scoped in Kargo)',
  ENTERPRISE_API_VERSION
)

/** The schema of each kind Waybill loads. */
export const RESOURCE_SCHEMAS = {
  Warehouse: WarehouseSchema,
  Stage: StageSchema,
  PromotionTask: PromotionTaskSchema,
  ClusterPromotionTask: ClusterPromotionTaskSchema,
  ProjectConfig: ProjectConfigSchema,
  Project: ProjectSchema,
  MessageChannel: MessageChannelSchema,
  ClusterMessageChannel: ClusterMessageChannelSchema
} as const

export type ResourceKind = keyof typeof RESOURCE_SCHEMAS
export const RESOURCE_KINDS = Object.keys(RESOURCE_SCHEMAS) as ResourceKind[]

/** The apiVersion a kind is written with. */
export function apiVersionOf(kind: ResourceKind): string {
  return kind === 'MessageChannel' || kind === 'ClusterMessageChannel'
    ? ENTERPRISE_API_VERSION
    : API_VERSION
}

export type Warehouse = z.output<typeof WarehouseSchema>
export type Stage = z.output<typeof StageSchema>
export type PromotionTask = z.output<typeof PromotionTaskSchema>
export type ClusterPromotionTask = z.output<typeof ClusterPromotionTaskSchema>
export type ProjectConfig = z.output<typeof ProjectConfigSchema>
export type ProjectResource = z.output<typeof ProjectSchema>
export type MessageChannel = z.output<typeof MessageChannelSchema>
export type ImageSubscription = z.output<typeof ImageSubscriptionSchema>
export type GitSubscription = z.output<typeof GitSubscriptionSchema>
export type ChartSubscription = z.output<typeof ChartSubscriptionSchema>
export type Subscription = z.output<typeof SubscriptionSchema>
export type PromotionStep = z.output<typeof PromotionStepSchema>
export type RequestedFreight = z.output<typeof RequestedFreightSchema>
export type PromotionPolicy = z.output<typeof PromotionPolicySchema>
export type StageSelector = z.output<typeof StageSelectorSchema>
export type PromotionWindow = z.output<typeof PromotionWindowSchema>
export type Var = z.output<typeof VarSchema>
export type Resource =
  | Warehouse
  | Stage
  | PromotionTask
  | ClusterPromotionTask
  | ProjectConfig
  | ProjectResource
  | MessageChannel
