/**
 * The layers of src/, lowest first: the one definition that the lint rule (eslint.config.mjs,
 * `waybill/layers`) and the architecture test (__tests__/architecture/layers.test.ts) both
 * read. A unit is a folder of src/ (src/steps/git/git-push.ts belongs to `steps`) or a file
 * directly in src/ (src/main.ts is `main`).
 *
 * A module may import from its own unit and from units in lower layers, never from a peer in
 * the same layer nor from a higher layer. `import type` counts too: a type belongs to the layer
 * that defines it, so moving a type down is the fix, not a type-only import. With no upward and
 * no sideways imports, a cycle between units cannot exist; the test checks that as well.
 */
import fs from 'node:fs'
import path from 'node:path'
import ts from 'typescript'

export const LAYERS = [
  ['util', 'version'], // logger, exec, errors, zod helpers; the version string
  ['git', 'http'], // transports: git with argument arrays; the one HTTP client
  ['runtime'], // CommandContext and Services: what a run is given
  ['freight'], // the freight model: types, IDs, aliases
  ['state'], // the state document and its branch-backed store
  ['expressions', 'oci'], // shared libraries: Kargo expressions, the OCI registry client
  ['integrations'], // GitHub, Argo CD
  ['steps'], // the step catalogue: one file per step, names, schemas
  ['config'], // loading Kargo resources (knows the step catalogue, not the engine)
  ['discovery', 'promotion'], // warehouses; the promotion engine
  ['pipeline'], // stage logic, queue, verification, reconcile
  ['report'], // summaries, status page
  ['init', 'migrate'], // `waybill init` templates; config migrations
  ['commands'], // one file per command
  ['events'], // a GitHub event → the command to run
  ['cli', 'main'], // CLI flags; the action entry
  ['index', 'cli-entry'] // bundle and source entry points
]

/**
 * Imports that break the order today, each with the fix that removes it. The lint rule and the
 * test let exactly these through; the test fails once one is gone, so the list only shrinks.
 */
export const KNOWN_VIOLATIONS = [
  {
    from: 'src/freight/create.ts',
    to: 'state',
    fix: 'DiscoveredArtifacts belongs in freight/types.ts (state/types.ts re-exports it)'
  }
]

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..')
export const SRC = path.join(ROOT, 'src')

/** The unit of a file under src/, or undefined for files elsewhere. */
export function unitOf(file) {
  const rel = path.relative(SRC, path.resolve(file))
  if (rel.startsWith('..') || path.isAbsolute(rel)) return undefined
  const parts = rel.split(path.sep)
  return parts.length === 1 ? parts[0].replace(/\.[cm]?[jt]s$/, '') : parts[0]
}

/** Index of a unit's layer, or -1 when the unit is not listed. */
export function layerOf(unit) {
  return LAYERS.findIndex((layer) => layer.includes(unit))
}

/** Where a relative specifier written in `fromFile` points (the .ts source, not the .js). */
export function resolveSpecifier(fromFile, specifier) {
  if (!specifier.startsWith('.')) return undefined
  return path.resolve(path.dirname(fromFile), specifier.replace(/\.js$/, '.ts'))
}

function isKnown(fromFile, toUnit) {
  const rel = path.relative(ROOT, path.resolve(fromFile)).split(path.sep).join('/')
  return KNOWN_VIOLATIONS.some((v) => v.from === rel && v.to === toUnit)
}

/**
 * Why `fromFile` may not import `toFile`, or undefined when it may. Known violations are
 * reported only when `includeKnown` is set.
 */
export function layerProblem(fromFile, toFile, { includeKnown = false } = {}) {
  const from = unitOf(fromFile)
  const to = unitOf(toFile)
  if (!from || !to || from === to) return undefined
  const a = layerOf(from)
  const b = layerOf(to)
  if (a < 0) return `'${from}' is not in a layer: add it to LAYERS in scripts/layers.mjs`
  if (b < 0) return `'${to}' is not in a layer: add it to LAYERS in scripts/layers.mjs`
  if (b < a) return undefined
  if (!includeKnown && isKnown(fromFile, to)) return undefined
  const where = b === a ? `its peer '${to}' (same layer)` : `'${to}', a higher layer`
  return `${from} may not import ${where}: the order is in scripts/layers.mjs (CONTRIBUTING.md, Layers)`
}

/** Every module specifier in a TypeScript file: imports, re-exports, import() and import types. */
export function importsOf(file, text = fs.readFileSync(file, 'utf8')) {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true)
  const out = []
  const add = (node, literal) => {
    if (!literal || !ts.isStringLiteralLike(literal)) return
    const { line } = source.getLineAndCharacterOfPosition(node.getStart(source))
    out.push({ specifier: literal.text, line: line + 1 })
  }
  const visit = (node) => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) {
      add(node, node.moduleSpecifier)
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add(node, node.arguments[0])
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node, node.argument.literal)
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return out
}

/** Every .ts file under a directory. */
export function sourceFiles(dir = SRC) {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => path.join(e.parentPath ?? e.path, e.name))
    .sort()
}

/** Import edges between units of src/: { from, line, to, fromUnit, toUnit }. */
export function importEdges(files = sourceFiles()) {
  const edges = []
  for (const file of files) {
    for (const { specifier, line } of importsOf(file)) {
      const target = resolveSpecifier(file, specifier)
      const fromUnit = unitOf(file)
      const toUnit = target && unitOf(target)
      if (toUnit && toUnit !== fromUnit)
        edges.push({ from: file, line, to: target, fromUnit, toUnit })
    }
  }
  return edges
}

/** Cycles between units (strongly connected components with more than one unit). */
export function unitCycles(edges) {
  const next = new Map()
  for (const e of edges) {
    if (!next.has(e.fromUnit)) next.set(e.fromUnit, new Set())
    next.get(e.fromUnit).add(e.toUnit)
  }
  // Tarjan's algorithm
  let counter = 0
  const index = new Map()
  const low = new Map()
  const stack = []
  const onStack = new Set()
  const cycles = []
  const strongConnect = (v) => {
    index.set(v, counter)
    low.set(v, counter++)
    stack.push(v)
    onStack.add(v)
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        strongConnect(w)
        low.set(v, Math.min(low.get(v), low.get(w)))
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), index.get(w)))
    }
    if (low.get(v) === index.get(v)) {
      const component = []
      let w
      do {
        w = stack.pop()
        onStack.delete(w)
        component.push(w)
      } while (w !== v)
      if (component.length > 1) cycles.push(component.sort())
    }
  }
  for (const v of next.keys()) if (!index.has(v)) strongConnect(v)
  return cycles
}

/** The `waybill/layers` ESLint rule: every relative import of a file in src/ obeys LAYERS. */
const layersRule = {
  meta: {
    type: 'problem',
    docs: { description: 'imports in src/ follow the layer order of scripts/layers.mjs' },
    schema: []
  },
  create(context) {
    const file = context.filename
    if (!unitOf(file)) return {}
    const check = (node, source) => {
      if (!source || typeof source.value !== 'string') return
      const target = resolveSpecifier(file, source.value)
      const problem = target && layerProblem(file, target)
      if (problem) context.report({ node, message: problem })
    }
    return {
      ImportDeclaration: (node) => check(node, node.source),
      ExportNamedDeclaration: (node) => check(node, node.source),
      ExportAllDeclaration: (node) => check(node, node.source),
      ImportExpression: (node) => check(node, node.source),
      TSImportType: (node) => check(node, node.argument?.literal ?? node.argument)
    }
  }
}

export const eslintPlugin = { rules: { layers: layersRule } }
