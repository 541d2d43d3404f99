import type { StepDefinition } from '../../types.js'
import { gitClone } from './git-clone.js'
import { gitClear } from './git-clear.js'
import { gitCommit } from './git-commit.js'
import { gitTag } from './git-tag.js'
import { gitPush } from './git-push.js'

export { gitClone, gitClear, gitCommit, gitTag, gitPush }

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const gitSteps: StepDefinition<any>[] = [gitClone, gitClear, gitCommit, gitTag, gitPush]
