#!/usr/bin/env node
// Checks that the committed dist/ is what the sources build to: runs scripts/bundle.mjs into a
// temporary directory (never into dist/) and compares every file. Exit 1 with the
// differing files listed when dist/ is stale.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

const out = fs.mkdtempSync(path.join(os.tmpdir(), 'waybill-dist-'))
try {
  execFileSync('node', ['scripts/bundle.mjs', '--out', out], {
    stdio: ['ignore', 'ignore', 'inherit']
  })
  const list = (dir) =>
    fs
      .readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => path.relative(dir, path.join(e.parentPath ?? e.path, e.name)))
      .sort()
  const built = list(out)
  const committed = fs.existsSync('dist') ? list('dist') : []
  const problems = []
  for (const f of new Set([...built, ...committed])) {
    const a = path.join(out, f)
    const b = path.join('dist', f)
    if (!fs.existsSync(b)) problems.push(`missing from dist/: ${f}`)
    else if (!fs.existsSync(a)) problems.push(`not built from the sources: dist/${f}`)
    else if (!fs.readFileSync(a).equals(fs.readFileSync(b))) problems.push(`differs: dist/${f}`)
  }
  if (problems.length) {
    process.stderr.write(
      `dist/ is stale (${problems.length} file(s)):\n  ${problems.join('\n  ')}\nrun npm run bundle and commit dist/\n`
    )
    process.exitCode = 1
  } else process.stdout.write(`dist/ matches the sources (${built.length} files)\n`)
} finally {
  fs.rmSync(out, { recursive: true, force: true })
}
