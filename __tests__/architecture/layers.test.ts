import { describe, expect, it } from '@jest/globals'
import fs from 'node:fs'
import path from 'node:path'
import {
  KNOWN_VIOLATIONS,
  LAYERS,
  SRC,
  importEdges,
  importsOf,
  layerProblem,
  unitCycles,
  unitOf,
  type ImportEdge
} from '../../scripts/layers.mjs'

/** The layer order of scripts/layers.mjs holds for every import in src/ (CONTRIBUTING.md, Layers). */
const edges = importEdges()
const rel = (file: string) => path.relative(path.dirname(SRC), file).split(path.sep).join('/')
const show = (e: ImportEdge) => `${rel(e.from)}:${e.line} → ${rel(e.to)}`

describe('layers', () => {
  it('every unit of src/ is in exactly one layer (LAYERS in scripts/layers.mjs lists what exists)', () => {
    const units = new Set(fs.readdirSync(SRC).map((name) => unitOf(path.join(SRC, name))!))
    const listed = LAYERS.flat()
    expect([...units].filter((u) => !listed.includes(u))).toEqual([])
    expect(listed.filter((u) => !units.has(u))).toEqual([])
    expect(new Set(listed).size).toBe(listed.length)
  })

  it('no import goes up or sideways (except the known ones being fixed)', () => {
    const bad = edges.flatMap((e) => {
      const problem = layerProblem(e.from, e.to)
      return problem ? [`${show(e)}: ${problem}`] : []
    })
    expect(bad).toEqual([])
  })

  it('every known violation still exists (remove it from scripts/layers.mjs once fixed)', () => {
    const stale = KNOWN_VIOLATIONS.filter(
      (v) => !edges.some((e) => rel(e.from) === v.from && e.toUnit === v.to)
    )
    expect(stale).toEqual([])
  })

  it('there is no cycle between units (known violations aside)', () => {
    const known = (e: ImportEdge) =>
      KNOWN_VIOLATIONS.some((v) => v.from === rel(e.from) && v.to === e.toUnit)
    const counted = edges.filter((e) => !known(e))
    const cycles = unitCycles(counted).map((units) => {
      const inside = counted.filter((e) => units.includes(e.fromUnit) && units.includes(e.toUnit))
      return `${units.join(' ↔ ')}: ${inside.map(show).join('; ')}`
    })
    expect(cycles).toEqual([])
  })

  it('the checker sees value, type-only, re-export and dynamic imports, and names them', () => {
    const from = path.join(SRC, 'util', 'x.ts')
    const specs = importsOf(
      from,
      [
        "import { a } from '../steps/index.js'",
        "import type { B } from '../config/schema.js'",
        "export * from '../pipeline/reconcile.js'",
        "const m = await import('../report/table.js')",
        "type T = import('../commands/index.js').X",
        "import { ok } from './logger.js'"
      ].join('\n')
    )
    expect(specs.map((s) => `${s.line}:${s.specifier}`)).toEqual([
      '1:../steps/index.js',
      '2:../config/schema.js',
      '3:../pipeline/reconcile.js',
      '4:../report/table.js',
      '5:../commands/index.js',
      '6:./logger.js'
    ])
    expect(layerProblem(from, path.join(SRC, 'steps', 'index.ts'))).toMatch(
      /^util may not import 'steps', a higher layer/
    )
    expect(layerProblem(path.join(SRC, 'steps', 'index.ts'), from)).toBeUndefined()
    expect(
      layerProblem(path.join(SRC, 'oci', 'client.ts'), path.join(SRC, 'expressions', 'index.ts'))
    ).toMatch(/its peer 'expressions'/)
    expect(layerProblem(path.join(SRC, 'nowhere', 'a.ts'), from)).toMatch(
      /'nowhere' is not in a layer/
    )
    expect(
      unitCycles([
        { fromUnit: 'a', toUnit: 'b' },
        { fromUnit: 'b', toUnit: 'c' },
        { fromUnit: 'c', toUnit: 'a' },
        { fromUnit: 'c', toUnit: 'd' }
      ])
    ).toEqual([['a', 'b', 'c']])
  })
})
