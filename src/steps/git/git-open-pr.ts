import { z } from 'zod'
import { defineStep } from '../define.js'
import type { StepContext, StepResult } from '../types.js'
import type { Freight } from '../../freight/types.js'
import { WaybillError } from '../../util/errors.js'
import { redact } from '../../util/logger.js'
import {
  addLabels,
  commitSubjects,
  createPullRequest,
  findPullRequest,
  getBranchHead,
  githubError
} from '../../integrations/github.js'
import { providerSchema, repoUrlSchema } from './common.js'
import { repoStoreDir } from './git-clone.js'
import { changedFiles, manifestSummary } from './changed-manifests.js'

const schema = z.strictObject({
  repoURL: repoUrlSchema,
  sourceBranch: z.string().min(1),
  targetBranch: z.string().min(1),
  title: z.string().min(1).optional(),
  description: z.string().min(1).optional(),
  labels: z.array(z.string().min(1)).optional(),
  provider: providerSchema.optional(),
  insecureSkipTLSVerify: z.boolean().optional(),
  /** Deprecated in Kargo; a no-op. */
  createTargetBranch: z.boolean().optional()
})
export type GitOpenPRConfig = z.infer<typeof schema>

function freightLines(f: Freight): string[] {
  const lines = [
    `- **${f.alias}** (\`${f.name}\`, from ${f.origin.kind.toLowerCase()} \`${f.origin.name}\`)`
  ]
  for (const i of f.images)
    lines.push(`  - image \`${i.repoURL}:${i.tag}\`${i.digest ? ` (\`${i.digest}\`)` : ''}`)
  for (const c of f.commits)
    lines.push(
      `  - commit \`${c.repoURL}\` @ \`${c.id.slice(0, 12)}\`${c.tag ? ` (tag \`${c.tag}\`)` : c.branch ? ` (branch \`${c.branch}\`)` : ''}${c.message ? `: ${c.message}` : ''}`
    )
  for (const ch of f.charts)
    lines.push(
      `  - chart \`${ch.repoURL}${ch.name ? `/${ch.name}` : ''}\` version \`${ch.version}\``
    )
  return lines
}

/**
 * The generated PR body: the freight being promoted, the commits the PR brings and, for rendered
 * configs, the manifests it adds, modifies and deletes (`manifests`: from manifestSummary).
 */
export function pullRequestBody(
  ctx: StepContext,
  subjects: string[],
  manifests: string[] = []
): string {
  const target = ctx.targetFreight
  const others = ctx.freight.filter((f) => f.name !== target.name)
  const out = [
    `Waybill promotion \`${ctx.promotion}\` of freight **${target.alias}** to stage \`${ctx.stage}\`` +
      (ctx.actor ? `, requested by @${ctx.actor}` : '') +
      '.',
    '',
    '### Freight',
    ...freightLines(target)
  ]
  if (others.length) out.push('', 'Also deployed (other origins):', ...others.flatMap(freightLines))
  if (subjects.length) {
    out.push('', '### Commits')
    for (const s of subjects.slice(-50)) out.push(`- ${s}`)
    if (subjects.length > 50) out.push(`- … and ${subjects.length - 50} earlier commits`)
  }
  out.push(...manifests)
  return redact(out.join('\n'))
}

/**
 * Opens a pull request from sourceBranch into targetBranch, or reuses one: an open PR for the
 * same head and base, or a merged one whose head is the source branch's current commit (so
 * a re-run after the merge does not open an empty PR).
 */
export const gitOpenPR = defineStep({
  name: 'git-open-pr',
  schema,
  capabilities: ['github', 'gitCredentials'],
  async run(cfg, ctx): Promise<StepResult> {
    const repo = ctx.caps.github.repo(cfg.repoURL, cfg.provider)
    const gh = ctx.caps.github.client(repo)
    const where = `${repo.owner}/${repo.repo}`
    try {
      const sourceHead = await getBranchHead(gh, repo, cfg.sourceBranch)
      if (!sourceHead)
        throw new WaybillError(
          `sourceBranch '${cfg.sourceBranch}' does not exist in ${where}`,
          'push it first (git-push) or check the branch name'
        )
      const targetHead = await getBranchHead(gh, repo, cfg.targetBranch)
      if (!targetHead)
        throw new WaybillError(`targetBranch '${cfg.targetBranch}' does not exist in ${where}`)
      const existing = await findPullRequest(gh, repo, {
        head: cfg.sourceBranch,
        base: cfg.targetBranch,
        state: 'all'
      })
      const reuse =
        existing.find((p) => p.state === 'open') ??
        existing.find((p) => p.merged_at && p.head.sha === sourceHead)
      let number: number
      let url: string
      if (reuse) {
        number = reuse.number
        url = reuse.html_url
        ctx.logger.info(
          `Reusing ${reuse.state === 'open' ? 'open' : 'merged'} pull request #${number}: ${url}`
        )
      } else {
        const subjects = cfg.description
          ? []
          : await commitSubjects(gh, repo, cfg.targetBranch, cfg.sourceBranch)
        // Rendered configs: what the PR changes, from the clone git-clone made of this repository.
        const files = cfg.description
          ? undefined
          : await changedFiles(
              repoStoreDir(ctx.workDir, cfg.repoURL),
              { branch: cfg.targetBranch, sha: targetHead },
              { branch: cfg.sourceBranch, sha: sourceHead },
              ctx.caps.gitCredentials(cfg.repoURL)
            )
        const aliases =
          ctx.freight.length > 1
            ? ctx.freight.map((f) => f.alias).join(', ')
            : ctx.targetFreight.alias
        const pr = await createPullRequest(gh, repo, {
          head: cfg.sourceBranch,
          base: cfg.targetBranch,
          title: redact(cfg.title ?? `Promote ${aliases} to ${ctx.stage}`),
          body: cfg.description
            ? redact(cfg.description)
            : pullRequestBody(ctx, subjects, manifestSummary(files ?? []))
        })
        number = pr.number
        url = pr.html_url
        ctx.logger.info(`Opened pull request #${number}: ${url}`)
      }
      if (cfg.labels?.length) await addLabels(gh, repo, number, cfg.labels)
      // `prNumber` is Kargo's older output, still emitted by Kargo and used by its examples
      // (kargo-simple: `prNumber: ${{ task.outputs['open-pr'].prNumber }}`).
      return { status: 'Succeeded', outputs: { pr: { id: number, url }, prNumber: number } }
    } catch (err) {
      if (err instanceof WaybillError) throw err
      throw githubError(
        err,
        `opening a pull request ${cfg.sourceBranch} → ${cfg.targetBranch}`,
        repo
      )
    }
  }
})
