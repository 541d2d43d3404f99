import { describe, expect, it } from '@jest/globals'
import {
  evaluateExpression,
  evaluateTemplate,
  parseExpression,
  timeValue,
  type ExprEnv
} from '../../src/expressions/index.js'

// One row per construct of expr-lang's language definition (docs/language-definition.md):
// our own expressions, shaped like the documented examples, with the value expr-lang gives.

const people = [
  { Name: 'Jane Doe', Age: 31, Winner: false, Tags: ['a'] },
  { Name: 'John Roe', Age: 17, Winner: true, Tags: [] },
  { Name: 'Jim Poe', Age: 31, Winner: false, Tags: ['a', 'b'] }
]

function env(): ExprEnv {
  return {
    vars: {
      people,
      nums: [5, 3, 8, 1],
      user: { Name: 'Ada Lovelace', Profile: null },
      'key with spaces': 1,
      created: timeValue('2024-03-05T10:00:00Z')
    }
  }
}

const ev = (expr: string) => evaluateExpression(expr, env())

describe('expr-lang language definition', () => {
  const table: Array<[string, unknown]> = [
    // literals
    ['0x1F + 0o17 + 0b11', 31 + 15 + 3],
    ['1_000_000', 1_000_000],
    ['.25 + 0.25', 0.5],
    ['1e3', 1000],
    ['"tab\\there"', 'tab\there'],
    ['"\\u00e9t\\u00e9"', 'été'],
    ['"\\x41\\102"', 'AB'],
    ['`raw \\n text`', 'raw \\n text'],
    ['`two\nlines`', 'two\nlines'],
    ['1 + /* inline */ 2 // trailing', 3],
    [
      '{name: "x", "quoted key": 2, 3: "three", ("a" + "b"): true}',
      { name: 'x', 'quoted key': 2, '3': 'three', ab: true }
    ],
    ['{a: 1,}', { a: 1 }],
    ['{}', {}],
    // operators
    ['2 ^ 3 ^ 2', 512],
    ['2 ** 3', 8],
    ['10 % 4', 2],
    ['not (1 > 2)', true],
    ['1 < 2 < 3', true],
    ['3 > 2 > 2', false],
    ['"ada" in ["ada", "bob"]', true],
    ['"zed" not in ["ada", "bob"]', true],
    ['"Name" in user', true],
    ['"Missing" not in user', true],
    ['"lovelace" not   contains "z"', true],
    ['user.Name startsWith "Ada"', true],
    ['user.Name not startsWith "Bob"', true],
    ['user.Name endsWith "lace"', true],
    ['user.Name matches "^A.a "', true],
    ['user.Name not matches "^B"', true],
    ['user["Name"]', 'Ada Lovelace'],
    ['nums[-1]', 1],
    ['user.Profile?.Email', null],
    ['user.Profile?.Email.Domain', null],
    ['user?.Name', 'Ada Lovelace'],
    ['user.Profile?.["Email"]', null],
    ['user.Profile?.Email ?? "anonymous"', 'anonymous'],
    ['user.Name ?? "anonymous"', 'Ada Lovelace'],
    ['true ? "yes" : "no"', 'yes'],
    ['false ?: true', true],
    ['if len(nums) > 3 { "many" } else { "few" }', 'many'],
    ['if 1 > 2 { "a" } else if 2 > 1 { "b" } else { "c" }', 'b'],
    // ranges and slices
    ['1..4', [1, 2, 3, 4]],
    ['3..1', []],
    ['nums[1:3]', [3, 8]],
    ['nums[1:-1]', [3, 8]],
    ['nums[:2]', [5, 3]],
    ['nums[2:]', [8, 1]],
    ['nums[:]', [5, 3, 8, 1]],
    ['"kargo"[1:3]', 'ar'],
    // pipes, let, $env
    ['user.Name | lower() | split(" ")', ['ada', 'lovelace']],
    ['nums | filter(# > 4) | map(# * 10)', [50, 80]],
    ['let x = 21; x * 2', 42],
    ['let a = 2;\nlet b = 3;\na * b', 6],
    ['let name = user.Name | upper() | split(" "); "Hi, " + name[0] + "!"', 'Hi, ADA!'],
    ['(1; 2; 3)', 3],
    ['$env["key with spaces"]', 1],
    ['"people" in $env', true],
    ['$env.user.Name == user.Name', true],
    // predicates
    ['filter(0..9, {# % 3 == 0})', [0, 3, 6, 9]],
    ['filter(people, .Age > 18)', [people[0], people[2]]],
    ['map(filter(people, {len(.Tags) > 0}), .Name)', ['Jane Doe', 'Jim Poe']],
    ['map(people, #index)', [0, 1, 2]],
    ['map(nums, {# + #index})', [5, 4, 10, 4]],
    ['all(people, .Age > 10)', true],
    ['all([], # > 10)', true],
    ['any(people, .Winner)', true],
    ['any([], .Winner)', false],
    ['one(people, {.Winner})', true],
    ['none(people, .Age > 40)', true],
    ['find(nums, # > 4)', 5],
    ['find(nums, # > 100)', null],
    ['findIndex(nums, # > 5)', 2],
    ['findLast(nums, # > 2)', 8],
    ['findLastIndex(nums, # > 2)', 2],
    ['count(people, .Age == 31)', 2],
    ['count([true, false, true])', 2],
    ['sum(nums)', 17],
    ['sum(people, .Age)', 79],
    ['groupBy(people, .Age)[31] | map(.Name)', ['Jane Doe', 'Jim Poe']],
    ['keys(groupBy(nums, # % 2 == 0))', ['false', 'true']],
    ['sortBy(people, .Age) | map(.Name)', ['John Roe', 'Jane Doe', 'Jim Poe']],
    ['sortBy(people, .Name, "desc") | map(.Age)', [17, 31, 31]],
    ['reduce(1..5, #acc + #)', 15],
    ['reduce(1..5, #acc + #, 100)', 115],
    ['reduce(people, #acc + .Age, 0)', 79],
    [
      'filter(people, {let p = #; any(people, .Age == p.Age && .Name != p.Name)}) | map(.Name)',
      ['Jane Doe', 'Jim Poe']
    ],
    // strings
    ['trim("  pad  ")', 'pad'],
    ['trim("--x--", "-")', 'x'],
    ['trimPrefix("v1.2.3", "v")', '1.2.3'],
    ['trimSuffix("chart.tgz", ".tgz")', 'chart'],
    ['upper("abc") + lower("DEF")', 'ABCdef'],
    ['split("a,b,c", ",", 2)', ['a', 'b,c']],
    ['splitAfter("a,b,c", ",")', ['a,', 'b,', 'c']],
    ['splitAfter("a,b,c", ",", 2)', ['a,', 'b,c']],
    ['replace("stage/dev", "dev", "prod")', 'stage/prod'],
    ['repeat("ab", 3)', 'ababab'],
    ['indexOf("release-1.2", "-")', 7],
    ['lastIndexOf("a.b.c", ".")', 3],
    ['hasPrefix("release-1", "release-")', true],
    ['hasSuffix("image:latest", ":latest")', true],
    // numbers
    ['max(4, 9)', 9],
    ['min(4, 9)', 4],
    ['max(nums)', 8],
    ['abs(-3)', 3],
    ['ceil(1.2)', 2],
    ['floor(1.8)', 1],
    ['round(2.5)', 3],
    ['round(-2.5)', -3],
    ['mean([1, 2, 3, 6])', 3],
    ['median([7, 1, 3])', 3],
    ['median([4, 1, 3, 2])', 2.5],
    // arrays
    ['concat([1], [2, 3], [])', [1, 2, 3]],
    ['flatten([1, [2, [3, 4]]])', [1, 2, 3, 4]],
    ['uniq([3, 1, 3, 2, 1])', [3, 1, 2]],
    ['join(["a", "b"], "/")', 'a/b'],
    ['join(["a", "b"])', 'ab'],
    ['first(nums)', 5],
    ['last(nums)', 1],
    ['first([])', null],
    ['take(nums, 2)', [5, 3]],
    ['take(nums, 10)', [5, 3, 8, 1]],
    ['reverse(nums)', [1, 8, 3, 5]],
    ['sort(nums)', [1, 3, 5, 8]],
    ['sort(nums, "desc")', [8, 5, 3, 1]],
    ['sort(["b", "a"])', ['a', 'b']],
    // maps
    ['keys({x: 1, y: 2})', ['x', 'y']],
    ['values({x: 1, y: 2})', [1, 2]],
    ['toPairs({x: 1})', [['x', 1]]],
    ['fromPairs([["x", 1], ["y", true]])', { x: 1, y: true }],
    // conversion
    ['type(1)', 'int'],
    ['type(1.5)', 'float'],
    ['type("s")', 'string'],
    ['type(nil)', 'nil'],
    ['type([])', 'array'],
    ['type({})', 'map'],
    ['type(now())', 'time.Time'],
    ['int("42")', 42],
    ['int(3.9)', 3],
    ['float("2.5")', 2.5],
    ['string(7)', '7'],
    ['toJSON({a: [1]})', '{\n  "a": [\n    1\n  ]\n}'],
    ['fromJSON("[1, \\"x\\"]")', [1, 'x']],
    ['toBase64("Hello World")', 'SGVsbG8gV29ybGQ='],
    ['fromBase64("SGVsbG8gV29ybGQ=")', 'Hello World'],
    // misc
    ['len("héllo") + len([1]) + len({a: 1})', 7],
    ['get(nums, 1)', 3],
    ['get(nums, 10)', null],
    ['get(nums, -1)', 1],
    ['get(user, "Name")', 'Ada Lovelace'],
    ['get(user, "Nope")', null],
    // bitwise
    ['bitand(0b1010, 0b1100)', 0b1000],
    ['bitor(0b1010, 0b1100)', 0b1110],
    ['bitxor(0b1010, 0b1100)', 0b110],
    ['bitnand(0b1010, 0b1100)', 0b10],
    ['bitnot(0b1010)', -0b1011],
    ['bitshl(0b101101, 2)', 0b10110100],
    ['bitshr(0b101101, 2)', 0b1011],
    ['bitushr(-0b101, 60)', 15],
    // dates
    ['duration("1h30m").Minutes()', 90],
    ['duration("1h") + duration("30m") == duration("90m")', true],
    ['date("2023-08-14").Year()', 2023],
    ['date("2023-08-14 10:20:30").Minute()', 20],
    ['date("2023-08-14T10:00:00+02:00").Hour()', 8],
    ['date("14/08/2023", "02/01/2006").Month()', 8],
    ['date("Aug 14, 2023 at 3:04pm", "Jan 2, 2006 at 3:04pm").Hour()', 15],
    ['date("2023-08-14 00:00:00", "2006-01-02 15:04:05", "Europe/Zurich").Hour()', 22],
    ['created > date("2024-01-01")', true],
    ['created + duration("24h") > created', true],
    ['now() - created > duration("1h")', true]
  ]

  it.each(table)('%s', (expr, want) => {
    expect(ev(expr)).toEqual(want)
  })

  const errors: Array<[string, RegExp]> = [
    ['# > 1', /only be used inside a predicate/],
    ['filter([1], "x")', /must return a bool/],
    ['{# > 1}', /predicate can only be an argument/],
    ['nums | 1', /must be a function call/],
    ['b"bytes"', /bytes literals/],
    ['let x = 1 x', /expected ';'/],
    ['if true { 1 }', /expected 'else'/],
    ['nums[3:1]', /invalid slice/],
    ['sort([1, "a"])', /cannot compare/],
    ['sortBy(nums, #, "up")', /order must be/],
    ['fromBase64("***")', /invalid base64/],
    ['date("yesterday")', /invalid date/],
    ['date("2023-08-14", "2006-01-02", "Mars/Olympus")', /unknown time zone/],
    ['repeat("x", -1)', /must not be negative/]
  ]
  it.each(errors)('error: %s', (expr, re) => {
    expect(() => ev(expr)).toThrow(re)
  })

  it('a nested predicate sees its own #, and let reaches the outer one', () => {
    expect(ev('map([[1, 2], [3]], {let outer = #index; map(#, outer * 10 + #)})')).toEqual([
      [1, 2],
      [13]
    ])
  })

  it('parses every construct above without evaluating', () => {
    for (const [expr] of table) expect(() => parseExpression(expr)).not.toThrow()
  })
})

describe('Kargo template coercion (pkg/expressions EvaluateTemplate)', () => {
  const t = (v: string) => evaluateTemplate(v, env())
  const table: Array<[string, unknown]> = [
    ['${{ 40 + 2 }}', 42],
    ['${{ quote(40 + 2) }}', '42'],
    ['${{ quote("string") }}', 'string'],
    ['${{ unsafeQuote(40 + 2) }}', '42'],
    ['${{ unsafeQuote("string") }}', '"string"'],
    ['${{ "T" }}', true],
    ['${{ "1.50" }}', 1.5],
    ['${{ "text" }}\n', 'text\n'],
    ['${{ 1 }}.${{ 5 }}', 1.5],
    ['v${{ 1 }}', 'v1'],
    ['${{ asJSON({a: 1}) }}', '{\n  "a": 1\n}\n'],
    ['${{ asYAML({a: [1, 2]}) }}', 'a:\n  - 1\n  - 2\n'],
    ['${% {"labels": {"app": "nginx"}} %}', { labels: { app: 'nginx' } }],
    ['at ${{ created }}', 'at "2024-03-05T10:00:00.000Z"'],
    ['no expression: 42', 'no expression: 42']
  ]
  it.each(table)('%j', (tpl, want) => {
    expect(t(tpl)).toEqual(want)
  })
})
