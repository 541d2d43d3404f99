/**
 * Step fields of Kargo 1.0 that read another step's output or the freight directly. Kargo 1.1
 * replaced them with plain fields set by expressions and removed them in v1.3 (messageFromSteps
 * in v1.5). A config that still uses one gets the field that replaces it, written out.
 */

interface RemovedStepField {
  step: string
  /** Path of the field inside the step's config; `*` stands for any list item. */
  path: string[]
  removedIn: string
  /** The field that replaces it. */
  replacement: string
  /** The replacement written out, from the removed field's value and the mapping holding it. */
  rewrite(value: unknown, holder: Record<string, unknown>, config: Record<string, unknown>): string
}

const quote = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`

/** A config value as an expression argument: a whole `${{ x }}` is `x`, text is quoted. */
function exprArg(value: unknown, placeholder: string): string {
  if (typeof value !== 'string' || value === '') return quote(placeholder)
  const whole = /^\$\{\{([\s\S]*)\}\}$/.exec(value.trim())
  if (whole && !whole[1].includes('}}')) return whole[1].trim()
  return quote(value)
}

const alias = (v: unknown) => quote(typeof v === 'string' && v ? v : '<step alias>')
const output = (v: unknown, key: string) => `outputs[${alias(v)}].${key}`

/** `warehouse('name')` from a Kargo 1.0 fromOrigin: {kind: Warehouse, name}. */
function origin(v: unknown): string {
  const name = (v as { name?: unknown } | null)?.name
  return `warehouse(${quote(typeof name === 'string' && name ? name : '<warehouse>')})`
}

const ARGOCD_ORIGIN_PATHS = [
  ['fromOrigin'],
  ['apps', '*', 'fromOrigin'],
  ['apps', '*', 'sources', '*', 'fromOrigin'],
  ['apps', '*', 'sources', '*', 'kustomize', 'fromOrigin'],
  ['apps', '*', 'sources', '*', 'kustomize', 'images', '*', 'fromOrigin'],
  ['apps', '*', 'sources', '*', 'helm', 'fromOrigin'],
  ['apps', '*', 'sources', '*', 'helm', 'images', '*', 'fromOrigin']
]

const REMOVED_STEP_FIELDS: RemovedStepField[] = [
  {
    step: 'git-commit',
    path: ['messageFromSteps'],
    removedIn: 'v1.5',
    replacement: 'message',
    rewrite: (v) =>
      `message: \${{ ${(Array.isArray(v) && v.length ? v : [undefined])
        .map((a) => output(a, 'commitMessage'))
        .join(" + '\\n' + ")} }}`
  },
  {
    step: 'git-clone',
    path: ['checkout', '*', 'fromFreight'],
    removedIn: 'v1.3',
    replacement: 'commit',
    rewrite: (_v, _h, config) =>
      `commit: \${{ commitFrom(${exprArg(config.repoURL, '<repoURL>')}).ID }}`
  },
  {
    step: 'git-clone',
    path: ['checkout', '*', 'fromOrigin'],
    removedIn: 'v1.3',
    replacement: 'commit',
    rewrite: (v, _h, config) =>
      `commit: \${{ commitFrom(${exprArg(config.repoURL, '<repoURL>')}, ${origin(v)}).ID }}`
  },
  {
    step: 'git-open-pr',
    path: ['sourceBranchFromStep'],
    removedIn: 'v1.3',
    replacement: 'sourceBranch',
    rewrite: (v) => `sourceBranch: \${{ ${output(v, 'branch')} }}`
  },
  {
    step: 'git-wait-for-pr',
    path: ['prNumberFromStep'],
    removedIn: 'v1.3',
    replacement: 'prNumber',
    rewrite: (v) => `prNumber: \${{ ${output(v, 'pr.id')} }}`
  },
  {
    step: 'argocd-update',
    path: ['apps', '*', 'sources', '*', 'desiredCommitFromStep'],
    removedIn: 'v1.3',
    replacement: 'desiredRevision',
    rewrite: (v) => `desiredRevision: \${{ ${output(v, 'commit')} }}`
  },
  ...ARGOCD_ORIGIN_PATHS.map((path): RemovedStepField => ({
    step: 'argocd-update',
    path,
    removedIn: 'v1.3',
    replacement: 'an expression naming the origin',
    rewrite: (v) =>
      `the value set by an expression that names the origin, e.g. \${{ imageFrom('<repoURL>', ${origin(v)}).Tag }}`
  })),
  {
    step: 'kustomize-set-image',
    path: ['images', '*', 'fromOrigin'],
    removedIn: 'v1.3',
    replacement: 'tag',
    rewrite: (v, holder) =>
      `tag: \${{ imageFrom(${exprArg(holder.image, '<image>')}, ${origin(v)}).Tag }}`
  },
  {
    step: 'kustomize-set-image',
    path: ['images', '*', 'useDigest'],
    removedIn: 'v1.3',
    replacement: 'digest',
    rewrite: (_v, holder) => `digest: \${{ imageFrom(${exprArg(holder.image, '<image>')}).Digest }}`
  },
  {
    step: 'helm-update-chart',
    path: ['charts', '*', 'fromOrigin'],
    removedIn: 'v1.3',
    replacement: 'version',
    rewrite: (v, holder) => {
      const args = [exprArg(holder.repository, '<repository>')]
      if (typeof holder.name === 'string') args.push(exprArg(holder.name, '<name>'))
      return `version: \${{ chartFrom(${args.join(', ')}, ${origin(v)}).Version }}`
    }
  }
]

function matches(pattern: string[], path: ReadonlyArray<PropertyKey>): boolean {
  return (
    pattern.length === path.length &&
    pattern.every((seg, i) => (seg === '*' ? typeof path[i] === 'number' : seg === path[i]))
  )
}

/**
 * The message and hint for a removed Kargo 1.0 field at `path` in a step's config, or undefined
 * when the field is not one of them.
 */
export function removedStepField(
  step: string,
  path: ReadonlyArray<PropertyKey>,
  config: Record<string, unknown>
): { message: string; hint: string; replacement: string } | undefined {
  const entry = REMOVED_STEP_FIELDS.find((f) => f.step === step && matches(f.path, path))
  if (!entry) return undefined
  let holder: unknown = config
  for (const seg of path.slice(0, -1)) holder = (holder as Record<PropertyKey, unknown>)?.[seg]
  const holderMap = (holder ?? {}) as Record<string, unknown>
  const field = String(path[path.length - 1])
  return {
    message: `${field} was removed in Kargo ${entry.removedIn} (a Kargo 1.0 field): use ${entry.replacement}`,
    hint: `replace it with ${entry.rewrite(holderMap[field], holderMap, config)}`,
    replacement: entry.replacement
  }
}
