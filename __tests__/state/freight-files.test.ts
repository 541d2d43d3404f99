import { describe, expect, it } from '@jest/globals'
import { makeRepo, sh, showFile } from '../support/git.js'
import { addFreight, makeFreight } from '../support/state-fixtures.js'
import {
  branchTip,
  freightFilesOn,
  readBranchState,
  writeStateBranch
} from '../support/state-branch.js'
import { StateStore, type StateStoreOptions } from '../../src/state/store.js'
import { serializeState } from '../../src/state/serialize.js'
import { emptyState, STATE_SCHEMA_VERSION, type State } from '../../src/state/types.js'
import { gitStats } from '../../src/git/git.js'
import { freightId } from '../../src/freight/id.js'
import { MemoryLogger } from '../../src/util/logger.js'
import { WaybillError } from '../../src/util/errors.js'

const BRANCH = 'waybill/state'

function setup() {
  const repo = makeRepo()
  const logger = new MemoryLogger()
  const open = (more: Partial<StateStoreOptions> = {}) =>
    new StateStore({ repoDir: repo.work, remote: 'origin', branch: BRANCH, logger, ...more })
  return { repo, logger, open }
}

/** Blob ID of each file under freight/ on the branch. */
function freightBlobs(bare: string): Record<string, string> {
  const out = sh('git', ['--git-dir', bare, 'ls-tree', `${BRANCH}:freight`])
  return Object.fromEntries(
    out.split('\n').map((line) => {
      const [meta, name] = line.split('\t')
      return [name, meta.split(' ')[2]]
    })
  )
}

const withFreight =
  (...freight: ReturnType<typeof makeFreight>[]) =>
  (d: State) => {
    for (const f of freight) addFreight(d, f)
    return `add ${freight.length}`
  }

/** makeFreight's freight with its image from another repository (and the ID that gives). */
function fromImageRepo(f: ReturnType<typeof makeFreight>, repoURL: string) {
  const moved = { ...f, images: f.images.map((i) => ({ ...i, repoURL })) }
  return { ...moved, name: freightId(moved) }
}

/** Record lines of a freight file. */
const recordLines = (text: string) =>
  text.split('\n').filter((l) => /^ {4}"[0-9a-f]{40}": \{/.test(l))

describe('freight kept as one file per warehouse', () => {
  it('writes state.json without freight and freight/<warehouse>.json without names or origins', async () => {
    const { repo, open } = setup()
    const a1 = makeFreight('api', 1)
    const a2 = makeFreight('api', 2)
    const w1 = makeFreight('web', 1)
    const res = await open().update(withFreight(a1, a2, w1))
    expect(freightFilesOn(repo.bare, BRANCH)).toEqual(['freight/api.json', 'freight/web.json'])
    expect(showFile(repo.bare, BRANCH, 'state.json')).not.toContain('"freight"')
    const api = showFile(repo.bare, BRANCH, 'freight/api.json')!
    expect(api.split('\n')[1]).toBe('  "freight": {')
    expect(api).toContain('"origin": {"kind":"Warehouse","name":"api"}')
    // One record per line; the key is the name and the file gives the origin.
    const records = api.split('\n').filter((l) => /^ {4}"[0-9a-f]{40}": \{/.test(l))
    expect(records).toHaveLength(2)
    for (const line of records) {
      expect(line).not.toContain('"name"')
      expect(line).not.toContain('"origin"')
    }
    // A second store reads back exactly what was written.
    expect(await open().read()).toEqual(JSON.parse(JSON.stringify(res.state)))
    expect(readBranchState(repo.bare, BRANCH)).toEqual(await open().read())
  })

  it('a write sends only the files of warehouses whose freight changed', async () => {
    const { repo, open } = setup()
    const store = open()
    await store.update(
      withFreight(makeFreight('api', 1), makeFreight('web', 1), makeFreight('db', 1))
    )
    const before = freightBlobs(repo.bare)
    const stateBefore = showFile(repo.bare, BRANCH, 'state.json')
    await store.update((d) => {
      const f = Object.values(d.freight).find((x) => x.origin.name === 'web')!
      f.status.approvedFor.prod = { approvedAt: '2025-01-01T00:00:00Z' }
      return 'approve web'
    })
    const after = freightBlobs(repo.bare)
    expect(after['web.json']).not.toBe(before['web.json'])
    expect(after['api.json']).toBe(before['api.json'])
    expect(after['db.json']).toBe(before['db.json'])
    expect(showFile(repo.bare, BRANCH, 'state.json')).toBe(stateBefore)
    // The commit's diff touches that one file.
    const changed = sh('git', [
      '--git-dir',
      repo.bare,
      'diff',
      '--name-only',
      `${BRANCH}~1`,
      BRANCH
    ])
    expect(changed).toBe('freight/web.json')
  })

  it("names each kind's most common repoURL once; records from other repositories keep theirs", async () => {
    const { repo, open } = setup()
    const usual = [1, 2, 3].map((n) => makeFreight('api', n))
    const other = fromImageRepo(makeFreight('api', 4), 'registry.example.com/mirror/api')
    const res = await open().update(withFreight(...usual, other))
    const text = showFile(repo.bare, BRANCH, 'freight/api.json')!
    expect(text).toContain(
      '"repoURLs": {"commits":"https://github.com/example/api","images":"ghcr.io/example/api"}'
    )
    const lines = recordLines(text)
    expect(lines).toHaveLength(4)
    for (const line of lines) {
      expect(line).not.toContain('github.com/example/api')
      expect(line).not.toContain('ghcr.io/example/api')
    }
    expect(lines.filter((l) => l.includes('"repoURL"'))).toEqual([
      expect.stringContaining(`"${other.name}": `)
    ])
    expect(lines.find((l) => l.includes(other.name))).toContain(
      '"repoURL":"registry.example.com/mirror/api"'
    )
    // Every artifact is read back with its own repository.
    const read = await open().read()
    expect(read).toEqual(JSON.parse(JSON.stringify(res.state)))
    expect(read.freight[other.name].images[0].repoURL).toBe('registry.example.com/mirror/api')
    expect(read.freight[usual[0].name].commits[0].repoURL).toBe('https://github.com/example/api')
  })

  it.each([
    ['the store that wrote the file', false],
    ['a store that read the file', true]
  ])('a record keeps its repoURL when the most common one changes (%s)', async (_name, fresh) => {
    const { repo, open } = setup()
    const writer = open()
    const first = makeFreight('api', 1)
    await writer.update(withFreight(first))
    const store = fresh ? open() : writer
    if (fresh) await store.read()
    // Three freight from a mirror make it the file's common image repository.
    const mirrored = [2, 3, 4].map((n) =>
      fromImageRepo(makeFreight('api', n), 'mirror.example.com/api')
    )
    const res = await store.update(withFreight(...mirrored))
    const text = showFile(repo.bare, BRANCH, 'freight/api.json')!
    expect(text).toContain('"images":"mirror.example.com/api"')
    expect(recordLines(text).find((l) => l.includes(first.name))).toContain(
      '"repoURL":"ghcr.io/example/api"'
    )
    const read = await open().read()
    expect(read.freight[first.name].images[0].repoURL).toBe('ghcr.io/example/api')
    expect(read).toEqual(JSON.parse(JSON.stringify(res.state)))
  })

  it('removes the file of a warehouse left without freight, and the folder when none is left', async () => {
    const { repo, open } = setup()
    const store = open()
    const api = makeFreight('api', 1)
    const web = makeFreight('web', 1)
    await store.update(withFreight(api, web))
    await store.update((d) => {
      delete d.freight[web.name]
      return 'drop web'
    })
    expect(freightFilesOn(repo.bare, BRANCH)).toEqual(['freight/api.json'])
    await store.update((d) => {
      delete d.freight[api.name]
      return 'drop api'
    })
    expect(freightFilesOn(repo.bare, BRANCH)).toEqual([])
    expect(sh('git', ['--git-dir', repo.bare, 'ls-tree', '--name-only', BRANCH])).toBe('state.json')
    expect((await open().read()).freight).toEqual({})
  })

  it('writes the files of 40 warehouses with one git process, not one per file', async () => {
    const { repo, open } = setup()
    const freight = Array.from({ length: 40 }, (_, i) => makeFreight(`service-${i}`, i))
    const store = open()
    await store.read()
    const spawned = gitStats.spawned
    await store.update(withFreight(...freight))
    // One fast-import (blobs, trees and commit) and the push.
    expect(gitStats.spawned - spawned).toBe(2)
    expect(freightFilesOn(repo.bare, BRANCH)).toHaveLength(40)
    // A new store reads them all with fetch, rev-parse, one ls-tree and one cat-file --batch.
    const reader = open()
    const beforeRead = gitStats.spawned
    expect(Object.keys((await reader.read()).freight)).toHaveLength(40)
    expect(gitStats.spawned - beforeRead).toBe(4)
  })

  it('migrates a version-1 state (freight inside state.json) with the next write', async () => {
    const { repo, open, logger } = setup()
    const f1 = makeFreight('api', 1)
    const f2 = makeFreight('web', 2)
    const v1 = { ...emptyState(), schemaVersion: 1 }
    v1.freight[f1.name] = { ...f1, alias: 'old-owl' }
    v1.freight[f2.name] = { ...f2, alias: 'old-cat' }
    writeStateBranch(repo, BRANCH, { 'state.json': serializeState(v1) })
    const store = open()
    const read = await store.read()
    expect(read.schemaVersion).toBe(STATE_SCHEMA_VERSION)
    expect(read.freight[f1.name].alias).toBe('old-owl')
    expect(logger.text()).toMatch(
      /migrating state\.json from schema version 1 to 2 \(freight moves/
    )
    // Nothing to write: the branch stays as it was.
    const tip = branchTip(repo.bare, BRANCH)
    await store.update(() => 'nothing')
    expect(branchTip(repo.bare, BRANCH)).toBe(tip)
    await store.update((d) => {
      d.audit.push({ at: '2025-01-01T00:00:00Z', action: 'note' })
      return 'audit: note'
    })
    expect(JSON.parse(showFile(repo.bare, BRANCH, 'state.json')!).freight).toBeUndefined()
    expect(freightFilesOn(repo.bare, BRANCH)).toEqual(['freight/api.json', 'freight/web.json'])
    const again = await open().read()
    expect(again.freight[f2.name].alias).toBe('old-cat')
    expect(again.audit).toHaveLength(1)
  })
})

describe('hostile freight files are refused and never overwritten', () => {
  const state = serializeState(emptyState())
  const fileOf = (warehouse: string, records: Record<string, unknown>) =>
    JSON.stringify({ origin: { kind: 'Warehouse', name: warehouse }, freight: records })
  const f = makeFreight('api', 1)
  const { name: _n, origin: _o, ...record } = { ...f, alias: 'brave-otter' }

  const cases: Array<[string, Record<string, string>, RegExp]> = [
    [
      'a record naming another warehouse',
      {
        'freight/api.json': fileOf('api', {
          [f.name]: { ...record, origin: { kind: 'Warehouse', name: 'web' } }
        })
      },
      /freight\/api\.json on branch waybill\/state \(commit [0-9a-f]{7}\) is corrupt: freight [0-9a-f]{40} names another origin than warehouse api/
    ],
    [
      'a file whose origin is not its name',
      { 'freight/api.json': fileOf('web', { [f.name]: record }) },
      /freight\/api\.json .* is corrupt: origin must be \{"kind":"Warehouse","name":"api"\}/
    ],
    [
      'the same freight in two files',
      {
        'freight/api.json': fileOf('api', { [f.name]: record }),
        'freight/web.json': fileOf('web', { [f.name]: record })
      },
      /is corrupt: freight [0-9a-f]{40} is in two files|names another origin/
    ],
    [
      'a file Waybill does not write',
      { 'freight/NOTES.txt': 'hello' },
      /freight\/NOTES\.txt on branch .* is not a freight file Waybill writes/
    ],
    [
      'a file that is not JSON',
      { 'freight/api.json': '{"freight": {' },
      /freight\/api\.json .* is corrupt: not valid JSON/
    ],
    [
      'a duplicate key',
      {
        'freight/api.json': `{"origin":{"kind":"Warehouse","name":"api"},"freight":{"${f.name}":${JSON.stringify(record)},"${f.name}":${JSON.stringify(record)}}}`
      },
      /is corrupt: freight: duplicate key/
    ],
    [
      'a record failing the schema',
      { 'freight/api.json': fileOf('api', { [f.name]: { ...record, images: 'x' } }) },
      /state\.json on branch .* is invalid: freight\.[0-9a-f]{40}\.images: /
    ],
    [
      'a control character in a record',
      {
        'freight/api.json': fileOf('api', {
          [f.name]: { ...record, images: [{ ...f.images[0], tag: 'v1\u0007' }] }
        })
      },
      /is invalid: freight\.[0-9a-f]{40}\.images\[0\]\.tag: contains a control character/
    ],
    [
      'freight inside a version-2 state.json',
      {
        'state.json': JSON.stringify({ ...emptyState(), freight: { [f.name]: { ...f } } }),
        'freight/api.json': fileOf('api', {})
      },
      /is invalid: freight: must be empty \(freight is kept in freight\/<warehouse>\.json\)/
    ],
    ['a freight "folder" that is a file', { freight: 'x' }, /freight on branch .* is not a folder/],
    [
      'repoURLs naming something that is not an artifact kind',
      {
        'freight/api.json': JSON.stringify({
          origin: { kind: 'Warehouse', name: 'api' },
          repoURLs: { images: 'ghcr.io/example/api', secrets: 'x' },
          freight: { [f.name]: record }
        })
      },
      /freight\/api\.json .* is corrupt: repoURLs has an unexpected member "secrets"/
    ],
    [
      'a repoURLs value that is not a string',
      {
        'freight/api.json': JSON.stringify({
          origin: { kind: 'Warehouse', name: 'api' },
          repoURLs: { images: ['ghcr.io/example/api'] },
          freight: { [f.name]: record }
        })
      },
      /is corrupt: repoURLs\.images must be a non-empty string/
    ],
    [
      'a control character in repoURLs',
      {
        'freight/api.json': JSON.stringify({
          origin: { kind: 'Warehouse', name: 'api' },
          repoURLs: { images: 'ghcr.io/example/api\u001b[2J' },
          freight: {
            [f.name]: { ...record, images: record.images.map(({ repoURL: _r, ...i }) => i) }
          }
        })
      },
      /is invalid: freight\.[0-9a-f]{40}\.images\[0\]\.repoURL: contains a control character/
    ],
    [
      'an artifact without a repoURL and none named for its kind',
      {
        'freight/api.json': fileOf('api', {
          [f.name]: { ...record, images: record.images.map(({ repoURL: _r, ...i }) => i) }
        })
      },
      /is invalid: freight\.[0-9a-f]{40}\.images\[0\]\.repoURL: /
    ],
    [
      'freight files next to a version-1 state.json',
      {
        'state.json': JSON.stringify({ ...emptyState(), schemaVersion: 1 }),
        'freight/api.json': fileOf('api', { [f.name]: record })
      },
      /is corrupt: schema version 1 keeps freight in state\.json, but the branch also has freight\/ files/
    ]
  ]

  it.each(cases)('%s', async (_name, files, message) => {
    const { repo, open } = setup()
    const tip = writeStateBranch(repo, BRANCH, { 'state.json': state, ...files })
    const store = open()
    const err = (await store.read().catch((e: unknown) => e)) as WaybillError
    expect(err).toBeInstanceOf(WaybillError)
    expect(err.message).toMatch(message)
    expect(err.hint).toMatch(/fix or revert the last commit on branch waybill\/state/)
    await expect(store.update(withFreight(makeFreight('api', 9)))).rejects.toThrow(message)
    expect(branchTip(repo.bare, BRANCH)).toBe(tip)
  })

  it('a file copied under another warehouse name is refused, even by a store that read the original', async () => {
    const { repo, open } = setup()
    const store = open()
    await store.update(withFreight(makeFreight('api', 1)))
    await store.read()
    const api = showFile(repo.bare, BRANCH, 'freight/api.json')! + '\n'
    const tip = writeStateBranch(repo, BRANCH, {
      'state.json': showFile(repo.bare, BRANCH, 'state.json')! + '\n',
      'freight/web.json': api
    })
    await expect(store.read()).rejects.toThrow(
      /freight\/web\.json on branch .* is corrupt: origin must be \{"kind":"Warehouse","name":"web"\}/
    )
    expect(branchTip(repo.bare, BRANCH)).toBe(tip)
  })

  it('counts the freight files against the size limit', async () => {
    const { repo, open } = setup()
    const big = { ...record, commits: [{ ...f.commits[0], message: 'x'.repeat(3000) }] }
    const tip = writeStateBranch(repo, BRANCH, {
      'state.json': state,
      'freight/api.json': fileOf('api', { [f.name]: big })
    })
    const store = open({ maxBytes: 3000 })
    await expect(store.read()).rejects.toThrow(
      /the state on branch waybill\/state \(commit [0-9a-f]{7}\) \(state\.json and 1 freight files\) is \d+ bytes, over the 3000-byte limit/
    )
    expect(branchTip(repo.bare, BRANCH)).toBe(tip)
    // And a write that would pass the limit is refused before anything is pushed.
    const { repo: other, open: openOther } = setup()
    const small = openOther({ maxBytes: 3000 })
    await small.update(withFreight(makeFreight('api', 1)))
    const otherTip = branchTip(other.bare, BRANCH)
    const huge = makeFreight('web', 1)
    huge.commits[0].message = 'y'.repeat(3000)
    await expect(small.update(withFreight(huge))).rejects.toThrow(
      /refusing to write a state of \d+ bytes .*over the 3000-byte limit/
    )
    expect(branchTip(other.bare, BRANCH)).toBe(otherTip)
  })

  it('refuses to write freight whose origin cannot name a file', async () => {
    const { repo, open } = setup()
    const store = open()
    await store.update(withFreight(makeFreight('api', 1)))
    const tip = branchTip(repo.bare, BRANCH)
    const evil = makeFreight('api', 2)
    evil.origin = { kind: 'Warehouse', name: '../../escape' }
    await expect(store.update(withFreight(evil))).rejects.toThrow(
      /refusing to write an invalid state .*origin\.name: must be a warehouse name/
    )
    expect(branchTip(repo.bare, BRANCH)).toBe(tip)
  })
})
