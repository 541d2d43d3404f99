import { evaluateRaw, isPlainObject, type ExprEnv } from './evaluate.js'
import { ExpressionError } from './parse.js'
import { ConfigFieldError } from '../util/errors.js'
import { toJSONText } from './builtins.js'
import { MAX_STRING_LENGTH } from './limits.js'
import { toPlain } from './values.js'

/** Deepest config object/array nesting evaluateTemplate walks. */
const MAX_TEMPLATE_DEPTH = 64

interface Segment {
  text?: string
  expr?: string
}

/**
 * Splits a string into literal text and `${{ … }}` / `${% … %}` expressions. The closing
 * delimiter is searched outside string literals, so `${{ '}}' }}` works; `${% %}` remains for
 * Kargo compatibility.
 */
export function splitTemplate(s: string): Segment[] | undefined {
  if (!s.includes('${{') && !s.includes('${%')) return undefined
  const out: Segment[] = []
  let i = 0
  let textStart = 0
  while (i < s.length) {
    if (s[i] === '$' && s[i + 1] === '{' && (s[i + 2] === '{' || s[i + 2] === '%')) {
      const close = s[i + 2] === '{' ? '}}' : '%}'
      const start = i + 3
      let j = start
      let quote = ''
      let end = -1
      while (j < s.length) {
        const c = s[j]
        if (quote) {
          if (c === '\\') j++
          else if (c === quote) quote = ''
        } else if (c === '"' || c === "'" || c === '`') quote = c
        else if (c === close[0] && s[j + 1] === close[1]) {
          end = j
          break
        }
        j++
      }
      if (end < 0) {
        throw new ExpressionError(
          `unterminated ${s.slice(i, i + 3)} (missing ${close}) in ${JSON.stringify(s.length > 120 ? s.slice(0, 117) + '...' : s)}`
        )
      }
      if (i > textStart) out.push({ text: s.slice(textStart, i) })
      out.push({ expr: s.slice(start, end) })
      i = end + 2
      textStart = i
    } else i++
  }
  if (textStart < s.length) out.push({ text: s.slice(textStart) })
  return out
}

const GO_BOOLS: Record<string, boolean> = {
  '1': true,
  t: true,
  T: true,
  TRUE: true,
  true: true,
  True: true,
  '0': false,
  f: false,
  F: false,
  FALSE: false,
  false: false,
  False: false
}

/** Decimal forms Go's strconv.ParseFloat accepts (Inf/NaN cannot become JSON, so not here). */
const GO_FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/

/**
 * Kargo's coercion of an evaluated config string (pkg/expressions EvaluateTemplate): one trailing
 * newline is set aside; text wrapped in double quotes is a string (this is how `quote()` keeps
 * `"42"` a string); then a number, a Go bool (`true`, `T`, `1`…), any JSON value; else the string.
 * Waybill reads the quoted text as a JSON string when it is one, so `quote('a"b')` is `a"b`
 * (Kargo would keep the backslash); otherwise the quotes are just removed, as in Kargo.
 */
export function coerceString(s: string): unknown {
  const newline = s.endsWith('\n')
  const text = newline ? s.slice(0, -1) : s
  const restore = (v: string): string => (newline ? v + '\n' : v)
  if (text.length > 1 && text.startsWith('"') && text.endsWith('"')) {
    try {
      const parsed: unknown = JSON.parse(text)
      if (typeof parsed === 'string') return restore(parsed)
    } catch {
      // not a JSON string: drop the quotes only
    }
    return restore(text.slice(1, -1))
  }
  if (GO_FLOAT.test(text)) return Number(text)
  if (Object.prototype.hasOwnProperty.call(GO_BOOLS, text)) return GO_BOOLS[text]
  const t = text.trim()
  if (t !== '' && /^[-\d{["tfn]/.test(t)) {
    try {
      return JSON.parse(t) as unknown
    } catch {
      // not JSON
    }
  }
  return restore(text)
}

/** How Kargo writes a non-string result into the template text: as JSON. */
function segmentText(v: unknown): string {
  if (typeof v === 'string') return v
  return toJSONText(v, undefined, 'template')
}

/**
 * Evaluates the expressions in one string. As in Kargo, the text with every expression
 * replaced is then coerced (coerceString): `${{ 1 }}${{ 2 }}` is the number 12.
 */
export function evaluateString(s: string, env: ExprEnv): unknown {
  const segments = splitTemplate(s)
  if (!segments) return s
  if (segments.length === 1 && segments[0].expr !== undefined) {
    const v = evaluateRaw(segments[0].expr, env)
    if (typeof v === 'string') return coerceString(v)
    // Non-string results take the JSON round trip Kargo gives them; HostValues (times, versions)
    // marshal to strings, which stay strings.
    return toPlain(v)
  }
  let out = ''
  for (const seg of segments) {
    out += seg.text !== undefined ? seg.text : segmentText(evaluateRaw(seg.expr!, env))
    if (out.length > MAX_STRING_LENGTH) {
      throw new ExpressionError(`the evaluated text is longer than ${MAX_STRING_LENGTH} characters`)
    }
  }
  return coerceString(out)
}

/**
 * Walks a config value and evaluates every `${{ … }}` in string values (never in keys).
 * Returns a new value; the input is not modified.
 */
export function evaluateTemplate(value: unknown, env: ExprEnv, path = ''): unknown {
  return walk(value, env, path, 0)
}

function walk(value: unknown, env: ExprEnv, path: string, depth: number): unknown {
  if (depth > MAX_TEMPLATE_DEPTH) {
    throw new ExpressionError(`${path || 'value'}: nested too deeply (limit ${MAX_TEMPLATE_DEPTH})`)
  }
  if (typeof value === 'string') {
    try {
      return evaluateString(value, env)
    } catch (err) {
      if (err instanceof ExpressionError && path) throw new ConfigFieldError(path, err.message)
      throw err
    }
  }
  if (Array.isArray(value)) {
    return value.map((v, i) => walk(v, env, `${path}[${i}]`, depth + 1))
  }
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) {
      Object.defineProperty(out, k, {
        value: walk(v, env, path ? `${path}.${k}` : k, depth + 1),
        enumerable: true,
        writable: true,
        configurable: true
      })
    }
    return out
  }
  return value
}
