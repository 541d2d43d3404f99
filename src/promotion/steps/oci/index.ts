import type { StepDefinition } from '../../types.js'

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const ociSteps: StepDefinition<any>[] = []
