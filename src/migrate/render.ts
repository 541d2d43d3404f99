/**
 * Writes migrated documents back into their file's text: unchanged documents (and everything
 * between documents) keep their exact text; only changed documents are printed again from the
 * YAML syntax tree, which keeps their comments, key order, quoting and flow style, in the
 * indentation style the file already uses.
 */
import type { Document, ToStringOptions } from 'yaml'

export interface DocumentEdit {
  doc: Document
  changed: boolean
  removed?: boolean
  /** A whole new document in its place (printed as is). */
  replacement?: string
}

/** The file's own layout: indentation width, `- ` under or beside its key, `[a]` or `[ a ]`. */
export function layoutOf(text: string): ToStringOptions {
  const indents = [...text.matchAll(/^( +)\S/gm)].map((m) => m[1].length)
  const indent = indents.length ? Math.min(...indents) : 2
  const nested = /^( *)[^\s#-][^\n]*:[ \t]*\n\1- /m.test(text)
  return {
    indent: indent >= 2 && indent <= 8 ? indent : 2,
    indentSeq: !nested,
    lineWidth: 0,
    flowCollectionPadding: /[[{] \S/.test(text)
  }
}

export function renderFile(text: string, edits: DocumentEdit[]): string {
  if (!edits.some((e) => e.changed)) return text
  const options = layoutOf(text)
  let out = ''
  let pos = 0
  for (const e of edits) {
    const [start, , end] = e.doc.range ?? [pos, pos, pos]
    const before = text.slice(pos, start)
    out += before
    const original = text.slice(start, end)
    if (!e.changed) out += original
    else if (e.replacement !== undefined) {
      if (out && !out.endsWith('\n')) out += '\n'
      out += (original.startsWith('---') ? '---\n' : '') + e.replacement
    } else if (!e.removed) {
      const printed = e.doc.toString(options).split('\n')
      // A comment above the first document is part of `before` already.
      const beforeLines = new Set(before.split('\n'))
      while (printed.length && /^#/.test(printed[0]) && beforeLines.has(printed[0])) printed.shift()
      out += keepOriginalLines(printed.join('\n'), original)
    }
    pos = end
  }
  out += text.slice(pos)
  return out.replace(/---|\s/g, '') === '' ? '' : out
}

/** A line as the printer writes it: one space before an inline comment, no trailing spaces. */
function normalised(line: string): string {
  return line.replace(/\s+(#.*)$/, ' $1').trimEnd()
}

/**
 * Printed lines that differ from an original line only in what the printer normalises
 * (alignment before inline comments, trailing spaces) are given back their original text.
 */
function keepOriginalLines(printed: string, original: string): string {
  const byNormal = new Map<string, string>()
  for (const line of original.split('\n')) {
    const key = normalised(line)
    if (!byNormal.has(key)) byNormal.set(key, line)
  }
  return printed
    .split('\n')
    .map((line) => byNormal.get(normalised(line)) ?? line)
    .join('\n')
}
