import fs from 'node:fs'
import path from 'node:path'
import YAML from 'yaml'
import { describe, expect, it } from '@jest/globals'
import { createContext } from '../../src/runtime/create-context.js'
import {
  MAX_PARALLEL_PROMOTIONS,
  optionsFromFlags,
  optionsFromInputs
} from '../../src/runtime/options.js'
import { UsageError } from '../../src/util/errors.js'
import { MemoryLogger } from '../../src/util/logger.js'

/** Action inputs as the runner passes them: every declared input, empty when not set. */
function inputs(values: Record<string, string>) {
  return {
    get: (name: string) => values[name] ?? '',
    multiline: (name: string) => (values[name] ? [values[name]] : [])
  }
}

const ENV = { PATH: '/usr/bin' }

/** The error a call throws (it must throw). */
function thrown(fn: () => unknown): Error {
  try {
    fn()
  } catch (err) {
    return err as Error
  }
  throw new Error('expected an error, none was thrown')
}

const BAD = ['0', 'abc', '65', '-1', '1.5', '3x', '1e1', '999999999999']

describe('--parallel-promotions / input parallel-promotions', () => {
  it('the limit is 64', () => {
    expect(MAX_PARALLEL_PROMOTIONS).toBe(64)
  })

  it('unset (or empty) leaves it to the machine', () => {
    expect(optionsFromFlags({}, ENV).parallelPromotions).toBeUndefined()
    expect(optionsFromFlags({ 'parallel-promotions': '' }, ENV).parallelPromotions).toBeUndefined()
    expect(optionsFromInputs(inputs({}), ENV).parallelPromotions).toBeUndefined()
    expect(
      optionsFromInputs(inputs({ 'parallel-promotions': '  ' }), ENV).parallelPromotions
    ).toBeUndefined()
  })

  it('takes a whole number from 1 to 64, from either entry point', () => {
    for (const [raw, want] of [
      ['1', 1],
      ['3', 3],
      [' 16 ', 16],
      ['64', 64]
    ] as const) {
      expect(optionsFromFlags({ 'parallel-promotions': raw }, ENV).parallelPromotions).toBe(want)
      expect(
        optionsFromInputs(inputs({ 'parallel-promotions': raw }), ENV).parallelPromotions
      ).toBe(want)
    }
  })

  it.each(BAD)('flag value %p is a usage error naming --parallel-promotions', (raw) => {
    const err = thrown(() => optionsFromFlags({ 'parallel-promotions': raw }, ENV))
    expect(err).toBeInstanceOf(UsageError)
    expect(err.message).toContain('--parallel-promotions')
    expect(err.message).toContain('from 1 to 64')
    expect(err.message).toContain(JSON.stringify(raw.trim()))
  })

  it.each(BAD)("input value %p is a usage error naming input 'parallel-promotions'", (raw) => {
    const err = thrown(() => optionsFromInputs(inputs({ 'parallel-promotions': raw }), ENV))
    expect(err).toBeInstanceOf(UsageError)
    expect(err.message).toContain("input 'parallel-promotions'")
    expect(err.message).not.toContain('--parallel-promotions')
    expect(err.message).toContain('from 1 to 64')
  })

  it('reaches the command context, and action.yml declares the input (empty by default)', () => {
    const io = { logger: new MemoryLogger(), env: {}, print: () => undefined }
    expect(
      createContext(optionsFromFlags({ 'parallel-promotions': '5' }, ENV), io).parallelPromotions
    ).toBe(5)
    expect(
      createContext(optionsFromInputs(inputs({ 'parallel-promotions': '7' }), ENV), io)
        .parallelPromotions
    ).toBe(7)
    const action = YAML.parse(fs.readFileSync(path.join(process.cwd(), 'action.yml'), 'utf8')) as {
      inputs: Record<string, { default?: string }>
    }
    expect(action.inputs['parallel-promotions']).toBeDefined()
    expect(action.inputs['parallel-promotions'].default ?? '').toBe('')
  })
})
