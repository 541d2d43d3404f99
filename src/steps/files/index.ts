import type { StepDefinition } from '../types.js'
import { kustomizeSetImage } from './kustomize-set-image.js'
import { kustomizeBuild } from './kustomize-build.js'
import { helmTemplate } from './helm-template.js'
import { helmUpdateChart } from './helm-update-chart.js'
import { jsonUpdate, tomlUpdate, yamlUpdate } from './update.js'
import { jsonParse, tomlParse, yamlParse } from './parse.js'
import { copy, del, fileWrite, yamlMerge } from './fs-steps.js'
import { tar, untar } from './tar.js'
import { httpDownload } from './http-download.js'

/** Manifest/config mutation and rendering steps (Kargo's names and configs). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const filesSteps: StepDefinition<any>[] = [
  kustomizeSetImage,
  kustomizeBuild,
  helmTemplate,
  helmUpdateChart,
  yamlUpdate,
  jsonUpdate,
  tomlUpdate,
  yamlParse,
  jsonParse,
  tomlParse,
  yamlMerge,
  copy,
  del,
  fileWrite,
  tar,
  untar,
  httpDownload
]
