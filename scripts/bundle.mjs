#!/usr/bin/env node
// Builds dist/ with ncc from the ESM sources: dist/index.js (+ dist/package.json, type module).
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'

fs.rmSync('dist', { recursive: true, force: true })
execFileSync(
  'npx',
  ['ncc', 'build', 'src/index.ts', '-o', 'dist', '--license', 'licenses.txt', '-q'],
  { stdio: 'inherit' }
)

// ncc copies files it believes the code reads at run time (path.resolve(...) patterns). Waybill
// reads none: an extra file means a path computation was rewritten into an asset path by mistake.
const expected = new Set(['index.js', 'licenses.txt', 'package.json'])
const extra = fs.readdirSync('dist').filter((f) => !expected.has(f))
if (extra.length) {
  console.error(
    `dist/ has unexpected files (${extra.join(', ')}): ncc treated a path computation as an asset; see scripts/bundle.mjs`
  )
  process.exit(1)
}
