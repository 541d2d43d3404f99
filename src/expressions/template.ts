import { evaluateRaw, isPlainObject, type ExprEnv } from './evaluate.js'
import { ExpressionError } from './parse.js'
import { ConfigFieldError } from '../util/errors.js'
import { stringify } from './builtins.js'
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

/**
 * Kargo's coercion: a string result is read as JSON when it is a JSON number, bool, null,
 * object or array (so `"42"` becomes 42); `quote()` yields a JSON string literal, which this
 * turns back into the plain string.
 */
export function coerceString(s: string): unknown {
  const t = s.trim()
  if (t === '') return s
  const c = t[0]
  if (!(
    c === '"' ||
    c === '{' ||
    c === '[' ||
    c === '-' ||
    (c >= '0' && c <= '9') ||
    t === 'true' ||
    t === 'false' ||
    t === 'null'
  ))
    return s
  try {
    return JSON.parse(t)
  } catch {
    return s
  }
}

/** Evaluates the expressions in one string. */
export function evaluateString(s: string, env: ExprEnv): unknown {
  const segments = splitTemplate(s)
  if (!segments) return s
  if (segments.length === 1 && segments[0].expr !== undefined) {
    const v = evaluateRaw(segments[0].expr, env)
    if (typeof v === 'string') return coerceString(v)
    return toPlain(v)
  }
  let out = ''
  for (const seg of segments) {
    out += seg.text !== undefined ? seg.text : stringify(evaluateRaw(seg.expr!, env))
  }
  return out
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
