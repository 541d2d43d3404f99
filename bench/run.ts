// Runs every bench/*.bench.ts (or those whose names contain an argument): npm run bench [-- name]
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const dir = path.dirname(fileURLToPath(import.meta.url))
const filters = process.argv.slice(2)
const files = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort()
let failed = 0
for (const f of files) {
  console.log(`\n=== ${f} ===`)
  const res = spawnSync('node', ['--import', 'tsx', path.join(dir, f)], {
    stdio: 'inherit',
    env: {
      ...process.env,
      PATH: `${path.join(dir, '..', '.tools', 'bin')}${path.delimiter}${process.env.PATH}`
    }
  })
  if (res.status !== 0) failed++
}
process.exitCode = failed ? 1 : 0
