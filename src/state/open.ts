import type { CommandContext } from '../runtime/context.js'
import { credentialsForUrl } from '../runtime/services.js'
import { StateStore } from './store.js'

/**
 * The state store of a command: the state branch (`ctx.stateBranch`) of `ctx.remote`, objects in
 * the working copy `ctx.repoDir`, Git credentials picked for the remote's URL from ctx.services.
 */
export function openStateStore(ctx: CommandContext): StateStore {
  return new StateStore({
    repoDir: ctx.repoDir,
    remote: ctx.remote,
    branch: ctx.stateBranch,
    logger: ctx.logger,
    author: ctx.services.gitIdentity?.author,
    committer: ctx.services.gitIdentity?.committer,
    credentialsForUrl: (url) => credentialsForUrl(ctx.services, url)
  })
}
