import { describe, expect, it } from '@jest/globals'
import { defineCommand } from '../../src/commands/define.js'
import type { CommandContext } from '../../src/runtime/context.js'
import { flagValues } from '../../src/runtime/flags.js'
import { UsageError } from '../../src/util/errors.js'

const FLAGS = {
  stage: { type: 'string', description: 'one value' },
  warehouse: { type: 'string', multiple: true, description: 'repeatable' },
  force: { type: 'boolean', description: 'a switch' }
} as const

describe('flagValues', () => {
  it('types absent flags: undefined, [] and false', () => {
    expect(flagValues(FLAGS, {})).toEqual({ stage: undefined, warehouse: [], force: false })
  })

  it('takes CLI values as parsed and action inputs as strings', () => {
    expect(flagValues(FLAGS, { stage: 'uat', warehouse: ['a', 'b'], force: true })).toEqual({
      stage: 'uat',
      warehouse: ['a', 'b'],
      force: true
    })
    // An input holds one string even for a repeatable flag; a switch may arrive as 'true'.
    expect(flagValues(FLAGS, { warehouse: 'a\nb', force: 'true' })).toEqual({
      stage: undefined,
      warehouse: ['a\nb'],
      force: true
    })
    expect(flagValues(FLAGS, { force: 'false' }).force).toBe(false)
    // YAML 1.2 spellings; anything else is an error, never a silent false.
    expect(flagValues(FLAGS, { force: 'True' }).force).toBe(true)
    expect(flagValues(FLAGS, { force: 'FALSE' }).force).toBe(false)
    expect(() => flagValues(FLAGS, { force: 'yes' })).toThrow(/--force must be true or false/)
  })

  it('keeps the last of a repeated single value and drops undeclared arguments', () => {
    expect(flagValues(FLAGS, { stage: ['a', 'b'], freight: 'x', _: ['pos'] })).toEqual({
      stage: 'b',
      warehouse: [],
      force: false
    })
  })

  it('rejects a switch where a value is needed', () => {
    expect(() => flagValues(FLAGS, { stage: true })).toThrow(UsageError)
    expect(() => flagValues(FLAGS, { stage: true })).toThrow('--stage needs a value')
  })
})

describe('defineCommand', () => {
  it('hands run() the declared flags, typed, whatever arrived', async () => {
    const seen: unknown[] = []
    const command = defineCommand({
      name: 'probe',
      description: 'records its arguments',
      flags: FLAGS,
      async run(_ctx, args) {
        const stage: string | undefined = args.stage
        const warehouses: string[] = args.warehouse
        const force: boolean = args.force
        // @ts-expect-error a single-valued flag may be absent
        const required: string = args.stage
        // @ts-expect-error only declared flags exist
        void args.freight
        seen.push({ stage, warehouses, force, required })
        return { exitCode: 0 }
      }
    })
    expect(command.flags).toBe(FLAGS)
    await command.run({} as CommandContext, { warehouse: 'w', extra: 'ignored' })
    expect(seen).toEqual([
      { stage: undefined, warehouses: ['w'], force: false, required: undefined }
    ])
  })
})
