/** The release guard run by .github/workflows/release.yml, on this repository's own files. */
import { execFileSync, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import { describe, expect, test } from '@jest/globals'

const script = 'scripts/release-check.mjs'
const version = JSON.parse(fs.readFileSync('package.json', 'utf8')).version as string

describe('release check', () => {
  test("prints the CHANGELOG section of package.json's version as release notes", () => {
    const notes = execFileSync('node', [script, version, '--notes'], { encoding: 'utf8' })
    expect(notes.trim().length).toBeGreaterThan(0)
    expect(notes).not.toMatch(/^## /m)
  })

  test('refuses a version package.json does not have, naming the fix', () => {
    const r = spawnSync('node', [script, '99.0.0'], { encoding: 'utf8' })
    expect(r.status).toBe(1)
    expect(r.stderr).toContain(`package.json says ${version}`)
    expect(r.stderr).toContain('CHANGELOG.md has no "## 99.0.0" section')
  })

  test('refuses what is not a version', () => {
    const r = spawnSync('node', [script, 'latest'], { encoding: 'utf8' })
    expect(r.status).toBe(1)
    expect(r.stderr).toContain("'latest' is not a version")
  })
})
