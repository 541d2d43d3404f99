/**
 * The fields of a Kargo Git subscription that discovery reads (pkg/subscription/schemas/git.json).
 * The config schema's GitSubscription (defaults applied) is assignable to it.
 */
export type CommitSelectionStrategy = 'NewestFromBranch' | 'SemVer' | 'Lexical' | 'NewestTag'

export interface GitSubscriptionSpec {
  repoURL: string
  commitSelectionStrategy?: CommitSelectionStrategy
  branch?: string
  strictSemvers?: boolean
  semverConstraint?: string
  allowTags?: string
  allowTagsRegexes?: string[]
  ignoreTags?: string[]
  ignoreTagsRegexes?: string[]
  expressionFilter?: string
  insecureSkipTLSVerify?: boolean
  blobless?: boolean
  includePaths?: string[]
  excludePaths?: string[]
  discoveryLimit?: number
  since?: string
}
