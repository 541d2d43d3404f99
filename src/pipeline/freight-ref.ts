import type { Stage } from '../config/index.js'
import type { Freight } from '../freight/types.js'
import { originKey } from '../freight/types.js'
import type { State } from '../state/types.js'
import { UsageError, WaybillError } from '../util/errors.js'
import { availableFreight, compareNewestFirst, freightRequests } from './availability.js'
import { findFreight } from './promotions.js'

export interface FreightRefOptions {
  /** With "latest" on a multi-warehouse stage: which origin. */
  warehouse?: string
  now: Date
  /**
   * What "latest" means: the newest freight already available to the stage (promote), or the
   * newest freight of the origin whether or not it is available yet (approve: approving is how
   * freight becomes available without passing the upstream stages).
   */
  latest: 'available' | 'origin'
}

/** Resolves a freight reference (ID, alias, ID prefix or `latest`) for a stage. */
export function resolveFreightRef(
  state: State,
  stageName: string,
  stage: Stage,
  ref: string,
  opts: FreightRefOptions
): Freight {
  if (ref !== 'latest') {
    const freight = findFreight(state, ref)
    if (!freight)
      throw new WaybillError(
        `freight '${ref}' does not exist`,
        'use an ID, an alias, an ID prefix or "latest" (see waybill status)'
      )
    return freight
  }
  const all = freightRequests(stage)
  const reqs = all.filter((r) => !opts.warehouse || r.origin.name === opts.warehouse)
  if (reqs.length !== 1)
    throw new UsageError(
      opts.warehouse
        ? `stage '${stageName}' does not take freight from warehouse ${opts.warehouse} (it takes freight from ${all.map((r) => r.origin.name).join(', ')})`
        : `stage '${stageName}' takes freight from ${all.map((r) => r.origin.name).join(', ')}: pass --warehouse with --freight latest`
    )
  const origin = reqs[0].origin
  const freight =
    opts.latest === 'available'
      ? availableFreight(state, stageName, stage, origin, opts.now)[0]
      : Object.values(state.freight)
          .filter((f) => originKey(f.origin) === originKey(origin))
          .sort(compareNewestFirst)[0]
  if (!freight)
    throw new WaybillError(
      opts.latest === 'available'
        ? `no freight from ${origin.name} is available to ${stageName} yet`
        : `warehouse ${origin.name} has no freight yet`,
      opts.latest === 'available'
        ? 'run discovery, or promote and verify it upstream first'
        : 'run discovery first (waybill discover)'
    )
  return freight
}
