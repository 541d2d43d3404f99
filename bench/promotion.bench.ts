// Promotion through the step registry vs a plain shell script: npm run bench -- promotion
// A local bare repository holds a Kustomize layout (base with BENCH_MANIFESTS manifests, env/dev
// overlay). Each run: clone → kustomize-set-image → kustomize-build (kargo layout, one file per
// manifest) → commit → push. The baseline is a bash script with the same git and kustomize
// commands (sed for the image edit, since `kubectl kustomize` has no `edit`). Runs alternate.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { gitStats } from '../src/git/git.js'
import { stepRegistry } from '../src/steps/index.js'
import type { StepContext } from '../src/steps/types.js'
import { stepContext, testFreight } from '../__tests__/support/step-context.js'
import { median, sh } from './support.js'

const MANIFESTS = Number(process.env.BENCH_MANIFESTS ?? 200)
const RUNS = Number(process.env.BENCH_RUNS ?? 15)
const IMAGE = 'ghcr.io/example/guestbook'

/** A bare repo whose main branch holds base/ (MANIFESTS manifests) and env/dev/. */
function makeRepo(root: string): string {
  const work = path.join(root, 'seed')
  const bare = path.join(root, 'remote.git')
  fs.mkdirSync(path.join(work, 'base'), { recursive: true })
  fs.mkdirSync(path.join(work, 'env', 'dev'), { recursive: true })
  const resources: string[] = []
  for (let i = 0; i < MANIFESTS; i++) {
    const file = `m${i}.yaml`
    const doc =
      i % 2 === 0
        ? `apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-${i}
spec:
  replicas: 1
  selector:
    matchLabels: {app: app-${i}}
  template:
    metadata:
      labels: {app: app-${i}}
    spec:
      containers:
      - name: app
        image: ${IMAGE}:latest
        ports:
        - containerPort: 3000
`
        : `apiVersion: v1
kind: Service
metadata:
  name: app-${i - 1}
spec:
  selector: {app: app-${i - 1}}
  ports:
  - port: 80
    targetPort: 3000
`
    fs.writeFileSync(path.join(work, 'base', file), doc)
    resources.push(file)
  }
  fs.writeFileSync(
    path.join(work, 'base', 'kustomization.yaml'),
    `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n${resources.map((r) => `- ${r}`).join('\n')}\n`
  )
  fs.writeFileSync(
    path.join(work, 'env', 'dev', 'kustomization.yaml'),
    `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization

resources:
- ../../base

namespace: bench-dev

images:
- name: ${IMAGE}
  newTag: v0.0.0
`
  )
  sh('git', ['init', '-q', '--bare', '-b', 'main', bare])
  sh('git', ['init', '-q', '-b', 'main'], work)
  sh('git', ['add', '-A'], work)
  sh('git', ['commit', '-q', '-m', 'initial'], work)
  sh('git', ['push', '-q', bare, 'main'], work)
  return bare
}

/** Per-step durations of the measured Waybill runs. */
const stepTimes: Record<string, number[]> = {}
/** git processes each step started (the same on every run). */
const stepGitProcesses: Record<string, number> = {}

/** Runs the five steps; returns the ms from the clone's start to the push's end (no cleanup). */
async function waybillRun(bare: string, tag: string): Promise<number> {
  const freight = testFreight({ images: [{ repoURL: IMAGE, tag, digest: '' }] })
  const ctx: StepContext = stepContext({ targetFreight: freight, freight: [freight] })
  const steps: Array<[string, Record<string, unknown>]> = [
    ['git-clone', { repoURL: `file://${bare}`, checkout: [{ branch: 'main', path: './src' }] }],
    ['kustomize-set-image', { path: './src/env/dev', images: [{ image: IMAGE, tag }] }],
    ['kustomize-build', { path: './src/env/dev', outPath: './src/rendered/dev' }],
    ['git-commit', { path: './src', message: `Updated env/dev to ${IMAGE}:${tag}` }],
    ['git-push', { path: './src' }]
  ]
  const start = performance.now()
  try {
    for (const [name, config] of steps) {
      const step = stepRegistry.get(name)
      if (!step) throw new Error(`step ${name} is not registered`)
      const t0 = performance.now()
      const spawned = gitStats.spawned
      const res = await step.run(step.parse(config), ctx)
      ;(stepTimes[name] ??= []).push(performance.now() - t0)
      stepGitProcesses[name] = gitStats.spawned - spawned
      if (res.status !== 'Succeeded') throw new Error(`${name}: ${res.status} ${res.message ?? ''}`)
    }
    return performance.now() - start
  } finally {
    fs.rmSync(ctx.workDir, { recursive: true, force: true })
  }
}

// Prints a timestamp (ns) after each phase so that the phases can be compared with the steps.
const SCRIPT = `set -euo pipefail
bare="$1"; tag="$2"; work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
date +%s%N
git clone -q --branch main "file://$bare" "$work/src"
date +%s%N
cd "$work/src"
sed -i "s|^  newTag: .*|  newTag: $tag|" env/dev/kustomization.yaml
date +%s%N
mkdir -p rendered/dev
kustomize build env/dev -o rendered/dev
date +%s%N
git add -A
git commit -q -m "Updated env/dev to ${IMAGE}:$tag"
date +%s%N
git push -q origin HEAD:main
date +%s%N
`

const PHASES = ['clone', 'set-image', 'build', 'commit', 'push']
const phaseTimes: Record<string, number[]> = {}

/** Runs the script; returns the ms from before `git clone` to after `git push` (its own stamps). */
function shellRun(script: string, bare: string, tag: string, record = true): number {
  const stamps = sh('bash', [script, bare, tag])
    .split('\n')
    .map((l) => Number(l) / 1e6)
  if (record) PHASES.forEach((p, i) => (phaseTimes[p] ??= []).push(stamps[i + 1] - stamps[i]))
  return stamps[PHASES.length] - stamps[0]
}

async function main(): Promise<void> {
  for (const name of [
    'git-clone',
    'kustomize-set-image',
    'kustomize-build',
    'git-commit',
    'git-push'
  ])
    if (!stepRegistry.has(name)) throw new Error(`step ${name} is not registered yet`)
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'waybill-bench-promotion-'))
  try {
    const wbRepo = makeRepo(path.join(root, 'waybill'))
    const shRepo = makeRepo(path.join(root, 'shell'))
    const script = path.join(root, 'promote.sh')
    fs.writeFileSync(script, SCRIPT)
    // Warm-up (module loading, page cache), not measured.
    await waybillRun(wbRepo, 'v0.0.1')
    shellRun(script, shRepo, 'v0.0.1', false)
    for (const k of Object.keys(stepTimes)) delete stepTimes[k]
    const wb: number[] = []
    const shell: number[] = []
    for (let i = 0; i < RUNS; i++) {
      const tag = `v1.0.${i}`
      wb.push(await waybillRun(wbRepo, tag))
      shell.push(shellRun(script, shRepo, tag))
    }
    // Both pipelines must have produced the same tree.
    const wbFiles = sh('git', [
      '--git-dir',
      wbRepo,
      'ls-tree',
      '-r',
      '--name-only',
      'main',
      'rendered/dev'
    ])
    const shFiles = sh('git', [
      '--git-dir',
      shRepo,
      'ls-tree',
      '-r',
      '--name-only',
      'main',
      'rendered/dev'
    ])
    const renderedCount = wbFiles.split('\n').length
    const wbM = median(wb)
    const shM = median(shell)
    console.log(
      `manifests: ${MANIFESTS} (rendered files: waybill ${renderedCount}, shell ${shFiles.split('\n').length}), runs: ${RUNS}`
    )
    console.log(
      `waybill (step registry), clone→push: median ${wbM.toFixed(0)} ms  [${wb.map((x) => x.toFixed(0)).join(' ')}]`
    )
    console.log(
      `shell script, clone→push:            median ${shM.toFixed(0)} ms  [${shell.map((x) => x.toFixed(0)).join(' ')}]`
    )
    console.log(
      `  per step (median ms): ${Object.entries(stepTimes)
        .map(([n, xs]) => `${n} ${median(xs).toFixed(0)}`)
        .join(', ')}`
    )
    console.log(
      `  per phase (median ms): ${Object.entries(phaseTimes)
        .map(([n, xs]) => `${n} ${median(xs).toFixed(0)}`)
        .join(', ')}`
    )
    console.log(
      `  git processes per step: ${Object.entries(stepGitProcesses)
        .map(([n, c]) => `${n} ${c}`)
        .join(', ')} (script: clone 1, commit 2, push 1)`
    )
    console.log(
      `  load average at the end: ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`
    )
    console.log(`ratio waybill/shell: ${(wbM / shM).toFixed(2)}x (target <= 1.2x)`)
    const kust = (bare: string) =>
      sh('git', ['--git-dir', bare, 'show', 'main:env/dev/kustomization.yaml'])
    if (kust(wbRepo) !== kust(shRepo))
      throw new Error('the two pipelines wrote different kustomizations')
  } finally {
    fs.rmSync(root, { recursive: true, force: true })
  }
}

main().catch((e) => {
  console.error(e)
  process.exitCode = 1
})
