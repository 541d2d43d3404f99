import fs from 'node:fs'
import path from 'node:path'
import semver from 'semver'
import { isMap, isScalar, isSeq, parse, parseDocument, type YAMLMap } from 'yaml'
import { z } from 'zod'
import { defineStep } from '../define.js'
import type { StepContext } from '../types.js'
import type { Chart, Freight } from '../../freight/types.js'
import { ConfigFieldError, WaybillError } from '../../util/errors.js'
import { assertNoOutwardLinks, readFileNoFollow } from '../../util/fs-confined.js'
import {
  commitMessage,
  nonEmpty,
  runStepTool,
  stepPath,
  succeeded,
  withHelmHome,
  writeFileAtomic
} from './common.js'
import { stringifyLike } from './kustomize-set-image.js'
import { scalarText } from '../../util/text.js'

const STEP = 'helm-update-chart'

const schema = z.strictObject({
  path: nonEmpty,
  charts: z
    .array(z.strictObject({ repository: nonEmpty, name: nonEmpty, version: nonEmpty }))
    .min(1)
    .optional()
})

export type HelmUpdateChartConfig = z.output<typeof schema>

/** Docker-style registry auths for Helm's OCI client, from the configured registry credentials. */
export function registryAuths(ctx: StepContext<'registry'>): Record<string, unknown> | undefined {
  const auths: Record<string, { auth: string }> = {}
  for (const { host, credential: c } of ctx.caps.registry.credentials()) {
    const secret = c.password ?? c.token
    if (!secret) continue
    ctx.logger.mask(secret)
    const user = c.username ?? 'oauth2'
    auths[host] = { auth: Buffer.from(`${user}:${secret}`).toString('base64') }
  }
  return Object.keys(auths).length ? { auths } : undefined
}

const trimSlash = (s: string) => s.replace(/\/+$/, '')

/** Whether a Freight chart is the given Chart.yaml dependency (HTTP repo + name, or OCI URL). */
export function chartMatches(chart: Chart, repository: string, name: string): boolean {
  const repo = trimSlash(repository)
  if (chart.name) return trimSlash(chart.repoURL) === repo && chart.name === name
  return trimSlash(chart.repoURL) === `${repo}/${name}`
}

function freightCharts(freight: Freight[]): Chart[] {
  return freight.flatMap((f) => f.charts)
}

function lockVersions(ctx: StepContext, rel: string): Map<string, string> {
  const out = new Map<string, string>()
  try {
    const file = stepPath(ctx, STEP, 'path', path.join(rel, 'Chart.lock'))
    const lock = parse(readFileNoFollow(file).toString('utf8')) as {
      dependencies?: Array<{ name: string; version: string }>
    }
    for (const d of lock?.dependencies ?? []) out.set(d.name, String(d.version))
  } catch {
    /* no lock yet */
  }
  return out
}

export const helmUpdateChart = defineStep({
  name: STEP,
  schema,
  capabilities: ['registry', 'tools'],
  async run(config, ctx) {
    const chartDir = stepPath(ctx, STEP, 'path', config.path)
    const chartFile = stepPath(ctx, STEP, 'path', path.join(config.path, 'Chart.yaml'))
    if (!fs.existsSync(chartFile))
      throw new ConfigFieldError(
        `${STEP}.path`,
        `'${config.path}' is not a Helm chart (no Chart.yaml)`
      )
    const original = readFileNoFollow(chartFile).toString('utf8')
    const doc = parseDocument(original)
    if (doc.errors.length)
      throw new WaybillError(
        `${STEP}: ${config.path}/Chart.yaml is not valid YAML: ${doc.errors[0].message}`
      )
    const depsNode = isMap(doc.contents) ? doc.contents.get('dependencies', true) : undefined
    const deps: YAMLMap[] = isSeq(depsNode)
      ? depsNode.items.filter((d): d is YAMLMap => isMap(d))
      : []
    const str = (m: YAMLMap, k: string) => {
      return scalarText(m.get(k)) ?? ''
    }
    const setVersion = (dep: YAMLMap, version: string) => {
      const node = dep.get('version', true)
      if (isScalar(node)) {
        node.value = version
      } else dep.set('version', version)
    }
    const changes: string[] = []
    const before = lockVersions(ctx, config.path)
    if (config.charts) {
      config.charts.forEach((c, i) => {
        const dep = deps.find(
          (d) =>
            str(d, 'name') === c.name && trimSlash(str(d, 'repository')) === trimSlash(c.repository)
        )
        if (!dep)
          throw new ConfigFieldError(
            `${STEP}.charts[${i}]`,
            `no dependency '${c.name}' from '${c.repository}' in ${config.path}/Chart.yaml`
          )
        const old = str(dep, 'version')
        if (old !== c.version) {
          setVersion(dep, c.version)
          changes.push(`${c.name}: ${old || '(none)'} -> ${c.version}`)
        }
      })
    } else {
      const charts = freightCharts(ctx.freight)
      for (const dep of deps) {
        const name = str(dep, 'name')
        const repo = str(dep, 'repository')
        const found = charts.filter((c) => chartMatches(c, repo, name))
        if (found.length === 0) continue
        if (found.length > 1)
          throw new ConfigFieldError(
            `${STEP}.charts`,
            `chart '${name}' from '${repo}' appears in more than one Freight; list it under 'charts'`
          )
        const version = found[0].version
        const old = str(dep, 'version')
        if (old && !semver.valid(old) && semver.validRange(old) && !semver.satisfies(version, old))
          throw new WaybillError(
            `${STEP}: the Freight's ${name} ${version} is outside the range '${old}' in ${config.path}/Chart.yaml`,
            "widen the range, or name the chart under 'charts' to set the version explicitly"
          )
        if (old !== version) {
          setVersion(dep, version)
          changes.push(`${name}: ${old || '(none)'} -> ${version}`)
        }
      }
    }
    const out = stringifyLike(doc, original)
    if (out !== original) writeFileAtomic(chartFile, out)
    if (deps.length > 0) {
      assertNoOutwardLinks(ctx.workDir, chartDir, STEP)
      const helm = ctx.caps.tools.helm
      await withHelmHome(
        (env) =>
          runStepTool(STEP, 'helm', [helm, 'dependency', 'update', '--', chartDir], {
            env,
            cwd: ctx.workDir
          }),
        registryAuths(ctx)
      )
    }
    const after = lockVersions(ctx, config.path)
    for (const [name, v] of after) {
      const old = before.get(name)
      if (old !== v && !changes.some((c) => c.startsWith(`${name}: `)))
        changes.push(`${name}: ${old ?? '(none)'} -> ${v}`)
    }
    ctx.logger.info(changes.length ? changes.join('\n') : `${config.path}: dependencies unchanged`)
    if (changes.length === 0) return succeeded()
    return succeeded({
      commitMessage: commitMessage(`Updated chart dependencies for ${config.path}`, changes)
    })
  }
})
