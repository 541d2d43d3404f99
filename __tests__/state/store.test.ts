import { describe, expect, it } from '@jest/globals'
import { gitIn, makeRepo, sh, showFile } from '../support/git.js'
import { freightFilesOn, readBranchState, writeStateBranch } from '../support/state-branch.js'
import { addFreight, makeFreight } from '../support/state-fixtures.js'
import { StateStore, type StateStoreOptions } from '../../src/state/store.js'
import { serializeState } from '../../src/state/serialize.js'
import { emptyState, STATE_SCHEMA_VERSION } from '../../src/state/types.js'
import { MemoryLogger } from '../../src/util/logger.js'
import { WaybillError } from '../../src/util/errors.js'

const BRANCH = 'waybill/state'

function setup(opts: Partial<StateStoreOptions> = {}) {
  const repo = makeRepo()
  const logger = new MemoryLogger()
  const open = (more: Partial<StateStoreOptions> = {}) =>
    new StateStore({
      repoDir: repo.work,
      remote: 'origin',
      branch: BRANCH,
      logger,
      ...opts,
      ...more
    })
  return { repo, logger, open, store: open() }
}

const tipOf = (bare: string) => {
  try {
    return sh('git', ['--git-dir', bare, 'rev-parse', `refs/heads/${BRANCH}`])
  } catch {
    return undefined
  }
}

const writeBranch = (repo: ReturnType<typeof makeRepo>, files: Record<string, string>) =>
  writeStateBranch(repo, BRANCH, files)

describe('StateStore', () => {
  it('reads an empty state when the branch does not exist, then creates it as an orphan', async () => {
    const { repo, store } = setup()
    expect(await store.read()).toEqual(emptyState())
    const f = makeFreight('guestbook', 1)
    const res = await store.update((d) => addFreight(d, f))
    expect(res.committed).toBe(true)
    expect(res.commit).toBe(tipOf(repo.bare))
    // Orphan: no parent, not related to main; working copy untouched.
    expect(sh('git', ['--git-dir', repo.bare, 'rev-list', '--count', BRANCH])).toBe('1')
    expect(gitIn(repo.work, 'status', '--porcelain')).toBe('')
    expect(gitIn(repo.work, 'branch', '--show-current')).toBe('main')
    const log = sh('git', ['--git-dir', repo.bare, 'log', '--format=%an <%ae>|%s', BRANCH])
    expect(log).toMatch(
      /^Waybill <waybill@users\.noreply\.github\.com>\|freight: add [a-z]+-[a-z]+ \(guestbook\)$/
    )
    const json = JSON.parse(showFile(repo.bare, BRANCH, 'state.json')!)
    expect(json.schemaVersion).toBe(STATE_SCHEMA_VERSION)
    // Freight lives in one file per warehouse, not in state.json.
    expect(json.freight).toBeUndefined()
    expect(freightFilesOn(repo.bare, BRANCH)).toEqual(['freight/guestbook.json'])
    expect(Object.keys(readBranchState(repo.bare, BRANCH)!.freight)).toEqual([f.name])
  })

  it('round-trips the state through a second store; one fetch per read', async () => {
    const { open, store } = setup()
    const f = makeFreight('guestbook', 1)
    f.status.verifiedIn.test = { verifiedAt: '2025-01-01T00:00:00Z' }
    await store.update((d) => addFreight(d, f))
    const other = open()
    const state = await other.read()
    expect(other.stats.fetches).toBe(1)
    expect(state.freight[f.name]).toEqual({ ...f, alias: state.freight[f.name].alias })
    // read() gives a mutable copy of its own.
    state.freight[f.name].alias = 'changed'
    expect((await other.read()).freight[f.name].alias).not.toBe('changed')
  })

  it('does not fetch again for an update right after a read, and commits nothing for a no-op', async () => {
    const { repo, store } = setup()
    await store.update((d) => addFreight(d, makeFreight('w', 1)))
    const tip = tipOf(repo.bare)
    const before = { ...store.stats }
    const same = await store.update(() => 'nothing really')
    expect(same.committed).toBe(false)
    const undef = await store.update((d) => {
      d.audit.push({ at: 'x', action: 'ignored' })
      return undefined
    })
    expect(undef.committed).toBe(false)
    expect(undef.state.audit).toHaveLength(0)
    // Setting a value to what it already is is no change either.
    const alias = Object.values((await store.read()).freight)[0].alias
    const id = Object.keys((await store.read()).freight)[0]
    const set = await store.update((d) => {
      d.freight[id].alias = alias
      return 'same alias'
    })
    expect(set.committed).toBe(false)
    expect(tipOf(repo.bare)).toBe(tip)
    expect(store.stats.pushes).toBe(before.pushes)

    const fresh = setup()
    await fresh.store.read()
    await fresh.store.update((d) => addFreight(d, makeFreight('w', 2)))
    expect(fresh.store.stats.fetches).toBe(1)
    expect(fresh.store.stats.pushes).toBe(1)
  })

  it('writes extra files in the same commit and keeps files already on the branch', async () => {
    const { repo, store } = setup()
    writeBranch(repo, { 'README.md': 'state branch\n', 'state.json': serializeState(emptyState()) })
    const res = await store.update((d) => {
      addFreight(d, makeFreight('w', 1))
      return {
        message: 'status page',
        files: { 'index.html': '<h1>status</h1>', 'assets/app.css': 'a{}' }
      }
    })
    expect(res.committed).toBe(true)
    expect(showFile(repo.bare, BRANCH, 'README.md')).toBe('state branch')
    expect(showFile(repo.bare, BRANCH, 'index.html')).toBe('<h1>status</h1>')
    expect(showFile(repo.bare, BRANCH, 'assets/app.css')).toBe('a{}')
    // Same files again and no state change: no commit.
    const again = await store.update(() => ({
      message: 'status page',
      files: { 'index.html': '<h1>status</h1>', 'assets/app.css': 'a{}' }
    }))
    expect(again.committed).toBe(false)
    // Only a file changes: a commit.
    const page = await store.update(() => ({
      message: 'page',
      files: { 'index.html': '<h1>v2</h1>' }
    }))
    expect(page.committed).toBe(true)
    expect(showFile(repo.bare, BRANCH, 'assets/app.css')).toBe('a{}')
    await expect(store.update(() => ({ message: 'x', files: { '../evil': 'x' } }))).rejects.toThrow(
      /invalid file name/
    )
  })

  it('re-applies the mutator when another writer moved the branch (no lost update)', async () => {
    const { repo, open } = setup()
    const a = open()
    const b = open()
    await a.update((d) => addFreight(d, makeFreight('w', 1)))
    await b.read()
    await a.update((d) => addFreight(d, makeFreight('w', 2)))
    let calls = 0
    const res = await b.update((d) => {
      calls++
      return addFreight(d, makeFreight('w', 3))
    })
    expect(calls).toBe(2)
    expect(res.attempts).toBe(2)
    expect(b.stats.rejections).toBe(1)
    expect(Object.keys(readBranchState(repo.bare, BRANCH)!.freight)).toHaveLength(3)
    expect(sh('git', ['--git-dir', repo.bare, 'rev-list', '--count', '--merges', BRANCH])).toBe('0')
  })

  it('gives up with a clear error after maxAttempts when the branch keeps moving', async () => {
    const { repo, open } = setup()
    const rival = open()
    await rival.update((d) => addFreight(d, makeFreight('w', 0)))
    const store = open({ maxAttempts: 3, backoff: { baseMs: 1, maxMs: 2 } })
    let n = 0
    const err = await store
      .update((d) => {
        // Every attempt, another writer gets in first.
        sh('node', ['-e', ''])
        writeBranch(repo, {
          'state.json': serializeState({
            ...emptyState(),
            audit: [{ at: String(n++), action: 'x' }]
          })
        })
        return addFreight(d, makeFreight('w', 1))
      })
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(WaybillError)
    expect((err as Error).message).toMatch(
      /could not update branch waybill\/state: it moved on each of 3 attempts/
    )
    expect(store.stats.pushes).toBe(3)
  })

  it('refuses to write an invalid state and leaves the branch alone', async () => {
    const { repo, store } = setup()
    await store.update((d) => addFreight(d, makeFreight('w', 1)))
    const tip = tipOf(repo.bare)
    const f = makeFreight('w', 2)
    await expect(
      store.update((d) => {
        addFreight(d, { ...f, commits: [{ ...f.commits[0], message: 'line1\nline2' }] })
        return 'bad'
      })
    ).rejects.toThrow(
      /refusing to write an invalid state \(bad\): freight\.[0-9a-f]{40}\.commits\[0\]\.message: contains a control character/
    )
    await expect(
      store.update((d) => {
        ;(d.stages as Record<string, unknown>).s = { freightHistory: 'nope' }
        return 'bad stage'
      })
    ).rejects.toThrow(/stages\.s\.freightHistory/)
    expect(tipOf(repo.bare)).toBe(tip)
  })
})

describe('StateStore with a corrupt or foreign state', () => {
  const cases: Array<[string, string, RegExp, RegExp]> = [
    [
      'invalid JSON',
      '{"schemaVersion": 1, "freight": {',
      /is not valid JSON/,
      /fix or revert the last commit on branch waybill\/state/
    ],
    [
      'a newer schema version',
      JSON.stringify({ ...emptyState(), schemaVersion: STATE_SCHEMA_VERSION + 1 }),
      new RegExp(
        `has schema version ${STATE_SCHEMA_VERSION + 1}, newer than this Waybill understands \\(${STATE_SCHEMA_VERSION}\\)`
      ),
      /upgrade waybill/
    ],
    [
      'a failed schema',
      JSON.stringify({ ...emptyState(), stages: { dev: { freightHistory: 3 } } }),
      /is invalid: stages\.dev\.freightHistory: /,
      /fix or revert/
    ],
    ['a JSON array', '[]', /is not a JSON object/, /fix or revert/],
    [
      'a control character in freight',
      (() => {
        // Version 1 kept freight in state.json.
        const s = { ...emptyState(), schemaVersion: 1 }
        const f = makeFreight('w', 1)
        s.freight[f.name] = {
          ...f,
          alias: 'brave-otter',
          images: [{ ...f.images[0], tag: 'v1\u0007' }]
        }
        return JSON.stringify(s)
      })(),
      /is invalid: freight\.[0-9a-f]{40}\.images\[0\]\.tag: contains a control character/,
      /fix or revert/
    ]
  ]

  it.each(cases)('%s: clear error, never overwritten', async (_name, content, message, hint) => {
    const { repo, store } = setup()
    const tip = writeBranch(repo, { 'state.json': content })
    const err = (await store.read().catch((e: unknown) => e)) as WaybillError
    expect(err).toBeInstanceOf(WaybillError)
    expect(err.message).toMatch(message)
    expect(err.message).toContain(`commit ${tip.slice(0, 7)}`)
    expect(err.hint).toMatch(hint)
    await expect(store.update((d) => addFreight(d, makeFreight('w', 9)))).rejects.toThrow(message)
    expect(tipOf(repo.bare)).toBe(tip)
    expect(showFile(repo.bare, BRANCH, 'state.json')).toBe(content.trim())
  })

  it('refuses a state.json over the size limit without reading it', async () => {
    const { repo, open } = setup()
    const tip = writeBranch(repo, { 'state.json': serializeState(emptyState()) + ' '.repeat(4096) })
    const store = open({ maxBytes: 4000 })
    await expect(store.read()).rejects.toThrow(
      /state\.json on branch waybill\/state \(commit [0-9a-f]{7}\) is \d+ bytes, over the 4000-byte limit/
    )
    await expect(store.update(() => 'x')).rejects.toThrow(/over the 4000-byte limit/)
    expect(tipOf(repo.bare)).toBe(tip)
  })

  it('migrates a version-0 state on read and writes it with the next change', async () => {
    const { repo, store, logger } = setup()
    const f = makeFreight('w', 1)
    const { status: _status, charts: _charts, ...bare } = f
    writeBranch(repo, {
      'state.json': JSON.stringify({
        freight: [{ ...bare, alias: 'old-owl' }],
        stages: { dev: { freightHistory: [] } }
      })
    })
    const state = await store.read()
    expect(state.schemaVersion).toBe(STATE_SCHEMA_VERSION)
    expect(state.freight[f.name].alias).toBe('old-owl')
    expect(state.freight[f.name].status.verifiedIn).toEqual({})
    expect(state.stages.dev.autoPromotionHolds).toEqual({})
    expect(logger.text()).toMatch(
      new RegExp(`migrating state\\.json from schema version 0 to ${STATE_SCHEMA_VERSION}`)
    )
    await store.update((d) => {
      d.audit.push({ at: '2025-01-01T00:00:00Z', action: 'note' })
      return 'audit: note'
    })
    const json = JSON.parse(showFile(repo.bare, BRANCH, 'state.json')!)
    expect(json.schemaVersion).toBe(STATE_SCHEMA_VERSION)
    expect(json.audit).toHaveLength(1)
    expect(readBranchState(repo.bare, BRANCH)!.freight[f.name].alias).toBe('old-owl')
  })

  it('fails clearly when the remote cannot be reached', async () => {
    const { open } = setup()
    const store = open({ remote: '/nonexistent/repo.git' })
    await expect(store.read()).rejects.toThrow(
      /could not fetch state branch waybill\/state from \/nonexistent\/repo\.git/
    )
  })
})
