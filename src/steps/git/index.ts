import type { StepDefinition } from '../types.js'
import { gitClone } from './git-clone.js'
import { gitClear } from './git-clear.js'
import { gitCommit } from './git-commit.js'
import { gitTag } from './git-tag.js'
import { gitPush } from './git-push.js'
import { githubPush } from './github-push.js'
import { gitOpenPR } from './git-open-pr.js'
import { gitWaitForPR } from './git-wait-for-pr.js'
import { gitMergePR } from './git-merge-pr.js'

export {
  gitClone,
  gitClear,
  gitCommit,
  gitTag,
  gitPush,
  githubPush,
  gitOpenPR,
  gitWaitForPR,
  gitMergePR
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const gitSteps: StepDefinition<any>[] = [
  gitClone,
  gitClear,
  gitCommit,
  gitTag,
  gitPush,
  githubPush,
  gitOpenPR,
  gitWaitForPR,
  gitMergePR
]
