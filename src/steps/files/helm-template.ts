import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parse } from 'yaml'
import { z } from 'zod'
import type { StepContext, StepDefinition } from '../types.js'
import { ConfigFieldError } from '../../util/errors.js'
import {
  exists,
  nonEmpty,
  parser,
  runStepTool,
  stepPath,
  succeeded,
  withHelmHome,
  writeFileAtomic
} from './common.js'
import { registryAuths } from './helm-update-chart.js'

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

/** The `helm template` argument array for a config (paths already confined). */
export function helmTemplateArgs(
  config: HelmTemplateConfig,
  chartDir: string,
  valuesFiles: string[]
): string[] {
  const args = ['template', config.releaseName, chartDir]
  if (config.namespace) args.push('--namespace', config.namespace)
  for (const f of valuesFiles) args.push('--values', f)
  for (const s of config.setValues)
    args.push(s.literal ? '--set-literal' : '--set', `${s.key}=${s.value}`)
  if (config.includeCRDs) args.push('--include-crds')
  if (config.disableHooks) args.push('--no-hooks')
  if (config.skipTests) args.push('--skip-tests')
  if (config.kubeVersion) args.push('--kube-version', config.kubeVersion)
  for (const v of config.apiVersions) args.push('--api-versions', v)
  return args
}

function chartName(chartDir: string, rel: string): string {
  const file = path.join(chartDir, 'Chart.yaml')
  if (!fs.existsSync(file))
    throw new ConfigFieldError(`${STEP}.path`, `'${rel}' is not a Helm chart (no Chart.yaml)`)
  const chart = parse(fs.readFileSync(file, 'utf8')) as { name?: string } | null
  if (!chart?.name) throw new ConfigFieldError(`${STEP}.path`, `'${rel}/Chart.yaml' has no 'name'`)
  return chart.name
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

async function render(config: HelmTemplateConfig, ctx: StepContext): Promise<void> {
  const chartDir = stepPath(ctx, STEP, 'path', config.path)
  const outPath = stepPath(ctx, STEP, 'outPath', config.outPath)
  const name = chartName(chartDir, config.path)
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
  const helm = ctx.services.tools.helm
  await withHelmHome(async (env) => {
    if (config.buildDependencies) {
      // `build` follows Chart.lock when there is one, and resolves Chart.yaml when there is not.
      await runStepTool(STEP, 'helm', [helm, 'dependency', 'build', chartDir], {
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
      await runStepTool(STEP, 'helm', [helm, ...args, '--output-dir', tmp], {
        env,
        cwd: ctx.workDir
      })
      const rendered = path.join(tmp, name)
      if (config.outLayout === 'flat') {
        if (fs.existsSync(rendered)) flatten(rendered, outPath)
        else fs.mkdirSync(outPath, { recursive: true })
        ctx.logger.info(`${config.path} → ${config.outPath}/ (flat)`)
      } else {
        const target = path.join(outPath, config.useReleaseName ? config.releaseName : name)
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

export const helmTemplate: StepDefinition<HelmTemplateConfig> = {
  name: STEP,
  parse: parser(STEP, schema),
  async run(config, ctx) {
    await render(config, ctx)
    return succeeded()
  }
}
