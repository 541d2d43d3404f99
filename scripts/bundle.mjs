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
