import fs from 'node:fs'
import path from 'node:path'
import { parse } from 'yaml'
import { z } from 'zod'
import type { StepDefinition } from '../types.js'
import { WaybillError } from '../../util/errors.js'
import { nonEmpty, parser, runStepTool, stepPath, succeeded, writeFileAtomic } from './common.js'
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

/** Writes resources one per file into dir in the given naming scheme. */
export function writeResourceFiles(
  dir: string,
  output: string,
  format: 'kargo' | 'kustomize'
): string[] {
  const resources = splitResources(output)
  const namespaces = new Set(
    resources.map((r) => r.resource.metadata?.namespace).filter((n): n is string => !!n)
  )
  fs.mkdirSync(dir, { recursive: true })
  const written: string[] = []
  for (const { resource, text } of resources) {
    const name =
      format === 'kargo'
        ? kargoFileName(resource)
        : kustomizeFileName(resource, namespaces.size > 1)
    fs.writeFileSync(path.join(dir, name), text)
    written.push(name)
  }
  return written
}

export const kustomizeBuild: StepDefinition<KustomizeBuildConfig> = {
  name: STEP,
  parse: parser(STEP, schema),
  async run(config, ctx) {
    const dir = stepPath(ctx, STEP, 'path', config.path)
    const outPath = stepPath(ctx, STEP, 'outPath', config.outPath)
    findKustomization(dir, `${STEP}.path`, config.path)
    const args = [...ctx.services.tools.kustomize, dir]
    const helm = config.plugin?.helm
    if (helm) {
      args.push('--enable-helm', '--helm-command', ctx.services.tools.helm)
      if (helm.kubeVersion) args.push('--helm-kube-version', helm.kubeVersion)
      for (const v of helm.apiVersions ?? []) args.push('--helm-api-versions', v)
    }
    const { stdout } = await runStepTool(STEP, 'kustomize', args, { cwd: ctx.workDir })
    if (/\.ya?ml$/i.test(outPath)) {
      writeFileAtomic(outPath, stdout, 0o644)
      ctx.logger.info(`${config.path} → ${config.outPath}`)
    } else {
      const files = writeResourceFiles(outPath, stdout, config.outputFormat)
      ctx.logger.info(`${config.path} → ${config.outPath}/ (${files.length} files)`)
    }
    return succeeded()
  }
}
