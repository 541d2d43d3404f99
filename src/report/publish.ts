import crypto from 'node:crypto'
import type { CommandContext } from '../runtime/context.js'
import type { ProjectModel } from '../config/index.js'
import { gitTry } from '../git/git.js'
import { projectName } from '../pipeline/context.js'
import { openStateStore } from '../state/open.js'
import type { StateStore } from '../state/store.js'
import type { State } from '../state/types.js'
import { serializeState } from '../state/serialize.js'
import { renderStatusPage } from './status-page.js'
import type { DriftFinding } from '../pipeline/drift.js'

/** The state branch file GitHub Pages serves (Settings → Pages → branch waybill/state). */
export const STATUS_PAGE_FILE = 'index.html'

/** The state the page shows, hashed: the page is re-rendered only when the state changed. */
function pageFingerprint(model: ProjectModel, state: State, drift: DriftFinding[]): string {
  const config = [...model.stages.keys(), ...model.warehouses.keys()].join(',')
  const hash = crypto.createHash('sha256').update(config)
  if (drift.length) hash.update(JSON.stringify(drift))
  return hash.update(serializeState(state)).digest('hex').slice(0, 16)
}

/**
 * Writes the pipeline page to the state branch next to state.json, rendered from the state it is
 * committed with. A pipeline that has not changed since the page was rendered makes no commit:
 * the page carries a fingerprint of what it shows.
 */
export async function publishStatusPage(
  ctx: CommandContext,
  model: ProjectModel,
  store?: StateStore,
  opts: { drift?: DriftFinding[] } = {}
): Promise<boolean> {
  const drift = opts.drift ?? []
  const s = store ?? openStateStore(ctx)
  const project = projectName(ctx)
  await s.read({ cached: Boolean(store) })
  const tip = s.lastTip
  const current = tip
    ? await gitTry(['cat-file', 'blob', `${tip}:${STATUS_PAGE_FILE}`], { cwd: ctx.repoDir })
    : undefined
  const published =
    current?.code === 0 ? /<!-- waybill-page ([0-9a-f]+) -->/.exec(current.stdout)?.[1] : undefined
  const result = await s.update((draft) => {
    const fingerprint = pageFingerprint(model, draft, drift)
    if (fingerprint === published) return undefined
    const html = renderStatusPage({ model, state: draft, project, generatedAt: ctx.now(), drift })
    return {
      message: 'page: update index.html',
      files: {
        [STATUS_PAGE_FILE]: html.replace(
          /<\/html>\s*$/,
          `<!-- waybill-page ${fingerprint} -->\n</html>\n`
        )
      }
    }
  })
  return result.committed
}
