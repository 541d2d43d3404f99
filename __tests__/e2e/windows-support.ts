import { stageYaml, gitWarehouseYaml } from '../support/resources.js'

/**
 * A Git-only pipeline for promotion windows and auto-rollback: freight is commits of acme/app;
 * each stage writes the commit to its stage branch of acme/gitops. A commit whose message is
 * `bad` makes the promotion fail (a `fail` step), before anything is pushed.
 */
export function gitPipeline(opts: {
  stages: Array<{ name: string; sources: string }>
  projectConfig: string
}): Record<string, string> {
  return {
    '.waybill/warehouse.yaml': gitWarehouseYaml('app', 'https://github.com/acme/app.git'),
    '.waybill/task.yaml': `apiVersion: kargo.akuity.io/v1alpha1
kind: PromotionTask
metadata:
  name: deploy
spec:
  steps:
    - uses: git-clone
      config:
        repoURL: https://github.com/acme/gitops.git
        checkout:
          - branch: stage/\${{ ctx.stage }}
            create: true
            path: ./out
    - uses: fail
      if: \${{ commitFrom('https://github.com/acme/app.git').Message == 'bad' }}
      config:
        message: refusing to deploy a bad commit
    - uses: file-write
      config:
        path: ./out/version.txt
        overwrite: true
        contents: \${{ commitFrom('https://github.com/acme/app.git').ID }}
    - uses: git-commit
      config:
        path: ./out
        message: deploy \${{ commitFrom('https://github.com/acme/app.git').ID }}
    - uses: git-push
      config:
        path: ./out
        targetBranch: stage/\${{ ctx.stage }}
`,
    '.waybill/stages.yaml': opts.stages
      .map((s) => stageYaml(s.name, { warehouse: 'app', sources: s.sources, task: 'deploy' }))
      .join('---\n'),
    '.waybill/project-config.yaml': opts.projectConfig
  }
}

/** An iCal UTC date-time (20260101T090000Z) for a clock value. */
export function icalUtc(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '')
}
