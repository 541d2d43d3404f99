/**
 * Every GitHub workflow anywhere in the repository is parsed and checked with GitHub's own
 * workflow parser (@actions/workflow-parser, the one behind GitHub's VS Code extension): the
 * README's and docs' code blocks, examples/, this repository's .github/workflows, and every file
 * `waybill init` generates for every pattern and layout. A workflow GitHub would reject fails here.
 */
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, test } from '@jest/globals'
import {
  convertWorkflowTemplate,
  NoOperationTraceWriter,
  parseWorkflow
} from '@actions/workflow-parser'
import { parseAllDocuments } from 'yaml'
import { initFiles, LAYOUTS, PATTERNS } from '../../src/init/templates.js'

const root = process.cwd()

interface WorkflowText {
  name: string
  content: string
}

async function workflowErrors(wf: WorkflowText): Promise<string[]> {
  const parsed = parseWorkflow(wf, new NoOperationTraceWriter())
  const errors = parsed.context.errors.getErrors().map((e) => e.message)
  if (parsed.value) {
    const template = await convertWorkflowTemplate(parsed.context, parsed.value)
    for (const e of template.errors ?? []) errors.push(`${wf.name}: ${e.Message}`)
  } else if (!errors.length) errors.push(`${wf.name}: empty workflow`)
  return [...new Set(errors)]
}

function walk(dir: string, accept: (rel: string) => boolean): string[] {
  if (!fs.existsSync(dir)) return []
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true }).flatMap((e) => {
    if (!e.isFile()) return []
    const full = path.join(e.parentPath, e.name)
    const rel = path.relative(root, full)
    return rel.includes('node_modules') || !accept(rel) ? [] : [full]
  })
}

/** ```yaml blocks of a Markdown file that are whole workflows (they have `on:` and `jobs:`). */
function markdownWorkflows(file: string): WorkflowText[] {
  const text = fs.readFileSync(file, 'utf8')
  const out: WorkflowText[] = []
  const fence = /^```ya?ml[^\n]*\n([\s\S]*?)^```/gm
  for (let m = fence.exec(text); m; m = fence.exec(text)) {
    const block = m[1]
    if (!/^on:/m.test(block) || !/^jobs:/m.test(block)) continue
    const line = text.slice(0, m.index).split('\n').length + 1
    out.push({ name: `${path.relative(root, file)}:${line}`, content: block })
  }
  return out
}

function fileWorkflows(): WorkflowText[] {
  const files = [
    ...walk(path.join(root, '.github', 'workflows'), (r) => /\.ya?ml$/.test(r)),
    ...walk(path.join(root, 'examples'), (r) => /\.github\/workflows\/[^/]+\.ya?ml$/.test(r))
  ]
  return files.map((f) => ({ name: path.relative(root, f), content: fs.readFileSync(f, 'utf8') }))
}

function docWorkflows(): WorkflowText[] {
  const docs = [
    path.join(root, 'README.md'),
    ...walk(path.join(root, 'docs'), (r) => r.endsWith('.md')),
    ...walk(path.join(root, 'examples'), (r) => r.endsWith('.md'))
  ]
  return docs.flatMap(markdownWorkflows)
}

function initWorkflows(): WorkflowText[] {
  const out: WorkflowText[] = []
  for (const pattern of PATTERNS) {
    for (const layout of LAYOUTS) {
      const files = initFiles({
        pattern,
        layout,
        image: 'ghcr.io/acme/app',
        gitRepo: 'https://github.com/acme/gitops.git',
        branch: 'main',
        stages: ['test', 'uat', 'prod'],
        project: 'gitops',
        configDir: '.waybill'
      })
      for (const f of files.filter((f) => f.path.startsWith('.github/workflows/')))
        out.push({ name: `init ${pattern}/${layout}: ${f.path}`, content: f.content })
    }
  }
  return out
}

/** Every ```yaml block of the README and docs, whole workflow or fragment. */
function markdownYamlBlocks(): WorkflowText[] {
  const docs = [
    path.join(root, 'README.md'),
    ...walk(path.join(root, 'docs'), (r) => r.endsWith('.md')),
    ...walk(path.join(root, 'examples'), (r) => r.endsWith('.md'))
  ]
  return docs.flatMap((file) => {
    const text = fs.readFileSync(file, 'utf8')
    const out: WorkflowText[] = []
    const fence = /^```ya?ml[^\n]*\n([\s\S]*?)^```/gm
    for (let m = fence.exec(text); m; m = fence.exec(text)) {
      const line = text.slice(0, m.index).split('\n').length + 1
      out.push({ name: `${path.relative(root, file)}:${line}`, content: m[1] })
    }
    return out
  })
}

describe('YAML shown to users parses', () => {
  const blocks = markdownYamlBlocks()
  test('finds the blocks', () => expect(blocks.length).toBeGreaterThan(20))
  test.each(blocks.map((b) => [b.name, b] as const))('%s', (_name, block) => {
    const docs = parseAllDocuments(block.content)
    expect(docs.flatMap((d) => d.errors.map((e) => e.message))).toEqual([])
  })
})

describe('workflow files are valid for GitHub', () => {
  const all = [...fileWorkflows(), ...docWorkflows(), ...initWorkflows()]

  test('finds workflows in every place they live', () => {
    const names = all.map((w) => w.name)
    expect(names.some((n) => n.startsWith('README.md:'))).toBe(true)
    expect(names.some((n) => n.startsWith('examples/'))).toBe(true)
    expect(names.some((n) => n.startsWith('.github/workflows/'))).toBe(true)
    expect(names.filter((n) => n.startsWith('init ')).length).toBeGreaterThanOrEqual(
      PATTERNS.length * LAYOUTS.length * 2
    )
  })

  test.each(all.map((w) => [w.name, w] as const))('%s', async (_name, wf) => {
    expect(await workflowErrors(wf)).toEqual([])
  })

  test('the parser rejects what GitHub rejects (an expression inside a flow mapping)', async () => {
    const bad = {
      name: 'bad.yml',
      content:
        'on: push\nconcurrency: { group: w-${{ github.repository }}, cancel-in-progress: false }\n' +
        'jobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo\n'
    }
    expect((await workflowErrors(bad)).length).toBeGreaterThan(0)
  })
})
