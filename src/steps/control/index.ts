import type { StepDefinition } from '../types.js'
import { httpStep } from './http.js'
import { composeOutputStep, failStep, setFreightAliasStep, setMetadataStep } from './simple.js'

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const controlSteps: StepDefinition<any>[] = [
  httpStep,
  composeOutputStep,
  setMetadataStep,
  setFreightAliasStep,
  failStep
]
