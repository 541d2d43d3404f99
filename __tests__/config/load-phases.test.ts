// The phases of loadProject, one at a time: find files → parse YAML → classify → index → validate
// → add to the model (with notices) → check references.
import fs from 'node:fs'
import { afterEach, describe, expect, it } from '@jest/globals'
import {
  addToModel,
  findConfigFiles,
  referenceProblems,
  ResourceIndex,
  validateResource
} from '../../src/config/load.js'
import { parseYamlFile, position } from '../../src/config/yaml-source.js'
import { classifyDocument, type KargoDocument } from '../../src/config/classify.js'
import { KubernetesOnlyNotices, resourceNotices } from '../../src/config/notices.js'
import { describeValue, suggestField } from '../../src/config/schema-issues.js'
import { emptyModel } from '../../src/config/model.js'
import { formatProblem, type Problem } from '../../src/config/problems.js'
import { writeProject } from './support.js'

const H = 'apiVersion: kargo.akuity.io/v1alpha1\n'
const show = (ps: Array<Problem | undefined>) =>
  ps
    .filter((p): p is Problem => p !== undefined)
    .map((p) => formatProblem({ ...p, hint: undefined }))

/** The documents of one YAML text, as file x.yaml. */
const docs = (text: string) => parseYamlFile('x.yaml', text).documents
/** The one Kargo resource in a YAML text (fails the test when it is not one). */
function kargoDoc(text: string): KargoDocument {
  const { resource, problem } = classifyDocument(docs(text)[0])
  if (!resource) throw new Error(`not a resource: ${problem?.message}`)
  return resource
}
const warehouse = (name: string, extra = '') =>
  `${H}kind: Warehouse\nmetadata:\n  name: ${name}\n${extra}spec:\n  subscriptions:\n  - image:\n      repoURL: ghcr.io/acme/${name}\n`

describe('findConfigFiles', () => {
  const repos: string[] = []
  afterEach(() => {
    for (const r of repos.splice(0)) fs.rmSync(r, { recursive: true, force: true })
  })
  const project = (files: Record<string, string>) => {
    const repo = writeProject(files)
    repos.push(repo)
    return repo
  }

  it('lists *.yaml and *.yml recursively in name order, relative to the repository', async () => {
    const repo = project({
      'b.yaml': '',
      'a.YML': '',
      'notes.txt': '',
      'sub/c.yml': '',
      'sub/deeper/d.yaml': ''
    })
    const found = await findConfigFiles(repo, '.waybill')
    expect(found.problem).toBeUndefined()
    expect(found.configDir).toBe('.waybill')
    expect(found.files.map((f) => f.file)).toEqual([
      '.waybill/a.YML',
      '.waybill/b.yaml',
      '.waybill/sub/c.yml',
      '.waybill/sub/deeper/d.yaml'
    ])
    expect(fs.existsSync(found.files[0].path)).toBe(true)
  })

  it('a missing folder, a file in its place, or a folder without YAML is one problem', async () => {
    const repo = project({ 'readme.txt': 'x' })
    expect((await findConfigFiles(repo, 'nowhere')).problem?.message).toBe(
      "config folder 'nowhere' not found"
    )
    expect((await findConfigFiles(repo, '.waybill/readme.txt')).problem?.message).toBe(
      "config folder '.waybill/readme.txt' not found"
    )
    const empty = await findConfigFiles(repo, './.waybill/')
    expect(empty.configDir).toBe('.waybill')
    expect(empty.files).toEqual([])
    expect(empty.problem?.message).toBe("no *.yaml or *.yml files in '.waybill'")
  })
})

describe('parseYamlFile', () => {
  it('keeps every non-empty document and drops empty ones', () => {
    const parsed = parseYamlFile('x.yaml', '---\na: 1\n---\n---\n# only a comment\n---\n- b\n')
    expect(parsed.problems).toEqual([])
    expect(parsed.documents.map((d) => d.value)).toEqual([{ a: 1 }, ['b']])
  })

  it('a syntax error drops its document (first error only) and keeps the others', () => {
    const parsed = parseYamlFile('x.yaml', 'a: 1\n---\nb: [1, 2\nc: d\n---\ne: 2\n')
    expect(parsed.documents.map((d) => d.value)).toEqual([{ a: 1 }, { e: 2 }])
    expect(show(parsed.problems)).toEqual([
      'x.yaml:4:1: error: YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]'
    ])
  })

  it('warns on duplicate keys (the last wins) and reports an unresolved alias', () => {
    const dup = parseYamlFile('x.yaml', 'a: 1\nb: 2\na: 3\n')
    expect(dup.documents[0].value).toEqual({ a: 3, b: 2 })
    expect(show(dup.problems)).toEqual([
      "x.yaml:3:1: warning: duplicate key 'a' (also at line 1); the last one is used"
    ])
    const alias = parseYamlFile('x.yaml', 'x: &a [1]\ny: *b\n')
    expect(alias.documents).toEqual([])
    expect(show(alias.problems)).toEqual([
      'x.yaml:1:1: error: YAML: Unresolved alias (the anchor must be set before the alias): b'
    ])
  })

  it('locates fields: the value, the key when asked, the nearest ancestor when missing', () => {
    const [{ src }] = docs('spec:\n  list:\n  - name: a\n    value: 1\n')
    expect(position(src, ['spec', 'list', 0, 'value'])).toEqual({
      file: 'x.yaml',
      line: 4,
      column: 12
    })
    expect(position(src, ['spec', 'list', 0, 'value'], true)).toMatchObject({ line: 4, column: 5 })
    expect(position(src, ['spec', 'list', 0, 'missing'])).toMatchObject({ line: 3, column: 5 })
    expect(position(src, ['spec', 'list', 7])).toMatchObject({ line: 2, column: 3 })
    expect(position(src, [])).toMatchObject({ line: 1, column: 1 })
  })
})

describe('classifyDocument', () => {
  const classify = (text: string) => classifyDocument(docs(text)[0])
  const problemOf = (text: string) => show([classify(text).problem])

  it('a Kargo resource of a known kind and version is kept, with its name', () => {
    const { resource, problem } = classify(warehouse('app'))
    expect(problem).toBeUndefined()
    expect(resource).toMatchObject({ kind: 'Warehouse', name: 'app' })
    expect(resource?.src.file).toBe('x.yaml')
  })

  it('a name that is not a string is left for validation to report', () => {
    expect(classify(`${H}kind: Stage\nmetadata: { name: 5 }\n`).resource).toMatchObject({
      kind: 'Stage',
      name: undefined
    })
  })

  it('rejects what is not a resource and skips what is not Waybill configuration', () => {
    expect(problemOf('42\n')).toEqual([
      'x.yaml:1:1: error: expected a resource (a mapping with apiVersion, kind, metadata and spec), got number 42'
    ])
    expect(problemOf('kind: Stage\nmetadata: { name: s }\n')).toEqual([
      'x.yaml:1:1: error: Stage/s: apiVersion: is required'
    ])
    expect(problemOf(`${H}kind: [Stage]\n`)).toEqual(['x.yaml:2:1: error: kind: must be a string'])
    expect(problemOf('apiVersion: v1\nkind: ConfigMap\nmetadata: { name: cm }\n')).toEqual([
      'x.yaml:2:7: notice: ConfigMap/cm: skipped: v1 ConfigMap is not a Kargo resource'
    ])
    expect(problemOf(`${H}kind: Freight\nmetadata: { name: f }\n`)).toEqual([
      'x.yaml:2:7: notice: Freight/f: skipped: Freight resources are created by Waybill, not configured'
    ])
    expect(classify(`${H}kind: Warhouse\n`).problem).toMatchObject({
      message: "unknown Kargo kind 'Warhouse'",
      field: 'kind',
      hint: "did you mean 'Warehouse'?"
    })
    expect(
      problemOf('apiVersion: kargo.akuity.io/v1beta1\nkind: Stage\nmetadata: { name: s }\n')
    ).toEqual([
      "x.yaml:1:13: error: Stage/s: apiVersion: unsupported apiVersion 'kargo.akuity.io/v1beta1'"
    ])
  })
})

describe('ResourceIndex', () => {
  it('the second definition of a kind and name is a duplicate; other kinds share names freely', () => {
    const index = new ResourceIndex()
    const [a, b] = parseYamlFile('x.yaml', `${warehouse('app')}---\n${warehouse('app')}`).documents
    const first = classifyDocument(a).resource!
    expect(index.claim(first)).toBeUndefined()
    expect(index.claim({ ...first, kind: 'Stage' })).toBeUndefined()
    expect(index.claim({ ...first, name: undefined })).toBeUndefined()
    expect(show([index.claim(classifyDocument(b).resource!)])).toEqual([
      "x.yaml:13:9: error: Warehouse/app: metadata.name: duplicate Warehouse 'app': defined in x.yaml:4 and x.yaml:13"
    ])
  })

  it('knows which resources exist but failed validation, and locates fields of known ones', () => {
    const index = new ResourceIndex()
    const doc = kargoDoc(warehouse('app'))
    index.claim(doc)
    expect(index.existsButInvalid('Warehouse', 'app')).toBe(false)
    index.markInvalid(doc)
    expect(index.existsButInvalid('Warehouse', 'app')).toBe(true)
    expect(index.existsButInvalid('Warehouse', 'other')).toBe(false)
    const locate = index.locator('.waybill')
    expect(locate('Warehouse', 'app', ['spec', 'subscriptions', 0])).toEqual({
      file: 'x.yaml',
      line: 7,
      column: 5
    })
    expect(locate('Stage', 'nope', ['spec'])).toEqual({ file: '.waybill' })
  })
})

describe('validateResource', () => {
  it('returns the parsed resource when it is valid', () => {
    const { resource, problems } = validateResource(kargoDoc(warehouse('app')))
    expect(problems).toBeUndefined()
    expect(resource?.metadata.name).toBe('app')
  })

  it('returns every issue, located and worded for users', () => {
    const doc = kargoDoc(
      `${H}kind: Warehouse\nmetadata:\n  name: w\nspec:\n  interval: 300\n  subscriptons: []\n`
    )
    const { resource, problems } = validateResource(doc)
    expect(resource).toBeUndefined()
    expect(show(problems!)).toEqual([
      'x.yaml:6:13: error: Warehouse/w: spec.interval: must be a duration like 90s, 5m or 1h30m, not number 300',
      'x.yaml:5:1: error: Warehouse/w: spec.subscriptions: is required',
      "x.yaml:7:3: error: Warehouse/w: spec.subscriptons: unknown field 'subscriptons'"
    ])
    expect(problems!.find((p) => p.field === 'spec.subscriptons')?.hint).toBe(
      "did you mean 'subscriptions'?"
    )
  })
})

describe('addToModel', () => {
  const valid = (text: string) => {
    const doc = kargoDoc(text)
    return [doc, validateResource(doc).resource!] as const
  }

  it('adds each kind to its map and records where it is defined', () => {
    const model = emptyModel('.waybill')
    expect(addToModel(model, ...valid(warehouse('app')))).toBeUndefined()
    expect(
      addToModel(
        model,
        ...valid(
          `${H}kind: PromotionTask\nmetadata: { name: t }\nspec:\n  steps: [{ uses: git-clone }]\n`
        )
      )
    ).toBeUndefined()
    expect([...model.warehouses.keys()]).toEqual(['app'])
    expect([...model.promotionTasks.keys()]).toEqual(['t'])
    expect(model.locations.get('Warehouse/app')).toEqual({ file: 'x.yaml', line: 1, column: 1 })
  })

  it('a second ProjectConfig is a problem and the first one stays', () => {
    const model = emptyModel('.waybill')
    const pc = (name: string) => `${H}kind: ProjectConfig\nmetadata: { name: ${name} }\nspec: {}\n`
    expect(addToModel(model, ...valid(pc('one')))).toBeUndefined()
    expect(show([addToModel(model, ...valid(pc('two')))])).toEqual([
      "x.yaml:3:19: error: ProjectConfig/two: metadata.name: only one ProjectConfig is allowed; 'one' is already defined"
    ])
    expect(model.projectConfig?.metadata.name).toBe('one')
  })
})

describe('resourceNotices', () => {
  const notices = (text: string, k8s = new KubernetesOnlyNotices()) => {
    const doc = kargoDoc(text)
    return resourceNotices(doc, validateResource(doc).resource!, k8s)
  }

  it('says what Waybill ignores and warns about SSH Git URLs', () => {
    const text = `${H}kind: Warehouse\nmetadata: { name: w }\nspec:\n  shard: eu\n  subscriptions:\n  - git: { repoURL: 'git@github.com:acme/app.git' }\n`
    expect(show(notices(text))).toEqual([
      'x.yaml:5:3: notice: Warehouse/w: spec.shard: is ignored: Waybill has no sharded controllers',
      'x.yaml:7:21: warning: Warehouse/w: spec.subscriptions[0].git.repoURL: SSH URLs are deprecated since Kargo v1.10 (removal in v1.13)'
    ])
  })

  it('Kubernetes-only metadata is said once per file and field, with a count', () => {
    const k8s = new KubernetesOnlyNotices()
    expect(notices(warehouse('a', '  namespace: x\n'), k8s)).toEqual([])
    expect(notices(warehouse('b', '  namespace: x\n'), k8s)).toEqual([])
    expect(show(k8s.problems())).toEqual([
      'x.yaml:5:3: notice: metadata.namespace: is Kubernetes-only and ignored by Waybill (2 resources in this file)'
    ])
    const one = new KubernetesOnlyNotices()
    notices(
      `${H}kind: PromotionTask\nmetadata: { name: t }\nspec: { steps: [{ uses: git-clone }] }\nstatus: {}\n`,
      one
    )
    expect(show(one.problems())).toEqual([
      'x.yaml:5:1: notice: PromotionTask/t: status: is Kubernetes-only and ignored by Waybill'
    ])
  })
})

describe('referenceProblems', () => {
  const stage = `${H}kind: Stage\nmetadata: { name: dev }\nspec:\n  requestedFreight:\n  - origin: { kind: Warehouse, name: app }\n    sources: { direct: true }\n`

  it('reports a missing warehouse at the reference, but not one that exists and is invalid', () => {
    const model = emptyModel('.waybill')
    const index = new ResourceIndex()
    const doc = kargoDoc(stage)
    index.claim(doc)
    addToModel(model, doc, validateResource(doc).resource!)
    expect(show(referenceProblems(model, index))).toEqual([
      "x.yaml:6:38: error: Stage/dev: spec.requestedFreight[0].origin.name: Warehouse 'app' not found"
    ])
    const broken = kargoDoc(`${H}kind: Warehouse\nmetadata: { name: app }\nspec: {}\n`)
    index.claim(broken)
    index.markInvalid(broken)
    expect(referenceProblems(model, index)).toEqual([])
  })
})

describe('schema issues', () => {
  it('suggests the closest accepted field, or lists them', () => {
    expect(suggestField('Spec', ['spec', 'metadata'])).toBe("did you mean 'spec'?")
    expect(suggestField('zzzzzz', ['spec', 'metadata'])).toBe('accepted fields: spec, metadata')
    expect(suggestField('x', [])).toBeUndefined()
  })

  it('describes values as users read them', () => {
    expect([null, [1], {}, 'x', 3, true].map(describeValue)).toEqual([
      'null',
      'a list',
      'a mapping',
      "the string 'x'",
      'number 3',
      'boolean true'
    ])
  })
})
