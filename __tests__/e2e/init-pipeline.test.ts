import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import fs from 'node:fs'
import path from 'node:path'
import { World, currentAlias, freightByImageTag } from './harness.js'
import { gitIn } from '../support/git.js'
import { hasDockerRegistry, skipReason } from '../support/registry.js'

const d = hasDockerRegistry ? describe : describe.skip
if (!hasDockerRegistry) console.warn(skipReason)

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  selector: { matchLabels: { app: app } }
  template:
    metadata: { labels: { app: app } }
    spec:
      containers:
        - name: app
          image: ghcr.io/acme/app:0.0.0
`

const CHART = {
  'Chart.yaml': 'apiVersion: v2\nname: app\nversion: 0.1.0\n',
  'templates/deployment.yaml':
    'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"\n',
  'values.yaml': 'image:\n  repository: ghcr.io/acme/app\n  tag: 0.0.0\n'
}

const kustomizeLayout = (stages: string[]) => ({
  'base/kustomization.yaml': 'resources:\n  - deployment.yaml\n',
  'base/deployment.yaml': DEPLOYMENT,
  ...Object.fromEntries(
    stages.map((s) => [
      `stages/${s}/kustomization.yaml`,
      `namespace: app-${s}\nresources:\n  - ../../base\n`
    ])
  )
})

const helmLayout = (stages: string[]) => ({
  ...CHART,
  ...Object.fromEntries(
    stages.map((s) => [`stages/${s}/values.yaml`, `image:\n  tag: 0.0.0\nstage: ${s}\n`])
  )
})

/** `waybill init` is only worth something if what it writes runs: generate, commit, promote. */
d('waybill init output runs as generated', () => {
  let world: World
  beforeAll(async () => {
    world = await World.start({ registry: true })
  })
  afterAll(() => world?.close())

  it.each([
    ['kustomize', kustomizeLayout],
    ['helm', helmLayout]
  ] as const)(
    'image-updater with a %s layout: test and uat follow new tags, prod waits',
    async (layout, files) => {
      const stages = ['test', 'uat', 'prod']
      const repo = world.repo(`init-${layout}`, files(stages))
      const init = await world.run(repo, 'init', {
        pattern: 'image-updater',
        image: 'ghcr.io/acme/app',
        'git-repo': `https://github.com/acme/init-${layout}.git`,
        stages: stages.join(','),
        layout
      })
      expect(init.exitCode).toBe(0)
      // Commit what init wrote, with the example URLs pointed at the local servers.
      const generated: Record<string, string> = {}
      for (const dir of ['.waybill', '.github/workflows'])
        for (const f of fs.readdirSync(path.join(repo.work, dir)))
          generated[`${dir}/${f}`] = fs.readFileSync(path.join(repo.work, dir, f), 'utf8')
      world.commit(repo, generated, 'waybill init')
      expect(gitIn(repo.work, 'status', '--porcelain')).toBe('')

      expect((await world.run(repo, 'validate')).exitCode).toBe(0)
      await world.pushImage('acme/app', '1.0.0')
      const res = await world.run(repo, 'reconcile')
      expect(res.exitCode).toBe(0)
      const state = await world.state(repo)
      const f = freightByImageTag(state, '1.0.0')!
      expect(currentAlias(state, 'test')).toBe(f.alias)
      expect(currentAlias(state, 'uat')).toBe(f.alias)
      expect(currentAlias(state, 'prod')).toBeUndefined()
      const rendered = world.file(repo, 'stage/uat', 'manifests.yaml')!
      expect(rendered).toContain(`${world.registry!.host}/acme/app:1.0.0`)
      expect((await world.run(repo, 'promote', { stage: 'prod', freight: f.alias })).exitCode).toBe(
        0
      )
      expect(world.file(repo, 'stage/prod', 'manifests.yaml')).toContain(':1.0.0')
    }
  )
})
