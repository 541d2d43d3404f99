import { githubError, httpStatus } from '../../integrations/github.js'
import type { GitHubRepo } from '../../integrations/repo-url.js'
import { ConfigFieldError, WaybillError } from '../../util/errors.js'
import { redact } from '../../util/logger.js'

/** The GitHub permission a GitHub Actions call needs, for the 403 hint. */
export type ActionsPermission = 'actions: write' | 'actions: read'

/**
 * A GitHub Actions API error: 403 names the permission the workflow's token lacks, 404 the
 * config field that points at something missing; everything else as githubError says it.
 */
export function actionsError(
  err: unknown,
  opts: {
    step: string
    what: string
    repo: GitHubRepo
    permission: ActionsPermission
    /** The field that names what a 404 did not find. */
    notFoundField: string
  }
): WaybillError {
  const status = httpStatus(err)
  const where = `${opts.repo.owner}/${opts.repo.repo}`
  const raw = redact(err instanceof Error ? err.message : String(err))
  if (status === 403 && !/rate limit/i.test(raw))
    return new ConfigFieldError(
      `${opts.step}.repoURL`,
      `GitHub refused ${opts.what} in ${where} (HTTP 403): ${raw}`,
      `the workflow's token needs permissions: { ${opts.permission} } on ${where} (a GitHub App needs the Actions permission; GITHUB_TOKEN reaches only the repository the workflow runs in)`
    )
  if (status === 404)
    return new ConfigFieldError(
      `${opts.step}.${opts.notFoundField}`,
      `${opts.what} in ${where} failed (HTTP 404): not found`,
      `check ${opts.notFoundField} and that the token can see ${where} (permissions: { ${opts.permission} })`
    )
  return githubError(err, opts.what, opts.repo)
}
