import path from 'node:path'
import { parse } from 'yaml'
import { z } from 'zod'
import { defineStep } from '../define.js'
import { WaybillError } from '../../util/errors.js'
import { assertNoOutwardLinks, mkdirInside, writeFileNoFollow } from '../../util/fs-confined.js'
import { nonEmpty, runStepTool, stepPath, succeeded, writeFileAtomic } from './common.js'
import { findKustomization } from './kustomize-set-image.js'

const STEP = 'kustomize-build'

const schema = z.strictObject({
  path: nonEmpty,
  outPath: nonEmpty,
  outputFormat: z.enum(['kargo', 'kustomize']).default('kargo'),
  plugin: z
    .strictObject({
      helm: z
        .strictObject({
          apiVersions: z.array(nonEmpty).optional(),
          kubeVersion: z.string().optional()
        })
        .optional()
    })
    .optional()
})

export type KustomizeBuildConfig = z.output<typeof schema>

interface Resource {
  apiVersion?: string
  kind?: string
  metadata?: { name?: string; namespace?: string }
}

/** Kargo's name for a resource's file: `[namespace-]kind-name.yaml`, lower case. */
export function kargoFileName(r: Resource): string {
  const base = `${r.kind ?? ''}-${r.metadata?.name ?? ''}`
  const ns = r.metadata?.namespace
  return `${ns ? `${ns}-` : ''}${base}`.toLowerCase() + '.yaml'
}

/**
 * `kustomize build -o dir` naming: `group_version_kind_name.yaml` (empty parts dropped), lower
 * case, prefixed with `namespace_` when namespaced resources span more than one namespace.
 */
export function kustomizeFileName(r: Resource, multiNamespace: boolean): string {
  const [group, version] = (r.apiVersion ?? '').includes('/')
    ? (r.apiVersion as string).split('/', 2)
    : ['', r.apiVersion ?? '']
  const gvk = [group, version, r.kind ?? ''].filter((p) => p !== '').join('_')
  const name = `${gvk}_${r.metadata?.name ?? ''}`.toLowerCase() + '.yaml'
  const ns = r.metadata?.namespace
  return multiNamespace && ns ? `${ns.toLowerCase()}_${name}` : name
}

/** A plain or simply quoted scalar from kustomize's canonical output, or undefined if unusual. */
function simpleScalar(raw: string): string | undefined {
  const v = raw.trim()
  if (/^'[^']*'$/.test(v) || /^"[^"\\]*"$/.test(v)) return v.slice(1, -1)
  if (v === '' || /^[|>&*!{[\]'"%@`#]/.test(v) || v.includes(' #')) return undefined
  return v
}

/**
 * apiVersion, kind and metadata name/namespace read straight from kustomize's canonical output
 * (top-level keys at column 0, metadata fields at two spaces); undefined when anything looks
 * unusual, so the caller falls back to a full YAML parse.
 */
export function quickMeta(chunk: string): Resource | undefined {
  const r: Resource = { metadata: {} }
  let inMeta = false
  for (const line of chunk.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    if (line[0] !== ' ' && line[0] !== '-') {
      inMeta = line === 'metadata:'
      const m = /^(apiVersion|kind): (.*)$/.exec(line)
      if (m) {
        const v = simpleScalar(m[2])
        if (v === undefined) return undefined
        r[m[1] as 'apiVersion' | 'kind'] = v
      } else if (/^(apiVersion|kind|metadata)\b/.test(line) && !inMeta) return undefined
    } else if (inMeta) {
      const m = /^ {2}(name|namespace): (.*)$/.exec(line)
      if (m) {
        const v = simpleScalar(m[2])
        if (v === undefined) return undefined
        r.metadata![m[1] as 'name' | 'namespace'] = v
      } else if (/^ {2}(name|namespace)\b/.test(line) || /^ \S/.test(line) || line.startsWith('\t'))
        return undefined
    }
  }
  return r.kind && r.metadata?.name ? r : undefined
}

/** Splits `kustomize build` output into resources, keeping each one's text as kustomize printed it. */
export function splitResources(output: string): Array<{ resource: Resource; text: string }> {
  const out: Array<{ resource: Resource; text: string }> = []
  for (const chunk of output.split(/^---[ \t]*$\n?/m)) {
    if (!chunk.trim()) continue
    let resource: Resource | null | undefined = quickMeta(chunk)
    if (!resource) {
      try {
        resource = parse(chunk) as Resource | null
      } catch (e) {
        throw new WaybillError(`${STEP}: kustomize printed invalid YAML: ${(e as Error).message}`)
      }
    }
    if (!resource || typeof resource !== 'object') continue
    out.push({ resource, text: chunk.endsWith('\n') ? chunk : chunk + '\n' })
  }
  return out
}

/**
 * A file name built from a resource's kind, name and namespace, which come from the rendered
 * content: it must be one plain path component (Kubernetes names never hold `/`).
 */
function checkedFileName(name: string, r: Resource): string {
  // eslint-disable-next-line no-control-regex
  if (/[/\\\x00-\x1f]/.test(name) || name === '.yaml' || name.startsWith('.'))
    throw new WaybillError(
      `${STEP}: ${r.kind ?? 'resource'} '${r.metadata?.name ?? ''}'${r.metadata?.namespace ? ` in namespace '${r.metadata.namespace}'` : ''} cannot be written: '${name}' is not a plain file name`,
      'Kubernetes names are DNS subdomains (lower-case letters, digits, - and .); fix the resource'
    )
  return name
}

/** Writes resources one per file into dir (resolved inside root) in the given naming scheme. */
export function writeResourceFiles(
  root: string,
  dir: string,
  output: string,
  format: 'kargo' | 'kustomize'
): string[] {
  const resources = splitResources(output)
  const namespaces = new Set(
    resources.map((r) => r.resource.metadata?.namespace).filter((n): n is string => !!n)
  )
  const names = resources.map(({ resource }) =>
    checkedFileName(
      format === 'kargo'
        ? kargoFileName(resource)
        : kustomizeFileName(resource, namespaces.size > 1),
      resource
    )
  )
  const outDir = mkdirInside(root, path.relative(root, dir), `${STEP}.outPath`)
  resources.forEach(({ text }, i) => {
    // A link already in outPath is replaced, never written through.
    writeFileNoFollow(path.join(outDir, names[i]), text, 0o644)
  })
  return names
}

export const kustomizeBuild = defineStep({
  name: STEP,
  schema,
  capabilities: ['tools'],
  async run(config, ctx) {
    const dir = stepPath(ctx, STEP, 'path', config.path)
    const outPath = stepPath(ctx, STEP, 'outPath', config.outPath)
    findKustomization(dir, `${STEP}.path`, config.path)
    assertNoOutwardLinks(ctx.workDir, dir, STEP)
    const args = [...ctx.caps.tools.kustomize]
    const helm = config.plugin?.helm
    if (helm) {
      args.push('--enable-helm', '--helm-command', ctx.caps.tools.helm)
      if (helm.kubeVersion) args.push('--helm-kube-version', helm.kubeVersion)
      for (const v of helm.apiVersions ?? []) args.push('--helm-api-versions', v)
    }
    args.push('--', dir)
    const { stdout } = await runStepTool(STEP, 'kustomize', args, { cwd: ctx.workDir })
    if (/\.ya?ml$/i.test(outPath)) {
      writeFileAtomic(outPath, stdout, 0o644)
      ctx.logger.info(`${config.path} → ${config.outPath}`)
    } else {
      const files = writeResourceFiles(ctx.workDir, outPath, stdout, config.outputFormat)
      ctx.logger.info(`${config.path} → ${config.outPath}/ (${files.length} files)`)
    }
    return succeeded()
  }
})
