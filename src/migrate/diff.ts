/** A unified diff of two texts (line based, 3 lines of context), as `git diff` prints it. */

type Op = { kind: ' ' | '-' | '+'; line: string }

/** Longest-common-subsequence edit script; config files are small enough for O(n·m). */
function editScript(a: string[], b: string[]): Op[] {
  const n = a.length
  const m = b.length
  const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1))
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1])
  const ops: Op[] = []
  let i = 0
  let j = 0
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      ops.push({ kind: ' ', line: a[i++] })
      j++
    } else if (i < n && (j === m || lcs[i + 1][j] >= lcs[i][j + 1]))
      ops.push({ kind: '-', line: a[i++] })
    else ops.push({ kind: '+', line: b[j++] })
  }
  return ops
}

function lines(text: string): string[] {
  if (text === '') return []
  const out = text.split('\n')
  if (out[out.length - 1] === '') out.pop()
  return out
}

export function unifiedDiff(file: string, before: string, after: string, context = 3): string {
  if (before === after) return ''
  const ops = editScript(lines(before), lines(after))
  const changed = ops.map((o, k) => (o.kind !== ' ' ? k : -1)).filter((k) => k >= 0)
  const out = [`--- a/${file}`, `+++ ${after === '' ? '/dev/null' : `b/${file}`}`]
  let k = 0
  while (k < changed.length) {
    const start = Math.max(0, changed[k] - context)
    let end = changed[k]
    while (k < changed.length && changed[k] - end <= 2 * context) end = changed[k++]
    end = Math.min(ops.length - 1, end + context)
    let aLine = 1
    let bLine = 1
    for (let x = 0; x < start; x++) {
      if (ops[x].kind !== '+') aLine++
      if (ops[x].kind !== '-') bLine++
    }
    const hunk = ops.slice(start, end + 1)
    const aCount = hunk.filter((o) => o.kind !== '+').length
    const bCount = hunk.filter((o) => o.kind !== '-').length
    out.push(
      `@@ -${aCount ? aLine : aLine - 1},${aCount} +${bCount ? bLine : bLine - 1},${bCount} @@`
    )
    for (const o of hunk) out.push(o.kind + o.line)
  }
  return out.join('\n') + '\n'
}
