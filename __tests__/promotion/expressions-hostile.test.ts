import { describe, expect, it } from '@jest/globals'
import fc from 'fast-check'
import {
  ExpressionError,
  evaluateExpression,
  evaluateTemplate,
  type ExprEnv
} from '../../src/expressions/index.js'
import { ConfigFieldError } from '../../src/util/errors.js'

function env(): ExprEnv {
  return {
    vars: {
      ctx: { stage: 'dev', list: [1, 2, 3] },
      vars: { a: 'x' },
      // Data that came from JSON.parse can hold own "__proto__" keys.
      body: JSON.parse('{"__proto__": {"polluted": true}, "ok": 1}') as unknown
    },
    functions: { f: (x: unknown) => x }
  }
}

/** The only acceptable failure: a clear ExpressionError (or a ConfigFieldError naming a field). */
function safely(fn: () => unknown): unknown {
  try {
    return fn()
  } catch (err) {
    if (err instanceof ExpressionError || err instanceof ConfigFieldError) return err
    throw err
  }
}

function notPolluted(): void {
  const probe = {} as Record<string, unknown>
  expect(probe.polluted).toBeUndefined()
  expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted')).toBe(false)
  // Compares the functions by identity (was toString replaced?); neither is called.
  // eslint-disable-next-line @typescript-eslint/unbound-method
  expect(({} as Record<string, unknown>).toString).toBe(Object.prototype.toString)
}

describe('hostile expressions', () => {
  const blocked = [
    'constructor',
    'ctx.constructor',
    "ctx['constructor']",
    'ctx.__proto__',
    "ctx['__proto__']",
    "ctx['__pro' + 'to__']",
    'ctx.list.constructor',
    "'abc'.constructor",
    "ctx.stage['constructor']",
    'ctx.constructor.constructor("return process")()',
    'f.constructor',
    'f(ctx).__proto__',
    'body.__proto__.polluted',
    'prototype',
    '__proto__',
    "{'__proto__': {'polluted': true}}",
    '{__proto__: 1}',
    '{constructor: 1}',
    'ctx.list.length',
    'ctx.stage.length',
    'ctx.toString()',
    "ctx.hasOwnProperty('stage')",
    'process',
    'process.env',
    'globalThis',
    'global',
    'require("fs")',
    'import("fs")',
    'this',
    'this.constructor',
    'Function("return 1")()',
    'eval("1")',
    'f.call(null, 1)',
    'f.apply',
    'f',
    'ctx.stage = 1',
    'ctx.list.push(4)',
    "[].concat.constructor('return this')()",
    'new Date()'
  ]
  it.each(blocked)('refuses %s with a clear error', (expr) => {
    const r = safely(() => evaluateExpression(expr, env()))
    expect(r).toBeInstanceOf(ExpressionError)
    notPolluted()
  })

  it('reads an own "__proto__" data key only as data, never as the prototype', () => {
    expect(evaluateExpression('body.ok', env())).toBe(1)
    const out = evaluateExpression('body', env()) as Record<string, unknown>
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype)
    expect((out as { polluted?: unknown }).polluted).toBeUndefined()
    notPolluted()
  })

  it('deep nesting fails with a clear error, not a stack overflow', () => {
    for (const n of [200, 5_000, 100_000]) {
      const parens = '('.repeat(n) + '1' + ')'.repeat(n)
      expect(() => evaluateExpression(parens, env())).toThrow(/too deeply nested|characters long/)
      const arr = '['.repeat(n) + ']'.repeat(n)
      expect(() => evaluateExpression(arr, env())).toThrow(/too deeply nested|characters long/)
      const nots = '!'.repeat(Math.min(n, 10_000)) + 'true'
      expect(() => evaluateExpression(nots, env())).toThrow(ExpressionError)
      const chain = Array.from({ length: Math.min(n, 3000) }, () => '1').join('+')
      expect(() => evaluateExpression(chain, env())).toThrow(/too deeply nested|too complex/)
      const ternary = 'true ? '.repeat(Math.min(n, 3000)) + '1' + ' : 2'.repeat(Math.min(n, 3000))
      expect(() => evaluateExpression(ternary, env())).toThrow(ExpressionError)
    }
  })

  it('deeply nested config data is refused in templates', () => {
    let v: unknown = '${{ 1 }}'
    for (let i = 0; i < 10_000; i++) v = { a: v }
    expect(() => evaluateTemplate(v, env())).toThrow(/nested too deeply/)
  })

  it('huge expressions and strings are bounded', () => {
    const huge = "'" + 'a'.repeat(1_000_000) + "'"
    const start = Date.now()
    expect(() => evaluateExpression(huge, env())).toThrow(/characters long; the limit is/)
    expect(() => evaluateTemplate('${{ ' + huge + ' }}', env())).toThrow(/characters long/)
    // Huge data (not expression source) is fine to read.
    const bigEnv: ExprEnv = { vars: { s: 'b'.repeat(2_000_000) } }
    expect(evaluateExpression('len(s)', bigEnv)).toBe(2_000_000)
    expect(() => evaluateExpression('s + s + s', bigEnv)).toThrow(/too long/)
    expect(Date.now() - start).toBeLessThan(5000)
  })

  it('catastrophic regular expressions are refused', () => {
    const e: ExprEnv = { vars: { s: 'a'.repeat(50) + '!' } }
    expect(() => evaluateExpression("s matches '^(a+)+$'", e)).toThrow(/nests quantifiers/)
    expect(() => evaluateExpression("s matches '^(a*)*$'", e)).toThrow(/nests quantifiers/)
    // Overlapping alternation backtracks exponentially too: stopped by the time limit.
    const t0 = Date.now()
    expect(() => evaluateExpression("s matches '^(?:a|aa)+$'", e)).toThrow(/took too long/)
    expect(Date.now() - t0).toBeLessThan(5000)
    expect(evaluateExpression("s matches '^a+!$'", e)).toBe(true)
  })

  it('property: arbitrary strings never crash the evaluator or pollute prototypes', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        safely(() => evaluateExpression(s, env()))
        safely(() => evaluateTemplate({ v: '${{ ' + s + ' }}', w: s }, env()))
        notPolluted()
      }),
      { numRuns: 2000 }
    )
  })

  it('property: expressions built from hostile tokens never crash or pollute', () => {
    const token = fc.constantFrom(
      'constructor',
      '__proto__',
      'prototype',
      'process',
      'this',
      'ctx',
      'body',
      'vars',
      'f',
      '.',
      '[',
      ']',
      '(',
      ')',
      '{',
      '}',
      ':',
      ',',
      "'__proto__'",
      "'constructor'",
      '"polluted"',
      'true',
      '1',
      '+',
      '==',
      '?',
      '??',
      '?.',
      '!',
      'not',
      'in',
      'matches',
      ' '
    )
    fc.assert(
      fc.property(fc.array(token, { maxLength: 30 }), (tokens) => {
        const expr = tokens.join('')
        const r = safely(() => evaluateExpression(expr, env()))
        if (r && typeof r === 'object' && !(r instanceof Error)) {
          // Results are plain data with ordinary prototypes.
          const proto = Object.getPrototypeOf(r)
          expect(proto === Object.prototype || proto === Array.prototype).toBe(true)
        }
        expect(typeof r).not.toBe('function')
        notPolluted()
      }),
      { numRuns: 3000 }
    )
  })

  it('property: member access returns only own data', () => {
    const data = { a: { b: [1, 2, { c: 'x' }] } }
    fc.assert(
      fc.property(fc.oneof(fc.constant('b'), fc.string({ maxLength: 20 })), (key) => {
        const r = safely(() => evaluateExpression('data.a[k]', { vars: { data, k: key } }))
        if (!(r instanceof Error)) {
          expect(r).toEqual(
            Object.prototype.hasOwnProperty.call(data.a, key) ? data.a[key as 'b'] : null
          )
        }
      })
    )
  })
})
