#!/usr/bin/env node
// Release guard: the version given must be semver, equal package.json's version, not be tagged
// yet, and have a section in CHANGELOG.md. With --notes, prints that section (the release notes).
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)))

export function changelogSection(changelog, version) {
  const lines = changelog.split('\n')
  const start = lines.findIndex((l) =>
    new RegExp(`^## \\[?v?${version.replace(/\./g, '\\.')}\\]?(\\s|$)`).test(l)
  )
  if (start < 0) return undefined
  const end = lines.findIndex((l, i) => i > start && /^## /.test(l))
  return lines
    .slice(start + 1, end < 0 ? undefined : end)
    .join('\n')
    .trim()
}

export function checkRelease(version, { pkgVersion, changelog, existingTags }) {
  const problems = []
  if (!/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(version))
    problems.push(`'${version}' is not a version like 1.2.3`)
  if (version !== pkgVersion)
    problems.push(`package.json says ${pkgVersion}: set "version" to ${version} first`)
  if (existingTags.includes(`v${version}`)) problems.push(`v${version} is already tagged`)
  const notes = changelogSection(changelog, version)
  if (!notes) problems.push(`CHANGELOG.md has no "## ${version}" section with notes`)
  return { problems, notes }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const version = (process.argv[2] ?? '').replace(/^v/, '')
  const pkgVersion = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version
  const changelog = fs.readFileSync(path.join(root, 'CHANGELOG.md'), 'utf8')
  let existingTags = []
  try {
    existingTags = execFileSync('git', ['tag', '--list', 'v*'], { cwd: root, encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
  } catch {
    // not a clone: nothing is tagged
  }
  const notesOnly = process.argv.includes('--notes')
  const { problems, notes } = checkRelease(version, {
    pkgVersion,
    changelog,
    existingTags: notesOnly ? [] : existingTags
  })
  if (problems.length) {
    for (const p of problems) console.error(`release: ${p}`)
    process.exit(1)
  }
  if (notesOnly) console.log(notes)
  else console.log(`release v${version}: ok`)
}
