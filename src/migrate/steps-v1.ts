/**
 * Kargo 1.0-era step fields (deprecated in 1.1, removed in 1.3) rewritten into the expressions
 * that replaced them: `fromFreight` / `fromOrigin`, `messageFromSteps`, `sourceBranchFromStep`,
 * `prNumberFromStep`, `desiredCommitFromStep`, `useDigest`, and the `helm-update-image` step
 * (→ `yaml-update`).
 */
import { isMap, isSeq, Scalar, type YAMLMap } from 'yaml'
import { child, mapChild, plain, replacePair, seqItems, text } from './nodes.js'
import {
  chartFrom,
  commitFrom,
  imageFrom,
  imageValue,
  originArg,
  output,
  wrap
} from './expressions.js'
import type { MigrationTarget } from './types.js'

type Rewrite = (t: MigrationTarget, config: YAMLMap, step: YAMLMap) => string[]

/** Removes `fromOrigin` from a mapping, returning it as an expression argument. */
function takeOrigin(map: unknown, inherited?: string): string | undefined {
  if (!isMap(map)) return inherited
  const origin = originArg(plain(map.get('fromOrigin', true)))
  map.delete('fromOrigin')
  return origin ?? inherited
}

/** Puts `key: value` where `replacing` was (same place, its comments), or at the end. */
function setValue(
  t: MigrationTarget,
  map: YAMLMap,
  key: string,
  value: unknown,
  replacing?: string
): void {
  if (replacing && replacePair(t.doc, map, replacing, key, value)) return
  map.set(t.doc.createNode(key), t.doc.createNode(value))
}

const gitClone: Rewrite = (t, config) => {
  const done: string[] = []
  const repoURL = text(config, 'repoURL')
  for (const co of seqItems(config, 'checkout')) {
    if (!isMap(co)) continue
    const hadOrigin = co.has('fromOrigin')
    const hadFreight = co.has('fromFreight')
    const fromFreight = text(co, 'fromFreight') === 'true'
    if (!hadFreight && !hadOrigin) continue
    const origin = originArg(plain(co.get('fromOrigin', true)))
    const old = hadFreight ? 'fromFreight' : 'fromOrigin'
    if ((fromFreight || hadOrigin) && repoURL && !co.has('commit')) {
      setValue(t, co, 'commit', wrap(`${commitFrom(repoURL, origin)}.ID`), old)
      done.push('checkout fromFreight → commit: ${{ commitFrom(…).ID }}')
    } else done.push('checkout fromFreight: false removed')
    co.delete('fromFreight')
    co.delete('fromOrigin')
  }
  return done
}

const gitCommit: Rewrite = (t, config) => {
  const from = seqItems(config, 'messageFromSteps')
    .map((a) => (a instanceof Scalar ? String(a.value) : undefined))
    .filter((a): a is string => !!a)
  if (!config.has('messageFromSteps')) return []
  if (from.length === 0 || config.has('message')) {
    config.delete('messageFromSteps')
    return ['messageFromSteps removed']
  }
  const expr =
    from.length === 1
      ? output(from[0], 'commitMessage')
      : `join([${from.map((a) => output(a, 'commitMessage')).join(', ')}], "\\n")`
  setValue(t, config, 'message', wrap(expr), 'messageFromSteps')
  return ['messageFromSteps → message']
}

function fromStep(field: string, target: string, key: string): Rewrite {
  return (t, config) => {
    const alias = text(config, field)
    if (!config.has(field)) return []
    if (!alias || config.has(target)) {
      config.delete(field)
      return [`${field} removed`]
    }
    setValue(t, config, target, wrap(output(alias, key)), field)
    return [`${field} → ${target}`]
  }
}

/** `images[]` of kustomize-set-image (and argocd-update's kustomize sources): useDigest / fromOrigin. */
function kustomizeImages(
  t: MigrationTarget,
  images: unknown[],
  imageKey: string,
  inherited?: string
): string[] {
  const done: string[] = []
  for (const img of images) {
    if (!isMap(img)) continue
    const hadOrigin = img.has('fromOrigin')
    const useDigest = text(img, 'useDigest')
    if (useDigest === undefined && !hadOrigin && inherited === undefined) continue
    const origin = originArg(plain(img.get('fromOrigin', true))) ?? inherited
    const old = useDigest !== undefined ? 'useDigest' : hadOrigin ? 'fromOrigin' : undefined
    const image = text(img, imageKey)
    const pinned = img.has('tag') || img.has('digest')
    if (image && !pinned && useDigest === 'true') {
      setValue(t, img, 'digest', wrap(`${imageFrom(image, origin)}.Digest`), old)
      done.push('useDigest → digest expression')
    } else if (image && !pinned && origin) {
      setValue(t, img, 'tag', wrap(`${imageFrom(image, origin)}.Tag`), old)
      done.push('fromOrigin → tag expression')
    } else done.push(`${old ?? 'fromOrigin'} removed`)
    img.delete('useDigest')
    img.delete('fromOrigin')
  }
  return done
}

const kustomizeSetImage: Rewrite = (t, config) =>
  kustomizeImages(t, seqItems(config, 'images'), 'image', takeOrigin(config))

const helmUpdateChart: Rewrite = (t, config) => {
  const done: string[] = []
  const inherited = takeOrigin(config)
  for (const c of seqItems(config, 'charts')) {
    if (!isMap(c)) continue
    const origin = takeOrigin(c, inherited)
    const repository = text(c, 'repository')
    if (c.has('version') || !repository) continue
    setValue(t, c, 'version', wrap(`${chartFrom(repository, text(c, 'name'), origin)}.Version`))
    done.push('chart version from Freight → version: ${{ chartFrom(…).Version }}')
  }
  return done
}

/** helm-update-image was removed in Kargo 1.3: the same updates as yaml-update. */
const helmUpdateImage: Rewrite = (t, config, step) => {
  const inherited = takeOrigin(config)
  const updates: Record<string, unknown>[] = []
  for (const img of seqItems(config, 'images')) {
    const image = text(img, 'image')
    const key = text(img, 'key')
    const value = image && imageValue(text(img, 'value') ?? '', image, takeOrigin(img, inherited))
    if (!key || !value) {
      t.note(
        'warning',
        'helm-update-image image needs image, key and a value of Tag, Digest, ImageAndTag or ImageAndDigest',
        img
      )
      continue
    }
    updates.push({ key, value })
  }
  step.set('uses', 'yaml-update')
  setValue(t, config, 'updates', updates, 'images')
  return ['helm-update-image → yaml-update']
}

const argocdUpdate: Rewrite = (t, config) => {
  const done: string[] = []
  const top = takeOrigin(config)
  for (const app of seqItems(config, 'apps')) {
    const appOrigin = takeOrigin(app, top)
    for (const src of seqItems(app, 'sources')) {
      if (!isMap(src)) continue
      const origin = takeOrigin(src, appOrigin)
      done.push(...fromStep('desiredCommitFromStep', 'desiredRevision', 'commit')(t, src, src))
      const kustomize = mapChild(src, 'kustomize')
      if (kustomize)
        done.push(
          ...kustomizeImages(
            t,
            seqItems(kustomize, 'images'),
            'repoURL',
            takeOrigin(kustomize, origin)
          )
        )
      const helm = mapChild(src, 'helm')
      if (!helm) continue
      const hOrigin = takeOrigin(helm, origin)
      for (const img of seqItems(helm, 'images')) {
        if (!isMap(img)) continue
        const io = takeOrigin(img, hOrigin)
        const image = text(img, 'repoURL')
        if (!image) continue
        const value = imageValue(text(img, 'value') ?? '', image, io)
        img.delete('repoURL')
        if (value) {
          setValue(t, img, 'value', value)
          done.push('helm image repoURL + value kind → value expression')
        }
      }
    }
  }
  return done
}

const REWRITES: Record<string, Rewrite> = {
  'git-clone': gitClone,
  'git-commit': gitCommit,
  'git-open-pr': fromStep('sourceBranchFromStep', 'sourceBranch', 'branch'),
  'git-wait-for-pr': fromStep('prNumberFromStep', 'prNumber', 'pr.id'),
  'argocd-update': argocdUpdate,
  'kustomize-set-image': kustomizeSetImage,
  'helm-update-chart': helmUpdateChart,
  'helm-update-image': helmUpdateImage
}

/** The steps of a resource: a Stage's promotionTemplate, a (Cluster)PromotionTask's spec. */
function stepsOf(t: MigrationTarget): unknown[] {
  const spec = child(t.doc.contents, 'spec')
  const steps =
    t.kind === 'Stage'
      ? child(child(child(spec, 'promotionTemplate'), 'spec'), 'steps')
      : child(spec, 'steps')
  return isSeq(steps) ? steps.items : []
}

export function migrateStepsV1(t: MigrationTarget): void {
  for (const step of stepsOf(t)) {
    if (!isMap(step)) continue
    const uses = text(step, 'uses')
    const config = mapChild(step, 'config')
    const rewrite = uses && REWRITES[uses]
    if (!rewrite || !config) continue
    const where = step.get('config', true)
    const done = rewrite(t, config, step)
    if (done.length === 0) continue
    const alias = text(step, 'as')
    t.note(
      'change',
      `${uses}${alias ? ` (${alias})` : ''}: ${[...new Set(done)].join('; ')}`,
      where
    )
  }
}
