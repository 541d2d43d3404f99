import { describe, expect, it } from '@jest/globals'
import {
  evaluateExpression,
  evaluateTemplate,
  freightFunctions,
  timeValue,
  type ExprEnv
} from '../../src/expressions/index.js'
import type { Freight } from '../../src/freight/types.js'
import { emptyFreightStatus } from '../../src/freight/types.js'
import { emptyStageState, emptyState } from '../../src/state/types.js'
import { redact } from '../../src/util/logger.js'

function freight(name: string, origin: string, extra: Partial<Freight>): Freight {
  return {
    name,
    alias: `${name}-alias`,
    origin: { kind: 'Warehouse', name: origin },
    discoveredAt: '2025-01-01T00:00:00Z',
    commits: [],
    images: [],
    charts: [],
    status: emptyFreightStatus(),
    ...extra
  }
}

const f1 = freight('f1', 'guestbook', {
  images: [
    {
      repoURL: 'ghcr.io/akuity/guestbook',
      tag: 'v0.0.2',
      digest: 'sha256:abc',
      annotations: { 'org.opencontainers.image.source': 'https://github.com/akuity/guestbook' }
    },
    { repoURL: 'nginx', tag: '1.27', digest: 'sha256:def' }
  ],
  commits: [
    {
      repoURL: 'https://github.com/akuity/kargo-helm.git',
      id: 'deadbeef',
      branch: 'main',
      message: 'fix it'
    }
  ],
  charts: [
    { repoURL: 'oci://ghcr.io/akuity/charts/guestbook', version: '1.2.3' },
    { repoURL: 'https://charts.example.com', name: 'podinfo', version: '6.0.0' }
  ]
})
const f2 = freight('f2', 'features', {
  commits: [{ repoURL: 'https://github.com/akuity/kargo-helm', id: 'cafe', branch: 'features' }]
})

const state = emptyState()
state.freight.f1 = { ...f1, status: { ...emptyFreightStatus(), metadata: { rating: 5 } } }
state.stages.dev = { ...emptyStageState(), metadata: { owner: 'team-a', nested: { x: 1 } } }

function env(vars: Record<string, unknown> = {}, collection: Freight[] = [f1]): ExprEnv {
  return {
    vars: {
      ctx: {
        project: 'kargo-demo',
        stage: 'dev',
        promotion: 'dev.01abc.f1',
        targetFreight: { name: 'f1', alias: 'f1-alias', origin: { name: 'guestbook' } },
        meta: { promotion: { actor: 'alice' }, step: { alias: 'step-1' } }
      },
      vars: { image: 'ghcr.io/akuity/guestbook', openpr: 'false', n: 3, 'kebab-key': 'k' },
      outputs: { 'update-image': { commitMessage: 'updated' }, commit: { commit: 'abc123' } },
      task: { outputs: { push: { branch: 'kargo/promotion/x' } } },
      ...vars
    },
    functions: freightFunctions(collection, {
      state,
      secrets: { token: 's3cr3t-value', json: '{"user":"bob","password":"hunter22"}' }
    })
  }
}

const ev = (expr: string, e: ExprEnv = env()) => evaluateExpression(expr, e)

describe('expression semantics', () => {
  const table: Array<[string, unknown]> = [
    ['1 + 2 * 3', 7],
    ['(1 + 2) * 3', 9],
    ['7 / 2', 3.5],
    ['7 % 4', 3],
    ['2 ** 10', 1024],
    ['-vars.n', -3],
    ["'a' + 'b'", 'ab'],
    ["'v' + 1", 'v1'],
    ['"double"', 'double'],
    ['true && false', false],
    ['true and not false', true],
    ['false || true', true],
    ['false or false', false],
    ['!true', false],
    ['1 == 1', true],
    ["'a' != 'b'", true],
    ['1 < 2', true],
    ["'a' < 'b'", true],
    ['2 >= 2', true],
    ['nil == null', true],
    ['nil ?? 5', 5],
    ['vars.missing ?? "default"', 'default'],
    ['vars.missing?.deeper', null],
    ["true ? 'yes' : 'no'", 'yes'],
    ["1 > 2 ? 'yes' : 1 > 0 ? 'mid' : 'no'", 'mid'],
    ['[1, 2, 3][1]', 2],
    ['[1, 2, 3][-1]', 3],
    ["'hello'[1]", 'e'],
    ['{a: 1, "b": [true]}', { a: 1, b: [true] }],
    ["'ell' in ['ell', 'x']", true],
    ["'image' in vars", true],
    ["'nope' in vars", false],
    ["'foobar' contains 'oba'", true],
    ["'foobar' startsWith 'foo'", true],
    ["'foobar' endsWith 'bar'", true],
    ["'v1.2.3' matches '^v[0-9]+\\\\.'", true],
    ["'ABC' matches '(?i)^abc$'", true],
    ['ctx.stage', 'dev'],
    ["ctx['stage']", 'dev'],
    ['ctx.targetFreight.origin.name', 'guestbook'],
    ['ctx.meta.promotion.actor', 'alice'],
    ["vars['kebab-key']", 'k'],
    ["outputs['update-image'].commitMessage", 'updated'],
    ['outputs.commit.commit', 'abc123'],
    ['task.outputs.push.branch', 'kargo/promotion/x'],
    ["vars.openpr != 'true'", true],
    ["vars.openpr == 'true'", false],
    ['len("héllo")', 5],
    ['len([1,2])', 2],
    ["upper('a') + lower('B')", 'Ab'],
    ["split('a,b,c', ',')", ['a', 'b', 'c']],
    ["join(['a', 'b'], '-')", 'a-b'],
    ["int('42') + 1", 43],
    ['string(42)', '42'],
    ["trimPrefix('v1.0', 'v')", '1.0'],
    ["hasPrefix('release-1', 'release-')", true],
    ['fromJSON(\'{"a": [1]}\').a[0]', 1],
    // Kargo functions
    ['imageFrom(vars.image).Tag', 'v0.0.2'],
    ['imageFrom( vars.image ).Digest', 'sha256:abc'],
    ["imageFrom('ghcr.io/akuity/guestbook').RepoURL", 'ghcr.io/akuity/guestbook'],
    [
      "imageFrom(vars.image).Annotations['org.opencontainers.image.source']",
      'https://github.com/akuity/guestbook'
    ],
    ["imageFrom('docker.io/library/nginx').Tag", '1.27'],
    ["imageFrom('ghcr.io/other/image')", null],
    ["imageFrom(vars.image, warehouse('guestbook')).Tag", 'v0.0.2'],
    ["imageFrom(vars.image, warehouse('other'))", null],
    ["commitFrom('https://github.com/akuity/kargo-helm').ID", 'deadbeef'],
    ["commitFrom('https://GitHub.com/akuity/kargo-helm.git/').Branch", 'main'],
    ["commitFrom('https://github.com/akuity/kargo-helm').Message", 'fix it'],
    ["chartFrom('oci://ghcr.io/akuity/charts/guestbook').Version", '1.2.3'],
    ["chartFrom('https://charts.example.com', 'podinfo').Version", '6.0.0'],
    ["chartFrom('https://charts.example.com', 'other')", null],
    ["warehouse('x').Name", 'x'],
    ["warehouse('x')", { kind: 'Warehouse', name: 'x' }],
    [
      'imageFrom(vars.image)',
      {
        repoURL: 'ghcr.io/akuity/guestbook',
        tag: 'v0.0.2',
        digest: 'sha256:abc',
        annotations: { 'org.opencontainers.image.source': 'https://github.com/akuity/guestbook' }
      }
    ],
    ["semverParse('v1.2.3-rc.1+build.5').Major()", 1],
    ["semverParse('1.2.3').Minor()", 2],
    ["semverParse('1.2.3').Patch()", 3],
    ["semverParse('1.2.3-rc.1').Prerelease()", 'rc.1'],
    ["semverParse('1.2.3+b.5').Metadata()", 'b.5'],
    ["semverParse('1.2.3').IncMinor().String()", '1.3.0'],
    ["semverParse('v1.2').String()", '1.2.0'],
    ["semverParse('1.2.3').IncMajor()", '2.0.0'],
    ["semverParse('1.2.3').LessThan('1.10.0')", true],
    ["semverDiff('1.2.3', '2.0.0')", 'Major'],
    ["semverDiff('1.2.3', '1.3.0')", 'Minor'],
    ["semverDiff('1.2.3', '1.2.4')", 'Patch'],
    ["semverDiff('1.2.3', '1.2.3+x')", 'Metadata'],
    ["semverDiff('1.2.3', 'v1.2.3')", 'None'],
    ["semverDiff('1.2.3', 'latest')", 'Incomparable'],
    ["freightMetadata('f1', 'rating')", 5],
    ["freightMetadata('f1')", { rating: 5 }],
    ["freightMetadata('nope', 'rating')", null],
    ["stageMetadata('dev', 'owner')", 'team-a'],
    ["stageMetadata('dev').nested.x", 1],
    ['quote(imageFrom(vars.image).Tag)', '"v0.0.2"'],
    ['quote(42)', '"42"'],
    // Kargo wraps these in quotes that the template layer reads back (pkg/expressions).
    ["unsafeQuote('a\"b')", '""a\\"b""'],
    ['asJSON({a: [1, "x"]})', '"{\n  "a": [\n    1,\n    "x"\n  ]\n}\n"'],
    ['asYAML({a: 1})', '"a: 1\n"'],
    [
      "ctx.targetFreight.origin.name == 'guestbook' ? 'updated '+ctx.stage+' guestbook to '+imageFrom( vars.image ).Tag : 'other'",
      'updated dev guestbook to v0.0.2'
    ]
  ]
  it.each(table)('%s', (expr, want) => {
    expect(ev(expr)).toEqual(want)
  })

  it('times: Go-style methods, comparisons and durations', () => {
    const e = env({ creatorDate: timeValue('2024-03-05T10:00:00Z') })
    expect(ev('creatorDate.Year()', e)).toBe(2024)
    expect(ev('creatorDate.Month()', e)).toBe(3)
    expect(ev('creatorDate.Day()', e)).toBe(5)
    expect(ev("creatorDate > date('2024-01-01T00:00:00Z')", e)).toBe(true)
    expect(ev("creatorDate.Before(date('2024-01-01T00:00:00Z'))", e)).toBe(false)
    expect(ev("now() - creatorDate > duration('24h')", e)).toBe(true)
    expect(ev("creatorDate + duration('1h') == date('2024-03-05T11:00:00Z')", e)).toBe(true)
    expect(ev('creatorDate', e)).toBe('2024-03-05T10:00:00.000Z')
  })

  it('imageFrom without an origin is ambiguous across warehouses, like Kargo', () => {
    const other = freight('f3', 'second', {
      images: [{ repoURL: 'ghcr.io/akuity/guestbook', tag: 'v9', digest: 'sha256:999' }]
    })
    const e = env({}, [f1, other])
    expect(() => ev('imageFrom(vars.image).Tag', e)).toThrow(
      /several warehouses.*warehouse\('guestbook'\)/
    )
    expect(ev("imageFrom(vars.image, warehouse('second')).Tag", e)).toBe('v9')
    expect(
      ev(
        "commitFrom('https://github.com/akuity/kargo-helm', warehouse('features')).ID",
        env({}, [f1, f2])
      )
    ).toBe('cafe')
  })

  it('secret() returns the value and masks it', () => {
    expect(ev("secret('token')")).toBe('s3cr3t-value')
    expect(redact('the token is s3cr3t-value')).toBe('the token is ***')
    expect(ev("secret('json').user")).toBe('bob')
    expect(redact('hunter22')).toBe('***')
    expect(() => ev("secret('missing')")).toThrow(/secret 'missing' is not defined/)
  })

  const errors: Array<[string, RegExp]> = [
    ['nope', /unknown name 'nope'/],
    ['unknownFn(1)', /unknown function 'unknownFn'/],
    ['outputs.missing.commit', /cannot read 'commit' of nil \(outputs\.missing is nil\)/],
    ["1 + 'a' + {}", /invalid operation/],
    ['1 && true', /needs bool operands/],
    ["'a' < 1", /invalid operation: string < int/],
    ['[1][5]', /index 5 out of range/],
    ['1 / 0', /division by zero/],
    ['imageFrom(vars.image).tag', /Image has no field 'tag'/],
    ["semverParse('1.0.0').Major", /is a method/],
    ["semverParse('nope')", /not a semantic version/],
    ["'x' matches '(a+)+$'", /nests quantifiers/],
    ["'x' matches '(a)\\\\1'", /backreferences/],
    ['1 +', /syntax error/],
    ['a === b', /syntax error/],
    ['1, 2', /syntax error/],
    ['', /empty/],
    ['vars.n ? 1 : 2', /condition of \?: must be a bool/],
    ['ctx.stage.Foo()', /has no method 'Foo'/]
  ]
  it.each(errors)('error: %s', (expr, re) => {
    expect(() => ev(expr)).toThrow(re)
  })

  it('error messages quote the expression', () => {
    expect(() => ev('outputs.missing.commit')).toThrow(/in expression "outputs\.missing\.commit"/)
  })
})

describe('evaluateTemplate', () => {
  const t = (v: unknown, e: ExprEnv = env()) => evaluateTemplate(v, e)

  it('evaluates string values, not keys, recursively', () => {
    expect(
      t({
        'key-${{ ctx.stage }}': 'path/${{ ctx.stage }}',
        list: [{ tag: '${{ imageFrom(vars.image).Tag }}' }, 5, true, null]
      })
    ).toEqual({
      'key-${{ ctx.stage }}': 'path/dev',
      list: [{ tag: 'v0.0.2' }, 5, true, null]
    })
  })

  it('a whole-string expression keeps its type; mixed text is a string', () => {
    expect(t('${{ vars.n }}')).toBe(3)
    expect(t('${{ vars.n > 1 }}')).toBe(true)
    expect(t('${{ [1, 2] }}')).toEqual([1, 2])
    expect(t('${{ nil }}')).toBeNull()
    expect(t('n=${{ vars.n }}')).toBe('n=3')
    // Kargo coerces the whole text after substitution.
    expect(t('${{ vars.n }}${{ vars.n }}')).toBe(33)
    expect(t('a ${{ {"x": 1} }}')).toBe('a {"x":1}')
    expect(t('${{ warehouse("w") }}')).toEqual({ kind: 'Warehouse', name: 'w' })
  })

  it('coerces JSON-looking string results unless quoted (Kargo)', () => {
    const e = env({ s: { num: '42', flt: '1.20', b: 'true', obj: '{"a":1}', word: 'hello' } })
    expect(t('${{ s.num }}', e)).toBe(42)
    expect(t('${{ s.flt }}', e)).toBe(1.2)
    expect(t('${{ s.b }}', e)).toBe(true)
    expect(t('${{ s.obj }}', e)).toEqual({ a: 1 })
    expect(t('${{ s.word }}', e)).toBe('hello')
    expect(t('${{ quote(s.num) }}', e)).toBe('42')
    expect(t('${{ quote(s.flt) }}', e)).toBe('1.20')
    expect(t('${{ quote(s.b) }}', e)).toBe('true')
    expect(t('${{ unsafeQuote(s.num) }}', e)).toBe('"42"')
    expect(t('v${{ s.num }}', e)).toBe('v42')
  })

  it('supports ${% %} and }} inside string literals', () => {
    expect(t("${% {'a': {'b': 'x'}}.a.b %}")).toBe('x')
    expect(t("${{ '}}' }}")).toBe('}}')
    expect(t('${{ "a" }}-${% "b" %}')).toBe('a-b')
  })

  it('multi-line expressions from folded YAML (kargo-helm)', () => {
    const msg =
      "${{ ctx.targetFreight.origin.name == 'guestbook' ? 'updated '+ctx.stage+' guestbook to '+imageFrom( vars.image ).Tag : 'updates '+ctx.stage+' features.yaml from '+commitFrom( vars.repoURL ).ID }}"
    expect(t(msg)).toBe('updated dev guestbook to v0.0.2')
  })

  it('errors name the config field', () => {
    expect(() => t({ checkout: [{ branch: '${{ nope }}' }] })).toThrow(
      /checkout\[0\]\.branch: unknown name 'nope'/
    )
    expect(() => t({ a: '${{ 1 ' })).toThrow(/unterminated \$\{\{/)
  })

  it('does not modify its input', () => {
    const input = { a: '${{ ctx.stage }}' }
    t(input)
    expect(input.a).toBe('${{ ctx.stage }}')
  })
})
