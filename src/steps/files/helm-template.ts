import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parse } from 'yaml'
import { z } from 'zod'
import { defineStep } from '../define.js'
import type { StepContext } from '../types.js'
import { ConfigFieldError } from '../../util/errors.js'
import { assertNoOutwardLinks, readFileNoFollow, reresolve } from '../../util/fs-confined.js'
import {
  exists,
  nonEmpty,
  runStepTool,
  stepPath,
  succeeded,
  withHelmHome,
  writeFileAtomic
} from './common.js'
import { registryAuths } from './helm-update-chart.js'
import { scalarText } from '../../util/text.js'

const STEP = 'helm-template'

const schema = z.strictObject({
  path: nonEmpty,
  outPath: nonEmpty,
  outLayout: z.enum(['helm', 'flat']).default('helm'),
  releaseName: nonEmpty,
  useReleaseName: z.boolean().default(false),
  namespace: z.string().optional(),
  valuesFiles: z.array(nonEmpty).default([]),
  ignoreMissingValueFiles: z.boolean().default(false),
  setValues: z
    .array(
      z.strictObject({ key: nonEmpty, value: z.string(), literal: z.boolean().default(false) })
    )
    .default([]),
  buildDependencies: z.boolean().default(false),
  includeCRDs: z.boolean().default(false),
  disableHooks: z.boolean().default(false),
  skipTests: z.boolean().default(false),
  kubeVersion: z.string().optional(),
  apiVersions: z.array(nonEmpty).default([])
})

export type HelmTemplateConfig = z.output<typeof schema>

/** Helm's release name grammar (pkg/chartutil ValidateReleaseName): DNS-style, at most 53. */
const RELEASE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/
const MAX_RELEASE_NAME = 53

export function assertReleaseName(name: string, field: string): void {
  if (name.length > MAX_RELEASE_NAME || !RELEASE_NAME.test(name))
    throw new ConfigFieldError(
      field,
      `'${name}' is not a valid Helm release name (lower-case letters, digits, '-' and '.', starting and ending with a letter or digit, at most ${MAX_RELEASE_NAME} characters)`
    )
}

/**
 * The `helm template` argument array for a config (paths already confined): every flag first,
 * then `--`, then the release name and chart, so neither can be read as an option.
 */
export function helmTemplateArgs(
  config: HelmTemplateConfig,
  chartDir: string,
  valuesFiles: string[],
  extraFlags: string[] = []
): string[] {
  const args = ['template']
  if (config.namespace) args.push('--namespace', config.namespace)
  for (const f of valuesFiles) args.push('--values', f)
  for (const s of config.setValues)
    args.push(s.literal ? '--set-literal' : '--set', `${s.key}=${s.value}`)
  if (config.includeCRDs) args.push('--include-crds')
  if (config.disableHooks) args.push('--no-hooks')
  if (config.skipTests) args.push('--skip-tests')
  if (config.kubeVersion) args.push('--kube-version', config.kubeVersion)
  for (const v of config.apiVersions) args.push('--api-versions', v)
  args.push(...extraFlags, '--', config.releaseName, chartDir)
  return args
}

function chartName(ctx: StepContext, rel: string): string {
  const file = stepPath(ctx, STEP, 'path', path.join(rel, 'Chart.yaml'))
  if (!fs.existsSync(file))
    throw new ConfigFieldError(`${STEP}.path`, `'${rel}' is not a Helm chart (no Chart.yaml)`)
  const chart = parse(readFileNoFollow(file).toString('utf8')) as { name?: unknown } | null
  const name = chart?.name ? scalarText(chart.name) : undefined
  if (!name) throw new ConfigFieldError(`${STEP}.path`, `'${rel}/Chart.yaml' has no 'name'`)
  // The name becomes a directory under outPath: one plain path component only.
  if (!/^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(name))
    throw new ConfigFieldError(
      `${STEP}.path`,
      `'${rel}/Chart.yaml' names the chart '${name}', which is not a valid chart name`
    )
  return name
}

/** Moves every rendered file under src into dst without subdirectories (collisions prefixed). */
function flatten(src: string, dst: string): void {
  fs.mkdirSync(dst, { recursive: true })
  const walk = (dir: string, rel: string[]): void => {
    for (const e of fs
      .readdirSync(dir, { withFileTypes: true })
      .sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = path.join(dir, e.name)
      if (e.isDirectory()) walk(p, [...rel, e.name])
      else {
        let name = e.name
        if (exists(path.join(dst, name))) {
          const prefix = rel.filter((r) => r !== 'templates' && r !== 'charts').join('-')
          name = `${prefix}-${e.name}`
        }
        fs.renameSync(p, path.join(dst, name))
      }
    }
  }
  walk(src, [])
}

async function render(
  config: HelmTemplateConfig,
  ctx: StepContext<'registry' | 'tools'>
): Promise<void> {
  assertReleaseName(config.releaseName, `${STEP}.releaseName`)
  const chartDir = stepPath(ctx, STEP, 'path', config.path)
  const outPath = stepPath(ctx, STEP, 'outPath', config.outPath)
  const name = chartName(ctx, config.path)
  assertNoOutwardLinks(ctx.workDir, chartDir, STEP)
  const confined = config.valuesFiles.map((rel, i) => stepPath(ctx, STEP, `valuesFiles[${i}]`, rel))
  const valuesFiles: string[] = []
  confined.forEach((full, i) => {
    const rel = config.valuesFiles[i]
    if (!fs.existsSync(full)) {
      if (config.ignoreMissingValueFiles) {
        ctx.logger.info(`skipping missing values file ${rel}`)
        return
      }
      throw new ConfigFieldError(`${STEP}.valuesFiles[${i}]`, `'${rel}' does not exist`)
    }
    valuesFiles.push(full)
  })
  const helm = ctx.caps.tools.helm
  await withHelmHome(async (env) => {
    if (config.buildDependencies) {
      // `build` follows Chart.lock when there is one, and resolves Chart.yaml when there is not.
      await runStepTool(STEP, 'helm', [helm, 'dependency', 'build', '--', chartDir], {
        env,
        cwd: ctx.workDir
      })
    }
    const args = helmTemplateArgs(config, chartDir, valuesFiles)
    if (/\.ya?ml$/i.test(outPath)) {
      const { stdout } = await runStepTool(STEP, 'helm', [helm, ...args], { env, cwd: ctx.workDir })
      writeFileAtomic(outPath, stdout, 0o644)
      ctx.logger.info(`${config.path} → ${config.outPath}`)
      return
    }
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'waybill-helm-out-'))
    try {
      const withDir = helmTemplateArgs(config, chartDir, valuesFiles, ['--output-dir', tmp])
      await runStepTool(STEP, 'helm', [helm, ...withDir], {
        env,
        cwd: ctx.workDir
      })
      const rendered = path.join(tmp, name)
      if (config.outLayout === 'flat') {
        if (fs.existsSync(rendered)) flatten(rendered, outPath)
        else fs.mkdirSync(outPath, { recursive: true })
        ctx.logger.info(`${config.path} → ${config.outPath}/ (flat)`)
      } else {
        const target = reresolve(
          ctx.workDir,
          path.join(outPath, config.useReleaseName ? config.releaseName : name),
          `${STEP}.outPath`,
          { followFinal: false }
        )
        fs.rmSync(target, { recursive: true, force: true })
        fs.mkdirSync(path.dirname(target), { recursive: true })
        if (fs.existsSync(rendered)) fs.cpSync(rendered, target, { recursive: true })
        else fs.mkdirSync(target, { recursive: true })
        ctx.logger.info(`${config.path} → ${path.relative(ctx.workDir, target)}/`)
      }
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true })
    }
  }, registryAuths(ctx))
}

export const helmTemplate = defineStep({
  name: STEP,
  schema,
  capabilities: ['registry', 'tools'],
  async run(config, ctx) {
    await render(config, ctx)
    return succeeded()
  }
})
