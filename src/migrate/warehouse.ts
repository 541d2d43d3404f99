/**
 * Deprecated Warehouse subscription fields rewritten into their replacements: image
 * `semverConstraint` (removed in Kargo 1.9) → `constraint`; `allowTags` / `ignoreTags` (image and
 * git; discovery fails on them since 1.11) → `allowTagsRegexes` / `ignoreTagsRegexes`; image
 * `gitRepoURL` (removed in 1.7; the source repository now comes from OCI annotations) dropped.
 */
import { isMap, isSeq, type YAMLMap } from 'yaml'
import { child, replacePair, scalarText, seqItems, text } from './nodes.js'
import type { MigrationTarget } from './types.js'

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

function tagFilters(t: MigrationTarget, sub: YAMLMap, done: string[]): void {
  const allow = text(sub, 'allowTags')
  if (sub.has('allowTags')) {
    if (sub.has('allowTagsRegexes') || !allow) sub.delete('allowTags')
    else replacePair(t.doc, sub, 'allowTags', 'allowTagsRegexes', [allow])
    done.push('allowTags → allowTagsRegexes')
  }
  const ignore = child(sub, 'ignoreTags')
  if (ignore !== undefined) {
    const tags = (isSeq(ignore) ? ignore.items : [ignore])
      .map(scalarText)
      .filter((x): x is string => x !== undefined)
    // ignoreTags matched exact tags; the regex form anchors them.
    if (sub.has('ignoreTagsRegexes') || tags.length === 0) sub.delete('ignoreTags')
    else {
      const regexes = t.doc.createNode(tags.map((x) => `^${escapeRegex(x)}$`))
      regexes.flow = isSeq(ignore) && ignore.flow === true
      replacePair(t.doc, sub, 'ignoreTags', 'ignoreTagsRegexes', regexes)
    }
    done.push('ignoreTags → ignoreTagsRegexes')
  }
}

export function migrateWarehouse(t: MigrationTarget): void {
  for (const s of seqItems(child(t.doc.contents, 'spec'), 'subscriptions')) {
    const done: string[] = []
    const image = child(s, 'image')
    if (isMap(image)) {
      if (image.has('semverConstraint')) {
        if (image.has('constraint')) image.delete('semverConstraint')
        else
          replacePair(
            t.doc,
            image,
            'semverConstraint',
            'constraint',
            child(image, 'semverConstraint')
          )
        done.push('semverConstraint → constraint')
      }
      if (image.delete('gitRepoURL'))
        done.push('gitRepoURL removed (Kargo reads it from OCI annotations)')
      tagFilters(t, image, done)
    }
    const git = child(s, 'git')
    if (isMap(git)) tagFilters(t, git, done)
    if (done.length) {
      const repo = text(image, 'repoURL') ?? text(git, 'repoURL') ?? 'subscription'
      t.note('change', `${repo}: ${done.join('; ')}`, image ?? git)
    }
  }
}
