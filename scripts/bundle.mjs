#!/usr/bin/env node
// Builds the action/CLI bundle with ncc from the ESM sources: index.js (+ package.json with
// "type": "module", licenses.txt) into dist/, or into `--out DIR` (scripts/check-dist.mjs).
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'

const i = process.argv.indexOf('--out')
const out = i > 0 ? process.argv[i + 1] : 'dist'
fs.rmSync(out, { recursive: true, force: true })
execFileSync(
  'npx',
  ['ncc', 'build', 'src/index.ts', '-o', out, '--license', 'licenses.txt', '-q'],
  {
    stdio: ['ignore', 'ignore', 'inherit']
  }
)

// ncc copies files it believes the code reads at run time (path.resolve(...) patterns). Waybill
// reads none: an extra file means a path computation was rewritten into an asset path by mistake.
const expected = new Set(['index.js', 'licenses.txt', 'package.json'])
const extra = fs.readdirSync(out).filter((f) => !expected.has(f))
if (extra.length) {
  console.error(
    `${out}/ has unexpected files (${extra.join(', ')}): ncc treated a path computation as an asset; see scripts/bundle.mjs`
  )
  process.exit(1)
}
