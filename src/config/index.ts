export { loadProject, loadProjectOrThrow, annotateProblems, suggestField } from './load.js'
export type { ProjectModel, Location } from './load.js'
export { formatProblem, problemText, sortProblems } from './problems.js'
export type { Problem } from './problems.js'
export {
  stageOrder,
  upstreamStages,
  downstreamStages,
  stagesRequestingOrigin,
  graphProblems
} from './graph.js'
export * from './schema.js'
