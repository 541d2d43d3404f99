import { afterAll, describe, expect, it } from '@jest/globals'
import fc from 'fast-check'
import fs from 'node:fs'
import path from 'node:path'
import semver from 'semver'
import { loadProject } from '../../src/config/index.js'
import {
  ExpressionError,
  evaluateExpression,
  evaluateTemplate,
  type ExprEnv
} from '../../src/expressions/index.js'
import { filterTags, sortLexicalDesc, sortSemverDesc } from '../../src/discovery/semver.js'
import { compilePathFilter } from '../../src/discovery/path-filter.js'
import { freightId } from '../../src/freight/id.js'
import { ConfigFieldError, WaybillError } from '../../src/util/errors.js'
import { tempDir } from '../support/git.js'

/**
 * Property-based tests (fast-check). WAYBILL_SOAK=1 runs 20× more cases.
 * The only acceptable failures are the project's clear errors; no crash, no prototype
 * pollution, no evaluation escaping the sandbox.
 */
const RUNS = process.env.WAYBILL_SOAK === '1' ? 4000 : 200
const opts = { numRuns: RUNS }

function notPolluted(): void {
  const probe = {} as Record<string, unknown>
  expect(probe.polluted).toBeUndefined()
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(PROTO_KEYS)
  // Compares the functions by identity (was toString replaced?); neither is called.
  // eslint-disable-next-line @typescript-eslint/unbound-method
  expect(({} as Record<string, unknown>).toString).toBe(Object.prototype.toString)
}
const PROTO_KEYS = Object.getOwnPropertyNames(Object.prototype).sort()

describe('fuzz: config loader', () => {
  const root = tempDir('waybill-fuzz-cfg-')
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }))
  const valid = [
    'apiVersion: kargo.akuity.io/v1alpha1',
    'kind: Warehouse',
    'metadata: {name: app}',
    'spec:',
    '  interval: 5m',
    '  subscriptions:',
    "    - git: {repoURL: 'https://github.com/acme/app.git', branch: main}",
    '---',
    'apiVersion: kargo.akuity.io/v1alpha1',
    'kind: Stage',
    'metadata: {name: test}',
    'spec:',
    '  requestedFreight:',
    '    - origin: {kind: Warehouse, name: app}',
    '      sources: {direct: true}',
    '  promotionTemplate:',
    '    spec:',
    '      steps:',
    '        - uses: git-clone',
    "          config: {repoURL: 'https://github.com/acme/app.git', checkout: [{branch: main, path: ./src}]}",
    ''
  ].join('\n')
  let n = 0

  async function load(text: string): Promise<void> {
    const dir = path.join(root, `r${n++}`)
    fs.mkdirSync(path.join(dir, '.waybill'), { recursive: true })
    fs.writeFileSync(path.join(dir, '.waybill', 'config.yaml'), text)
    try {
      const { problems } = await loadProject(dir, '.waybill')
      for (const p of problems) expect(typeof p.message).toBe('string')
    } catch (err) {
      // A thrown error must be one of ours, with a message.
      expect(err).toBeInstanceOf(WaybillError)
      expect((err as Error).message.length).toBeGreaterThan(0)
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
    notPolluted()
  }

  it('mutations of a valid config: problems or clear errors, never a crash', async () => {
    const lines = valid.split('\n')
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('delete' as const), at: fc.nat(lines.length - 1) }),
      fc.record({
        kind: fc.constant('replace' as const),
        at: fc.nat(lines.length - 1),
        text: fc.oneof(
          fc.string(),
          fc.constantFrom(
            '  __proto__: {polluted: true}',
            '  constructor: {prototype: {polluted: true}}',
            '  interval: -5m',
            '  subscriptions: 42',
            'metadata: {name: ../../evil}',
            'kind: Unknown',
            '    - image: {repoURL: "ghcr.io/acme/app:1.0"}',
            '&a [*a, *a]',
            '!!js/function "function(){}"',
            '- - - -',
            '\t\tbad: indent',
            '        - uses: no-such-step'
          )
        )
      }),
      fc.record({ kind: fc.constant('truncate' as const), at: fc.nat(valid.length) })
    )
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { maxLength: 4 }), async (ms) => {
        const ls = [...lines]
        let text: string | undefined
        for (const m of ms) {
          if (m.kind === 'delete') ls.splice(m.at % Math.max(1, ls.length), 1)
          else if (m.kind === 'replace') ls[m.at % Math.max(1, ls.length)] = m.text
          else text = ls.join('\n').slice(0, m.at)
        }
        await load(text ?? ls.join('\n'))
      }),
      { numRuns: Math.min(RUNS, 150) }
    )
  }, 60_000)

  it('random YAML documents: problems or clear errors, never a crash', async () => {
    const yamlish = fc.oneof(
      fc.string(),
      fc.json().map((j) => `apiVersion: kargo.akuity.io/v1alpha1\nkind: Stage\nspec: ${j}\n`),
      fc.jsonValue().map((v) => JSON.stringify(v))
    )
    await fc.assert(fc.asyncProperty(yamlish, load), { numRuns: Math.min(RUNS, 150) })
  }, 60_000)
})

describe('fuzz: expression evaluator', () => {
  const env = (): ExprEnv => ({
    vars: {
      ctx: { stage: 'dev', list: [1, 2, 3] },
      vars: { a: 'x' },
      body: JSON.parse('{"__proto__": {"polluted": true}, "ok": 1}') as unknown
    },
    functions: { f: (x: unknown) => x }
  })
  const atoms = fc.constantFrom(
    'ctx',
    'ctx.stage',
    'ctx.list',
    'vars',
    'body',
    'f',
    'constructor',
    '__proto__',
    'prototype',
    'process',
    'globalThis',
    'this',
    'Function',
    'require',
    "'constructor'",
    "'__proto__'",
    '1',
    '"x"',
    'true',
    'null',
    '[1,2]',
    "{'__proto__': {'polluted': true}}",
    '{constructor: {prototype: {polluted: 1}}}'
  )
  const expr: fc.Arbitrary<string> = fc.letrec<{ e: string }>((tie) => ({
    e: fc.oneof(
      { depthSize: 'small' },
      atoms,
      fc
        .tuple(
          tie('e'),
          fc.constantFrom(
            '.constructor',
            '.__proto__',
            '.polluted',
            '.length',
            '.stage',
            "['constructor']",
            "['__pro' + 'to__']"
          )
        )
        .map(([a, b]) => `${a}${b}`),
      fc.tuple(tie('e'), tie('e')).map(([a, b]) => `f(${a}, ${b})`),
      fc
        .tuple(tie('e'), fc.constantFrom('+', '==', '&&', '||', '?', '[', '('), tie('e'))
        .map(([a, op, b]) =>
          op === '?'
            ? `${a} ? ${b} : ${a}`
            : op === '['
              ? `${a}[${b}]`
              : op === '('
                ? `${a}(${b})`
                : `${a} ${op} ${b}`
        )
    )
  })).e

  function safely(fn: () => unknown): unknown {
    try {
      return fn()
    } catch (err) {
      if (err instanceof ExpressionError || err instanceof ConfigFieldError) return err
      throw err
    }
  }

  it('composed hostile expressions: a value or an ExpressionError; no pollution, no escape', () => {
    fc.assert(
      fc.property(expr, (text) => {
        const v = safely(() => evaluateExpression(text, env()))
        notPolluted()
        // Nothing from outside the sandbox comes back.
        expect(v).not.toBe(process)
        expect(v).not.toBe(globalThis)
        expect(v).not.toBe(Function)
        expect(v).not.toBe(Object)
        expect(typeof v === 'function' && v !== env().functions?.f).toBe(false)
      }),
      opts
    )
  })

  it('arbitrary strings as expressions and templates: a value or an ExpressionError', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (text) => {
        safely(() => evaluateExpression(text, env()))
        safely(() => evaluateTemplate('${{ ' + text + ' }}', env()))
        notPolluted()
      }),
      opts
    )
  })
})

describe('fuzz: tag selection', () => {
  const version = fc
    .tuple(
      fc.nat(20),
      fc.nat(20),
      fc.nat(20),
      fc.option(fc.constantFrom('rc.1', 'beta', 'alpha.2'))
    )
    .map(([a, b, c, pre]) => `${a}.${b}.${c}${pre ? `-${pre}` : ''}`)
  const tag = fc.oneof(
    version,
    version.map((v) => `v${v}`),
    fc.string({ maxLength: 12 })
  )

  it('semver sort: only valid versions, sorted descending, nothing invented', () => {
    fc.assert(
      fc.property(fc.array(tag, { maxLength: 30 }), (tags) => {
        const out = sortSemverDesc(tags)
        for (const t of out) expect(tags).toContain(t)
        const parsed = out.map(
          (t) => semver.coerce(t, { includePrerelease: true }) && semver.parse(t.replace(/^v/, ''))
        )
        for (let i = 1; i < out.length; i++) {
          const a = parsed[i - 1]
          const b = parsed[i]
          if (a && b) expect(semver.compare(a, b)).toBeGreaterThanOrEqual(0)
        }
        // Every valid semver tag is kept.
        for (const t of tags) if (semver.valid(t) && !t.startsWith('v')) expect(out).toContain(t)
      }),
      opts
    )
  })

  it('lexical sort: a descending permutation of its input', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 10 }), { maxLength: 30 }), (tags) => {
        const out = sortLexicalDesc(tags)
        expect([...out].sort()).toEqual([...tags].sort())
        for (let i = 1; i < out.length; i++) expect(out[i - 1] >= out[i]).toBe(true)
      }),
      opts
    )
  })

  it('filters: ignore wins, allow keeps only matches, output is an ordered subset', () => {
    const re = fc.constantFrom('^v', 'rc', '\\d+$', '(?i)BETA', '^1\\.', '.*')
    fc.assert(
      fc.property(
        fc.array(tag, { maxLength: 20 }),
        fc.array(re, { maxLength: 2 }),
        fc.array(re, { maxLength: 2 }),
        (tags, allow, ignore) => {
          const out = filterTags(tags, { allowTagsRegexes: allow, ignoreTagsRegexes: ignore })
          expect(out).toEqual(tags.filter((t) => out.includes(t)))
          const rx = (p: string) =>
            p.startsWith('(?i)') ? new RegExp(p.slice(4), 'i') : new RegExp(p)
          for (const t of out) {
            expect(ignore.some((p) => rx(p).test(t))).toBe(false)
            if (allow.length) expect(allow.some((p) => rx(p).test(t))).toBe(true)
          }
        }
      ),
      opts
    )
  })

  it('an invalid regex is a ConfigFieldError naming the field', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 8 }), (pattern) => {
        try {
          filterTags(['a'], { allowTagsRegexes: [pattern] })
        } catch (err) {
          expect(err).toBeInstanceOf(ConfigFieldError)
          expect((err as Error).message).toContain('allowTagsRegexes[0]')
        }
      }),
      opts
    )
  })
})

describe('fuzz: path filters', () => {
  const seg = fc.constantFrom('src', 'docs', 'a', 'b.go', 'x.yaml', 'builds', '..', '.')
  const p = fc.array(seg, { minLength: 1, maxLength: 4 }).map((s) => s.join('/'))
  const selector = fc.oneof(
    p,
    p.map((x) => `glob:${x}/**`),
    p.map((x) => `glob:**/${x.split('/').pop()}`),
    fc.constantFrom('regex:^src/', 'regex:\\.yaml$', 'regexp:docs'),
    fc.string({ maxLength: 8 }).map((s) => `regex:${s}`),
    fc.string({ maxLength: 8 }).map((s) => `glob:${s}`)
  )

  it('no selectors match everything; excludes only remove; a clear error otherwise', () => {
    fc.assert(
      fc.property(
        fc.array(selector, { maxLength: 3 }),
        fc.array(selector, { maxLength: 3 }),
        fc.array(p, { maxLength: 5 }),
        (inc, exc, changed) => {
          let f, incOnly
          try {
            f = compilePathFilter(inc, exc)
            incOnly = compilePathFilter(inc, [])
          } catch (err) {
            expect(err).toBeInstanceOf(ConfigFieldError)
            return
          }
          expect(compilePathFilter([], []).matches(changed)).toBe(true)
          // Adding excludes never makes a commit match that did not.
          if (f.matches(changed)) expect(incOnly.matches(changed)).toBe(true)
          // Matching is per path: a commit matches iff one of its paths does (with no selectors at
          // all, even a commit without paths qualifies).
          if (!f.empty) expect(f.matches(changed)).toBe(changed.some((c) => f.matches([c])))
        }
      ),
      opts
    )
  })
})

describe('fuzz: freight ID', () => {
  const hex = (n: number) => fc.stringMatching(new RegExp(`^[0-9a-f]{${n}}$`))
  const commit = fc.record({
    repoURL: fc.constantFrom('https://github.com/acme/app.git', 'https://github.com/acme/cfg'),
    id: hex(40),
    tag: fc.option(fc.constantFrom('v1.0.0', 'v2'), { nil: undefined })
  })
  const image = fc.record({
    repoURL: fc.constantFrom('ghcr.io/acme/app', 'docker.io/library/nginx'),
    tag: fc.constantFrom('1.0.0', 'latest', '2.1.3'),
    digest: hex(64).map((h) => `sha256:${h}`)
  })
  const chart = fc.record({
    repoURL: fc.constantFrom('oci://ghcr.io/acme/charts', 'https://charts.example.com'),
    name: fc.option(fc.constantFrom('app', 'db'), { nil: undefined }),
    version: fc.constantFrom('1.0.0', '0.1.0')
  })
  const input = fc.record({
    origin: fc.record({ kind: fc.constant('Warehouse' as const), name: fc.constantFrom('a', 'b') }),
    commits: fc.array(commit, { maxLength: 3 }),
    images: fc.array(image, { maxLength: 3 }),
    charts: fc.array(chart, { maxLength: 2 })
  })

  it('deterministic, 40 hex characters, independent of artifact order, sensitive to content', () => {
    fc.assert(
      fc.property(input, fc.nat(), (f, seed) => {
        const id = freightId(f)
        expect(id).toMatch(/^[0-9a-f]{40}$/)
        expect(freightId(structuredClone(f))).toBe(id)
        const rot = <T>(xs: T[]) =>
          xs.length
            ? [...xs.slice(seed % xs.length), ...xs.slice(0, seed % xs.length)].reverse()
            : xs
        expect(
          freightId({ ...f, commits: rot(f.commits), images: rot(f.images), charts: rot(f.charts) })
        ).toBe(id)
        expect(freightId({ ...f, origin: { ...f.origin, name: f.origin.name + 'x' } })).not.toBe(id)
        if (f.images.length) {
          const changed = [...f.images]
          changed[0] = { ...changed[0], digest: 'sha256:' + '0'.repeat(63) + '1' }
          if (changed[0].digest !== f.images[0].digest)
            expect(freightId({ ...f, images: changed })).not.toBe(id)
        }
      }),
      opts
    )
  })
})
