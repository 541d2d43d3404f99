/** The step catalogue: the registry, how steps are defined, and what they may reach. */
export { BUILTIN_STEPS, stepRegistry } from './registry.js'
export { defineStep, parseStepConfig, StepConfigError } from './define.js'
export { CAPABILITIES, grantCapabilities, type Capability } from './capabilities.js'
export { STEP_NAMES, unknownStepMessage } from './names.js'
export type * from './types.js'
