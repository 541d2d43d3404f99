// A separate process that adds one freight to a state branch: node --import tsx state-writer.ts
//   <repoDir> <remote> <branch> <warehouse> <n>
// Prints {"commit": ..., "attempts": ..., "id": ...} on success. Used by the concurrency and
// killed-writer tests.
import { StateStore } from '../../src/state/store.js'
import { MemoryLogger } from '../../src/util/logger.js'
import { addFreight, makeFreight } from './state-fixtures.js'

const [repoDir, remote, branch, warehouse, n] = process.argv.slice(2)
const store = new StateStore({
  repoDir,
  remote,
  branch,
  logger: new MemoryLogger(),
  maxAttempts: 30,
  backoff: { baseMs: 20, maxMs: 500 }
})
const f = makeFreight(warehouse, Number(n))
const res = await store.update((draft) => addFreight(draft, f))
process.stdout.write(
  JSON.stringify({ commit: res.commit, attempts: res.attempts, id: f.name, stats: store.stats }) +
    '\n'
)
