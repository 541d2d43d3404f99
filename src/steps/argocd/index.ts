import type { StepDefinition } from '../types.js'
import { argocdUpdateStep } from './argocd-update.js'
import { argocdWaitStep } from './argocd-wait.js'

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const argocdSteps: StepDefinition<any>[] = [argocdUpdateStep, argocdWaitStep]
