import type { StepDefinition } from './types.js'
import { gitSteps } from './git/index.js'
import { filesSteps } from './files/index.js'
import { argocdSteps } from './argocd/index.js'
import { controlSteps } from './control/index.js'
import { ociSteps } from './oci/index.js'

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const all: StepDefinition<any>[] = [
  ...gitSteps,
  ...filesSteps,
  ...argocdSteps,
  ...controlSteps,
  ...ociSteps
]

/** The step registry: every built-in step by its Kargo name. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const stepRegistry: ReadonlyMap<string, StepDefinition<any>> = new Map(
  all.map((s) => [s.name, s])
)
