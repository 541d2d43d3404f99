import { describe, expect, it } from '@jest/globals'
import {
  ExpressionError,
  evaluateExpression,
  evaluateTemplate,
  type ExprEnv
} from '../../src/expressions/index.js'

// Every construct that builds a value is bounded: a hostile expression gets a clear
// ExpressionError quickly, never an out-of-memory abort of the Node process.

const big: ExprEnv = { vars: { s: 'a'.repeat(1_000_000), small: 'ab' } }

function refused(expr: string, re: RegExp, e: ExprEnv = big): void {
  const t0 = Date.now()
  let err: unknown
  try {
    evaluateExpression(expr, e)
  } catch (x) {
    err = x
  }
  expect(err).toBeInstanceOf(ExpressionError)
  expect((err as Error).message).toMatch(re)
  expect(Date.now() - t0).toBeLessThan(8000)
}

describe('expression resource limits', () => {
  it.each([
    ['replace(s, "a", s)', /replace: the result would be \d+ characters/],
    ['replace(s, "", "wxyz")', /replace: the result would be/],
    ['repeat(s, 1000)', /repeat: the result would be/],
    ['repeat("x", 9007199254740991)', /repeat: the result would be/],
    ['join(map(1..100, s), ",")', /join: the result would be/],
    ['join([s, s, s, s, s], "")', /join: the result would be/],
    ['split(repeat("a", 2000000), "")', /split: the result would have/],
    ['toJSON(map(1..100, s))', /too large to serialize/],
    ['string(map(1..100, s))', /too large to serialize/],
    ['asJSON(map(1..100, s))', /too large to serialize/],
    ['asYAML(map(1..100, s))', /too large to serialize/],
    ['quote(map(1..100, s))', /too large to serialize/],
    ['1..100000000', /limit is 1000000/],
    ['concat(1..900000, 1..900000)', /concat: the result would have/],
    ['(1..900000) + (1..900000)', /array result is too long/],
    ['flatten(map(1..1100, 1..1000))', /flatten: the result would have|step limit/],
    ['map(1..1000000, map(1..1000000, #))', /step limit|took too long|limit is/],
    ['reduce(1..1000000, reduce(1..1000000, #acc + #, 0), 0)', /step limit|took too long/],
    ['count(1..1000000, all(1..1000000, # > 0))', /step limit|took too long/]
  ])('%s is refused', (expr, re) => refused(expr, re))

  it('results within the limits still work', () => {
    expect(evaluateExpression('len(replace(small, "a", "xyz"))', big)).toBe(4)
    expect(evaluateExpression('len(repeat(small, 1000))', big)).toBe(2000)
    expect(evaluateExpression('len(split(s, ""))', big)).toBe(1_000_000)
    expect(evaluateExpression('len(1..1000000)', big)).toBe(1_000_000)
  })

  it('template text built from many large expressions is bounded', () => {
    const tpl = Array.from({ length: 10 }, () => '${{ s }}').join('')
    expect(() => evaluateTemplate({ v: tpl }, big)).toThrow(/longer than/)
  })

  it('deeply nested predicates and lets stay within the depth limit', () => {
    const nested = 'map([1], '.repeat(200) + '#' + ')'.repeat(200)
    expect(() => evaluateExpression(nested, big)).toThrow(/too deeply nested/)
    const lets = 'let a = 1; '.repeat(3000) + 'a'
    expect(() => evaluateExpression(lets, big)).toThrow(ExpressionError)
  })
})
