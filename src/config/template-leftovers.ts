/**
 * Go-template leftovers (`name: {{vars.appName}}`, from Helm charts or generators that wrote the
 * config): YAML reads `{{…}}` as a mapping keyed by a mapping, which is never meant. Each is
 * reported where it is, saying what it looks like and what Kargo's expression syntax is.
 */
import { isMap, visit, type Node } from 'yaml'
import type { Problem } from './problems.js'
import type { Source } from './yaml-source.js'

export function templateLeftovers(src: Source, text: string): Problem[] {
  const out: Problem[] = []
  visit(src.doc, {
    Map(_, map) {
      if (!map.flow || map.items.length !== 1) return undefined
      const { key, value } = map.items[0]
      if (!isMap(key) || !key.flow || (value !== null && value !== undefined)) return undefined
      const range = (map as Node).range
      if (!range) return visit.SKIP
      const written = text.slice(range[0], range[1]).trim()
      const inner = written.replace(/^\{\{\s*|\s*\}\}$/g, '')
      const { line, col } = src.lc.linePos(range[0])
      out.push({
        severity: 'error',
        file: src.file,
        line,
        column: col,
        message: `${written} looks like a Go template that was never rendered (YAML reads it as a mapping)`,
        hint: `Kargo expressions are written \${{ ${inner} }}; or render the template, or quote the value`
      })
      return visit.SKIP
    }
  })
  return out
}
