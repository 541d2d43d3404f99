import fs from 'node:fs'
import path from 'node:path'
import { isMap, isScalar, isSeq, parseDocument, YAMLMap, YAMLSeq, type Document } from 'yaml'
import { z } from 'zod'
import { defineStep } from '../define.js'
import type { Freight, Image } from '../../freight/types.js'
import { ConfigFieldError, WaybillError } from '../../util/errors.js'
import { readFileNoFollow, reresolve } from '../../util/fs-confined.js'
import { commitMessage, nonEmpty, stepPath, succeeded, writeFileAtomic } from './common.js'
import { scalarText } from '../../util/text.js'

const STEP = 'kustomize-set-image'

const imageSchema = z
  .strictObject({
    image: nonEmpty,
    tag: z.string().nullish(),
    digest: z.string().nullish(),
    name: z.string().optional(),
    newName: z.string().optional()
  })
  .refine((i) => !(i.tag && i.digest), {
    message: "'tag' and 'digest' are mutually exclusive",
    path: ['tag']
  })

const schema = z.strictObject({
  path: nonEmpty,
  images: z.array(imageSchema).optional()
})

export type KustomizeSetImageConfig = z.output<typeof schema>

/** An entry of a Kustomization's `images` field. */
export interface KustomizeImage {
  name: string
  newName?: string
  newTag?: string
  digest?: string
}

const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization']

/** The Kustomization file in a directory (exactly one of Kustomize's recognized names). */
export function findKustomization(dir: string, field: string, rel: string): string {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory())
    throw new ConfigFieldError(field, `'${rel}' is not a directory`)
  const found = KUSTOMIZATION_FILES.filter((f) => fs.existsSync(path.join(dir, f)))
  if (found.length === 0)
    throw new ConfigFieldError(
      field,
      `no Kustomization file in '${rel}' (looked for ${KUSTOMIZATION_FILES.join(', ')})`
    )
  if (found.length > 1)
    throw new ConfigFieldError(
      field,
      `'${rel}' has more than one Kustomization file (${found.join(', ')})`
    )
  return path.join(dir, found[0])
}

function freightImages(freight: Freight[], repoURL?: string): Image[] {
  const out: Image[] = []
  for (const f of freight)
    for (const i of f.images) if (!repoURL || i.repoURL === repoURL) out.push(i)
  return out
}

/** The images to set, keyed by their name in the Kustomization. */
export function targetImages(
  config: KustomizeSetImageConfig,
  freight: Freight[]
): Map<string, KustomizeImage> {
  const targets = new Map<string, KustomizeImage>()
  if (!config.images) {
    for (const img of freightImages(freight)) {
      if (targets.has(img.repoURL))
        throw new ConfigFieldError(
          `${STEP}.images`,
          `image '${img.repoURL}' appears in more than one Freight; list it under 'images' to say which one to use`
        )
      targets.set(img.repoURL, {
        name: img.repoURL,
        ...(img.tag ? { newTag: img.tag } : {}),
        ...(img.digest ? { digest: img.digest } : {})
      })
    }
    return targets
  }
  config.images.forEach((img, i) => {
    const t: KustomizeImage = { name: img.name || img.image }
    if (img.newName) t.newName = img.newName
    if (img.tag) t.newTag = img.tag
    else if (img.digest) t.digest = img.digest
    else {
      const found = freightImages(freight, img.image)
      if (found.length === 0)
        throw new ConfigFieldError(
          `${STEP}.images[${i}].image`,
          `no tag or digest given and no Freight being promoted has image '${img.image}'`
        )
      if (found.length > 1)
        throw new ConfigFieldError(
          `${STEP}.images[${i}].image`,
          `image '${img.image}' appears in more than one Freight; give 'tag' or 'digest'`
        )
      if (found[0].tag) t.newTag = found[0].tag
      else t.digest = found[0].digest
    }
    targets.set(t.name, t)
  })
  return targets
}

function setOrDelete(map: YAMLMap, key: string, value: string | undefined): void {
  if (value === undefined || value === '') {
    map.delete(key)
    return
  }
  const cur = map.get(key, true)
  if (isScalar(cur)) cur.value = value
  else map.set(key, value)
}

const FIELD_ORDER = ['name', 'newName', 'newTag', 'digest']

/**
 * Applies the images to a Kustomization document the way `kustomize edit set image` does: an
 * existing entry keeps its newName unless a new one is given, a new tag replaces the digest and
 * vice versa; new entries are added; entries end up sorted by name. Comments stay in place.
 */
export function applyImages(doc: Document, targets: Map<string, KustomizeImage>): void {
  if (!isMap(doc.contents)) {
    if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null))
      doc.contents = doc.createNode({})
    else throw new WaybillError('the Kustomization file is not a YAML map')
  }
  const root = doc.contents
  const current: unknown = root.get('images', true)
  let seq: YAMLSeq
  if (isSeq(current)) seq = current
  else {
    if (current !== undefined && !(isScalar(current) && current.value === null))
      throw new WaybillError("the Kustomization file's 'images' field is not a list")
    seq = new YAMLSeq()
    root.set('images', seq)
  }
  const items = seq.items
  for (const target of targets.values()) {
    let entry = items.find(
      (it): it is YAMLMap => isMap(it) && String(it.get('name')) === target.name
    )
    if (!entry) {
      entry = new YAMLMap()
      entry.set('name', target.name)
      items.push(entry)
    }
    if (target.newName) setOrDelete(entry, 'newName', target.newName)
    if (target.newTag !== undefined || target.digest !== undefined) {
      setOrDelete(entry, 'newTag', target.newTag)
      setOrDelete(entry, 'digest', target.digest)
    }
    // Keep Kustomize's field order for entries we touched (name, newName, newTag, digest).
    entry.items.sort((a, b) => {
      const ia = FIELD_ORDER.indexOf(String(isScalar(a.key) ? a.key.value : a.key))
      const ib = FIELD_ORDER.indexOf(String(isScalar(b.key) ? b.key.value : b.key))
      return (ia === -1 ? 99 : ia) - (ib === -1 ? 99 : ib)
    })
  }
  const nameOf = (it: unknown) => (isMap(it) ? (scalarText(it.get('name')) ?? '') : '')
  items.sort((a, b) => (nameOf(a) < nameOf(b) ? -1 : nameOf(a) > nameOf(b) ? 1 : 0))
}

/** Whether the file writes block sequences flush with their parent key (`- x` under `key:`). */
export function usesCompactSequences(text: string): boolean {
  const m = /^( *)[^\s#-][^\n]*:[ \t]*(?:#[^\n]*)?\n(?:[ \t]*(?:#[^\n]*)?\n)*( *)- /m.exec(text)
  return m ? m[1].length === m[2].length : true
}

export function stringifyLike(doc: Document, original: string): string {
  return doc.toString({ indentSeq: !usesCompactSequences(original), lineWidth: 0 })
}

function imageRef(i: KustomizeImage): string {
  let ref = i.newName || i.name
  if (i.newTag) ref += `:${i.newTag}`
  if (i.digest) ref += `@${i.digest}`
  return ref
}

export const kustomizeSetImage = defineStep({
  name: STEP,
  schema,
  async run(config, ctx) {
    const dir = stepPath(ctx, STEP, 'path', config.path)
    const file = reresolve(
      ctx.workDir,
      findKustomization(dir, `${STEP}.path`, config.path),
      `${STEP}.path`
    )
    const targets = targetImages(config, ctx.freight)
    const original = readFileNoFollow(file).toString('utf8')
    const doc = parseDocument(original)
    if (doc.errors.length)
      throw new WaybillError(
        `${STEP}: ${path.relative(ctx.workDir, file)} is not valid YAML: ${doc.errors[0].message}`
      )
    applyImages(doc, targets)
    const out = stringifyLike(doc, original)
    if (out !== original) writeFileAtomic(file, out)
    const sorted = [...targets.values()].sort((a, b) => (a.name < b.name ? -1 : 1))
    ctx.logger.info(
      `${path.relative(ctx.workDir, file)}: ${sorted.map(imageRef).join(', ') || 'no images to set'}`
    )
    if (sorted.length === 0) return succeeded()
    return succeeded({
      commitMessage: commitMessage(
        `Updated ${config.path} to use new image${sorted.length > 1 ? 's' : ''}`,
        sorted.map(imageRef)
      )
    })
  }
})
