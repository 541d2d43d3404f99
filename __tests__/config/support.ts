import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { loadProject, formatProblem, type Problem } from '../../src/config/index.js'

/** A valid project the malformed cases add to: warehouse app, stage dev, PromotionTask deploy. */
export const BASE = `apiVersion: kargo.akuity.io/v1alpha1
kind: Warehouse
metadata:
  name: app
spec:
  subscriptions:
  - image:
      repoURL: ghcr.io/acme/app
---
apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata:
  name: dev
spec:
  requestedFreight:
  - origin:
      kind: Warehouse
      name: app
    sources:
      direct: true
  promotionTemplate:
    spec:
      steps:
      - task:
          name: deploy
---
apiVersion: kargo.akuity.io/v1alpha1
kind: PromotionTask
metadata:
  name: deploy
spec:
  vars:
  - name: repo
    value: https://github.com/acme/deploy.git
  steps:
  - uses: git-clone
    config:
      repoURL: \${{ vars.repo }}
      checkout:
      - branch: main
        path: ./src
`

/** Writes files under <tmp>/.waybill and returns the repo dir. */
export function writeProject(files: Record<string, string>): string {
  const repo = fs.mkdtempSync(path.join(os.tmpdir(), 'waybill-config-'))
  for (const [name, text] of Object.entries(files)) {
    const file = path.join(repo, '.waybill', name)
    fs.mkdirSync(path.dirname(file), { recursive: true })
    fs.writeFileSync(file, text)
  }
  return repo
}

export async function load(files: Record<string, string>) {
  const repo = writeProject(files)
  try {
    return await loadProject(repo, '.waybill')
  } finally {
    fs.rmSync(repo, { recursive: true, force: true })
  }
}

/** Formatted problems of one severity, without hints. */
export function lines(problems: Problem[], severity: Problem['severity'] = 'error'): string[] {
  return problems
    .filter((p) => p.severity === severity)
    .map((p) => formatProblem({ ...p, hint: undefined }))
}
