#!/usr/bin/env node
// Writes the README's action inputs and outputs tables from action.yml, between the markers
// <!-- inputs:start -->/<!-- inputs:end --> and <!-- outputs:start -->/<!-- outputs:end -->.
// `--check` changes nothing and exits 1 when the README is stale (CI runs it).
// Options: --readme <file> (default README.md), --action <file> (default action.yml).
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)))

function arg(name, fallback) {
  const i = process.argv.indexOf(name)
  return i >= 0 && process.argv[i + 1] ? path.resolve(process.argv[i + 1]) : fallback
}

/** A table cell: one line, pipes escaped. */
function cell(text) {
  return String(text ?? '')
    .trim()
    .replace(/\s*\r?\n\s*/g, ' ')
    .replace(/\|/g, '\\|')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
}

function code(text) {
  const t = String(text)
  return t.includes('`') ? `\`\` ${t} \`\`` : `\`${t}\``
}

export function inputsTable(action) {
  const rows = ['| Input | Description | Default |', '| --- | --- | --- |']
  for (const [name, input] of Object.entries(action.inputs ?? {})) {
    const required = input?.required === true || input?.required === 'true'
    const def = input?.default !== undefined && input.default !== '' ? code(input.default) : ''
    rows.push(
      `| ${code(name)}${required ? ' (required)' : ''} | ${cell(input?.description)} | ${def.replace(/\|/g, '\\|')} |`
    )
  }
  return rows.join('\n')
}

export function outputsTable(action) {
  const rows = ['| Output | Description |', '| --- | --- |']
  for (const [name, output] of Object.entries(action.outputs ?? {}))
    rows.push(`| ${code(name)} | ${cell(output?.description)} |`)
  return rows.join('\n')
}

/** The README with both tables in place; throws when a marker is missing. */
export function updateReadme(readme, action) {
  let out = readme
  for (const [marker, table] of [
    ['inputs', inputsTable(action)],
    ['outputs', outputsTable(action)]
  ]) {
    const start = `<!-- ${marker}:start -->`
    const end = `<!-- ${marker}:end -->`
    const i = out.indexOf(start)
    const j = out.indexOf(end)
    if (i < 0 || j < i) throw new Error(`README lacks the markers ${start} … ${end}`)
    // prettier would realign the table; the generator owns its format.
    out = `${out.slice(0, i + start.length)}\n<!-- prettier-ignore-start -->\n${table}\n<!-- prettier-ignore-end -->\n${out.slice(j)}`
  }
  return out
}

function main() {
  const readmePath = arg('--readme', path.join(root, 'README.md'))
  const actionPath = arg('--action', path.join(root, 'action.yml'))
  const action = parse(fs.readFileSync(actionPath, 'utf8'))
  const readme = fs.readFileSync(readmePath, 'utf8')
  const updated = updateReadme(readme, action)
  const rel = path.relative(process.cwd(), readmePath) || readmePath
  if (process.argv.includes('--check')) {
    if (updated !== readme) {
      console.error(
        `${rel}: the inputs/outputs tables are stale; run node scripts/inputs-table.mjs`
      )
      process.exit(1)
    }
    console.log(`${rel}: inputs/outputs tables are up to date`)
    return
  }
  if (updated !== readme) {
    fs.writeFileSync(readmePath, updated)
    console.log(`${rel}: inputs/outputs tables updated`)
  } else console.log(`${rel}: inputs/outputs tables already up to date`)
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main()
  } catch (err) {
    console.error(`inputs-table: ${err instanceof Error ? err.message : String(err)}`)
    process.exit(2)
  }
}
