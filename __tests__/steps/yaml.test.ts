import { describe, expect, it } from '@jest/globals'
import fs from 'node:fs'
import path from 'node:path'
import { parse as parseToml } from 'smol-toml'
import { writeFiles } from '../support/git.js'
import { stepContext } from '../support/step-context.js'
import { parseKeyPath, setInPlain } from '../../src/steps/yaml-paths.js'
import { yamlUpdate } from '../../src/steps/files/yaml-update.js'
import { jsonUpdate } from '../../src/steps/files/json-update.js'
import { tomlUpdate } from '../../src/steps/files/toml-update.js'
import { yamlParse } from '../../src/steps/files/yaml-parse.js'
import { jsonParse } from '../../src/steps/files/json-parse.js'
import { tomlParse } from '../../src/steps/files/toml-parse.js'
import { yamlMerge } from '../../src/steps/files/yaml-merge.js'
import type { StepContext, StepDefinition } from '../../src/steps/types.js'
import type { Capability } from '../../src/steps/capabilities.js'

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function run(step: StepDefinition<any>, ctx: StepContext<Capability>, config: unknown) {
  return step.run(step.parse(config), ctx)
}
const read = (ctx: StepContext<Capability>, f: string) =>
  fs.readFileSync(path.join(ctx.workDir, f), 'utf8')

describe('sjson key paths', () => {
  it('splits on dots, with backslash escapes', () => {
    expect(parseKeyPath('image.tag')).toEqual(['image', 'tag'])
    expect(parseKeyPath('containers.0.image')).toEqual(['containers', '0', 'image'])
    expect(parseKeyPath('annotations.example\\.com/x')).toEqual(['annotations', 'example.com/x'])
    expect(parseKeyPath('a\\\\.b')).toEqual(['a\\', 'b'])
    expect(() => parseKeyPath('a..b', 'f')).toThrow(/f: 'a\.\.b' has an empty path component/)
    expect(() => parseKeyPath('a\\', 'f')).toThrow(/unfinished escape/)
  })

  it('creates maps and lists, appends with -1, refuses to index through scalars', () => {
    expect(setInPlain(undefined, ['a', 'b'], 1, 'a.b')).toEqual({ a: { b: 1 } })
    expect(setInPlain({}, ['l', '0', 'x'], 1, 'l.0.x')).toEqual({ l: [{ x: 1 }] })
    expect(setInPlain({ l: [1] }, ['l', '-1'], 2, 'l.-1')).toEqual({ l: [1, 2] })
    expect(() => setInPlain({ l: [1] }, ['l', '5'], 2, 'l.5')).toThrow(/past the end/)
    expect(() => setInPlain({ a: 'x' }, ['a', 'b'], 2, 'a.b')).toThrow(/'a' holds a scalar/)
    expect(() => setInPlain({ l: [] }, ['l', 'k'], 2, 'l.k')).toThrow(/is a list/)
  })
})

const VALUES = `# Values for dev
image:
  repository: ghcr.io/akuity/guestbook # the app
  tag: "v0.0.1" # set by Kargo
replicaCount: 1

containers:
  - name: app
    image: old:1
annotations: {}
`

describe('yaml-update', () => {
  it('updates nested keys and list items, keeps comments, quoting and blank lines', async () => {
    const ctx = stepContext()
    writeFiles(ctx.workDir, { 'env/dev/values.yaml': VALUES })
    const res = await run(yamlUpdate, ctx, {
      path: './env/dev/values.yaml',
      updates: [
        { key: 'image.tag', value: 'v0.0.2' },
        { key: 'replicaCount', value: 3 },
        { key: 'containers.0.image', value: 'new:2' },
        { key: 'annotations.example\\.com/owner', value: 'team-a' },
        { key: 'ingress.hosts.-1', value: 'dev.example.com' },
        { key: 'resources', value: { limits: { cpu: '1' } } }
      ]
    })
    expect(read(ctx, 'env/dev/values.yaml')).toBe(`# Values for dev
image:
  repository: ghcr.io/akuity/guestbook # the app
  tag: "v0.0.2" # set by Kargo
replicaCount: 3

containers:
  - name: app
    image: new:2
annotations: { example.com/owner: team-a }
ingress:
  hosts:
    - dev.example.com
resources:
  limits:
    cpu: "1"
`)
    expect(res.outputs?.commitMessage).toBe(
      'Updated ./env/dev/values.yaml\n\n- image.tag: v0.0.2\n- replicaCount: 3\n- containers.0.image: new:2\n' +
        '- annotations.example\\.com/owner: team-a\n- ingress.hosts.-1: dev.example.com\n- resources: {"limits":{"cpu":"1"}}'
    )
  })

  it("updates kargo-helm's values (image.tag) the way its promote task does", async () => {
    const ctx = stepContext()
    writeFiles(ctx.workDir, {
      'out/env/dev/values.yaml': 'image:\n  tag: v0.0.88\n\nreplicaCount: 1\n'
    })
    await run(yamlUpdate, ctx, {
      path: './out/env/dev/values.yaml',
      updates: [{ key: 'image.tag', value: 'v0.0.89' }]
    })
    expect(read(ctx, 'out/env/dev/values.yaml')).toBe('image:\n  tag: v0.0.89\n\nreplicaCount: 1\n')
  })

  it('quotes strings that would read as other types, and keeps flush sequences flush', async () => {
    const ctx = stepContext()
    writeFiles(ctx.workDir, { 'v.yaml': 'list:\n- a\nversion: 1.0\n' })
    await run(yamlUpdate, ctx, {
      path: 'v.yaml',
      updates: [
        { key: 'version', value: '2.0' },
        { key: 'list.1', value: 'true' }
      ]
    })
    expect(read(ctx, 'v.yaml')).toBe('list:\n- a\n- "true"\nversion: "2.0"\n')
  })

  it('names the update whose key cannot be applied, and the path field on escapes', async () => {
    const ctx = stepContext()
    writeFiles(ctx.workDir, { 'v.yaml': VALUES })
    await expect(
      run(yamlUpdate, ctx, {
        path: 'v.yaml',
        updates: [
          { key: 'image.tag', value: 'x' },
          { key: 'replicaCount.deeper', value: 1 }
        ]
      })
    ).rejects.toThrow(
      /yaml-update\.updates\[1\]\.key: 'replicaCount\.deeper': 'replicaCount' holds a scalar/
    )
    expect(read(ctx, 'v.yaml')).toBe(VALUES)
    await expect(
      run(yamlUpdate, ctx, { path: '../v.yaml', updates: [{ key: 'a', value: 1 }] })
    ).rejects.toThrow(/yaml-update\.path: .*leaves/)
    await expect(
      run(yamlUpdate, ctx, { path: 'missing.yaml', updates: [{ key: 'a', value: 1 }] })
    ).rejects.toThrow(/yaml-update\.path: 'missing.yaml' does not exist/)
    expect(() => yamlUpdate.parse({ path: 'v.yaml', updates: [] })).toThrow(/updates/)
    expect(() => yamlUpdate.parse({ path: 'v.yaml', updates: [{ key: 'a' }] })).toThrow(
      /updates\[0\]\.value/
    )
  })
})

describe('json-update and toml-update', () => {
  it('updates JSON keeping its indentation and key order', async () => {
    const ctx = stepContext()
    writeFiles(ctx.workDir, {
      'c.json':
        '{\n    "name": "app",\n    "image": {\n        "tag": "1"\n    },\n    "list": [1]\n}\n'
    })
    const res = await run(jsonUpdate, ctx, {
      path: 'c.json',
      updates: [
        { key: 'image.tag', value: '2' },
        { key: 'list.-1', value: 2 },
        { key: 'a\\.b', value: true }
      ]
    })
    expect(read(ctx, 'c.json')).toBe(
      '{\n    "name": "app",\n    "image": {\n        "tag": "2"\n    },\n    "list": [\n        1,\n        2\n    ],\n    "a.b": true\n}\n'
    )
    expect(res.outputs?.commitMessage).toMatch(/^Updated c\.json\n\n- image\.tag: 2/)
    writeFiles(ctx.workDir, { 'bad.json': '{' })
    await expect(
      run(jsonUpdate, ctx, { path: 'bad.json', updates: [{ key: 'a', value: 1 }] })
    ).rejects.toThrow(/json-update: bad\.json is not valid JSON/)
  })

  it('updates TOML', async () => {
    const ctx = stepContext()
    writeFiles(ctx.workDir, { 'c.toml': 'title = "x"\n\n[image]\ntag = "1"\n' })
    await run(tomlUpdate, ctx, {
      path: 'c.toml',
      updates: [
        { key: 'image.tag', value: '2' },
        { key: 'server.port', value: 8080 }
      ]
    })
    expect(parseToml(read(ctx, 'c.toml'))).toEqual({
      title: 'x',
      image: { tag: '2' },
      server: { port: 8080 }
    })
  })
})

describe('yaml-parse, json-parse, toml-parse', () => {
  it('evaluates expressions over the parsed document', async () => {
    const ctx = stepContext()
    writeFiles(ctx.workDir, {
      'v.yaml': 'image:\n  tag: v1.2.3\nreplicas: 2\nitems: [a, b]\n',
      'v.json': '{"version": "2.0.0", "meta": {"env": "dev"}}',
      'v.toml': '[package]\nname = "demo"\nversion = "0.3.0"\n'
    })
    const y = await run(yamlParse, ctx, {
      path: 'v.yaml',
      outputs: [
        { name: 'tag', fromExpression: 'image.tag' },
        { name: 'more', fromExpression: 'replicas + 1' },
        { name: 'second', fromExpression: "items[1] == 'b' ? 'yes' : 'no'" }
      ]
    })
    expect(y.outputs).toEqual({ tag: 'v1.2.3', more: 3, second: 'yes' })
    const j = await run(jsonParse, ctx, {
      path: 'v.json',
      outputs: [{ name: 'env', fromExpression: 'meta["env"]' }]
    })
    expect(j.outputs).toEqual({ env: 'dev' })
    const t = await run(tomlParse, ctx, {
      path: 'v.toml',
      outputs: [{ name: 'v', fromExpression: 'package.version' }]
    })
    expect(t.outputs).toEqual({ v: '0.3.0' })
  })

  it('names the output whose expression fails, and refuses hostile lookups', async () => {
    const ctx = stepContext()
    writeFiles(ctx.workDir, { 'v.yaml': 'a: 1\n' })
    await expect(
      run(yamlParse, ctx, { path: 'v.yaml', outputs: [{ name: 'x', fromExpression: 'a +' }] })
    ).rejects.toThrow(/yaml-parse\.outputs\[0\]\.fromExpression/)
    const res = await run(yamlParse, ctx, {
      path: 'v.yaml',
      outputs: [{ name: 'x', fromExpression: 'a.constructor' }]
    }).catch((e) => e)
    expect(res instanceof Error ? res.message : res.outputs?.x).not.toMatch(/function|Number/)
    await expect(
      run(yamlParse, ctx, { path: '/etc/passwd', outputs: [{ name: 'x', fromExpression: 'a' }] })
    ).rejects.toThrow(/yaml-parse\.path: .*absolute/)
  })
})

describe('yaml-merge', () => {
  it('deep-merges files in order into outFile, skipping missing ones when asked', async () => {
    const ctx = stepContext()
    writeFiles(ctx.workDir, {
      'base.yaml': '# base\nimage:\n  repository: app # repo\n  tag: "1"\nlist: [a]\n',
      'dev.yaml': 'image:\n  tag: "2"\nlist: [b]\nextra: true\n'
    })
    await run(yamlMerge, ctx, {
      inFiles: ['base.yaml', 'missing.yaml', 'dev.yaml'],
      outFile: 'out/merged.yaml',
      ignoreMissingFiles: true
    })
    expect(read(ctx, 'out/merged.yaml')).toBe(
      '# base\nimage:\n  repository: app # repo\n  tag: "2"\nlist: [ b ]\nextra: true\n'
    )
    await expect(
      run(yamlMerge, ctx, { inFiles: ['base.yaml', 'missing.yaml'], outFile: 'o.yaml' })
    ).rejects.toThrow(/yaml-merge\.inFiles\[1\]: 'missing.yaml' does not exist/)
    await expect(
      run(yamlMerge, ctx, { inFiles: ['base.yaml', '../x.yaml'], outFile: 'o.yaml' })
    ).rejects.toThrow(/yaml-merge\.inFiles\[1\]: .*leaves/)
  })
})
