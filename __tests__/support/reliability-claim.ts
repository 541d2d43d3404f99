// A separate process that tries to take the lease on one promotion, as advanceStage does:
//   node --import tsx reliability-claim.ts <repoDir> <promotion> <holder> <leaseMs>
// Prints {"claimed": true|false, "attempts": n}. Used by __tests__/reliability/races.test.ts.
import { StateStore } from '../../src/state/store.js'
import { MemoryLogger } from '../../src/util/logger.js'
import { claimPromotion } from '../../src/pipeline/promotions.js'

const [repoDir, name, holder, leaseMs] = process.argv.slice(2)
const store = new StateStore({
  repoDir,
  remote: 'origin',
  branch: 'waybill/state',
  logger: new MemoryLogger(),
  maxAttempts: 40,
  backoff: { baseMs: 20, maxMs: 400 }
})
let claimed = false
const res = await store.update((draft) => {
  claimed = claimPromotion(draft, name, holder, new Date(), Number(leaseMs))
  return claimed ? `promotion: ${name} claimed by ${holder}` : undefined
})
process.stdout.write(JSON.stringify({ claimed, attempts: res.attempts }) + '\n')
