import { describe, expect, it } from '@jest/globals'
import fs from 'node:fs'
import path from 'node:path'
import { makeRepo } from '../support/git.js'
import { branchTip } from '../support/state-branch.js'
import { addFreight, makeFreight } from '../support/state-fixtures.js'
import { StateStore } from '../../src/state/store.js'
import { MemoryLogger } from '../../src/util/logger.js'

describe('a lock file left on the remote by a killed git', () => {
  it('is named in the error (not reported as concurrent writers), and nothing is written', async () => {
    const repo = makeRepo()
    const open = () =>
      new StateStore({
        repoDir: repo.work,
        remote: 'origin',
        branch: 'waybill/state',
        logger: new MemoryLogger(),
        maxAttempts: 3,
        backoff: { baseMs: 1, maxMs: 2 }
      })
    await open().update((d) => (addFreight(d, makeFreight('w', 1)), 'first'))
    const before = branchTip(repo.bare, 'waybill/state')
    const lock = path.join(repo.bare, 'refs', 'heads', 'waybill', 'state.lock')
    fs.writeFileSync(lock, '')
    await expect(
      open().update((d) => (addFreight(d, makeFreight('w', 2)), 'second'))
    ).rejects.toThrow(/the remote keeps a lock file .*state\.lock/)
    expect(branchTip(repo.bare, 'waybill/state')).toBe(before)
    fs.rmSync(lock)
    await open().update((d) => (addFreight(d, makeFreight('w', 3)), 'third'))
    expect(branchTip(repo.bare, 'waybill/state')).not.toBe(before)
  })
})
