// The action's logger as the runner reads it: workflow commands on stdout.
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals'
import { ActionLogger } from '../src/main.js'

let lines: string[] = []
beforeEach(() => {
  lines = []
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(...String(chunk).split(/\r?\n/).filter(Boolean))
    return true
  })
})
afterEach(() => {
  jest.restoreAllMocks()
  process.exitCode = undefined
})

describe('ActionLogger', () => {
  it('never nests ::group:: (GitHub does not): inner groups are plain lines', async () => {
    const logger = new ActionLogger()
    await logger.group('Discovery', async () => {
      await logger.group('Warehouse app', async () => logger.info('found 1.0.0'))
      await logger.group('Warehouse cfg', async () => logger.info('nothing new'))
    })
    await logger.group('promote a → test', async () => logger.info('done'))
    expect(lines).toEqual([
      '::group::Discovery',
      '▸ Warehouse app',
      'found 1.0.0',
      '▸ Warehouse cfg',
      'nothing new',
      '::endgroup::',
      '::group::promote a → test',
      'done',
      '::endgroup::'
    ])
  })

  it('one failure, one annotation: a repeat of an annotated error is a plain line', () => {
    const logger = new ActionLogger()
    logger.error("step 'bad' (fail): the canary is unhealthy")
    logger.error("✘ canary.01abc Failed: step 'bad' (fail): the canary is unhealthy")
    logger.error('discovery of app: registry unreachable')
    logger.fail('waybill reconcile failed')
    expect(lines.filter((l) => l.startsWith('::error'))).toEqual([
      "::error::step 'bad' (fail): the canary is unhealthy",
      '::error::discovery of app: registry unreachable'
    ])
    expect(lines).toContain('waybill reconcile failed')
    expect(process.exitCode).toBe(1)
  })

  it('a failure nothing annotated yet is annotated', () => {
    const logger = new ActionLogger()
    logger.fail('--stage is required')
    expect(lines).toEqual(['::error::--stage is required'])
  })
})
