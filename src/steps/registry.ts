import type { AnyStepDefinition } from './types.js'
import { argocdUpdateStep } from './argocd/argocd-update.js'
import { argocdWaitStep } from './argocd/argocd-wait.js'
import { getUserInput } from './approval/get-user-input.js'
import { waitForApproval } from './approval/wait-for-approval.js'
import { composeOutputStep } from './control/compose-output.js'
import { failStep } from './control/fail.js'
import { httpStep } from './control/http.js'
import { setFreightAliasStep } from './control/set-freight-alias.js'
import { setMetadataStep } from './control/set-metadata.js'
import { copy } from './files/copy.js'
import { del } from './files/delete.js'
import { fileWrite } from './files/file-write.js'
import { helmTemplate } from './files/helm-template.js'
import { helmUpdateChart } from './files/helm-update-chart.js'
import { httpDownload } from './files/http-download.js'
import { jsonParse } from './files/json-parse.js'
import { jsonUpdate } from './files/json-update.js'
import { kustomizeBuild } from './files/kustomize-build.js'
import { kustomizeSetImage } from './files/kustomize-set-image.js'
import { tar } from './files/tar.js'
import { tomlParse } from './files/toml-parse.js'
import { tomlUpdate } from './files/toml-update.js'
import { untar } from './files/untar.js'
import { yamlMerge } from './files/yaml-merge.js'
import { yamlParse } from './files/yaml-parse.js'
import { yamlUpdate } from './files/yaml-update.js'
import { gitClear } from './git/git-clear.js'
import { gitClone } from './git/git-clone.js'
import { gitCommit } from './git/git-commit.js'
import { gitMergePR } from './git/git-merge-pr.js'
import { gitOpenPR } from './git/git-open-pr.js'
import { gitPush } from './git/git-push.js'
import { gitTag } from './git/git-tag.js'
import { gitWaitForPR } from './git/git-wait-for-pr.js'
import { githubPush } from './git/github-push.js'
import { ghaDispatchWorkflow } from './github/gha-dispatch-workflow.js'
import { ghaWaitForWorkflow } from './github/gha-wait-for-workflow.js'
import { sendMessage } from './messaging/send-message.js'
import { ociDownload } from './oci/oci-download.js'
import { ociPush } from './oci/oci-push.js'

/** Every built-in step, in the order docs list them. Adding a step: one file, one line here. */
export const BUILTIN_STEPS: readonly AnyStepDefinition[] = [
  // git
  gitClone,
  gitClear,
  gitCommit,
  gitPush,
  gitTag,
  gitOpenPR,
  gitWaitForPR,
  gitMergePR,
  githubPush,
  // manifests and files
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
  httpDownload,
  // artifacts
  ociDownload,
  ociPush,
  // Argo CD
  argocdUpdateStep,
  argocdWaitStep,
  // GitHub Actions
  ghaDispatchWorkflow,
  ghaWaitForWorkflow,
  // approvals and input
  waitForApproval,
  getUserInput,
  // messages
  sendMessage,
  // control
  httpStep,
  composeOutputStep,
  setMetadataStep,
  setFreightAliasStep,
  failStep
]

function byName(steps: readonly AnyStepDefinition[]): ReadonlyMap<string, AnyStepDefinition> {
  const map = new Map<string, AnyStepDefinition>()
  for (const s of steps) {
    if (map.has(s.name)) throw new Error(`step '${s.name}' is registered twice`)
    map.set(s.name, s)
  }
  return map
}

/** The step registry: every built-in step by its Kargo name. */
export const stepRegistry: ReadonlyMap<string, AnyStepDefinition> = byName(BUILTIN_STEPS)
