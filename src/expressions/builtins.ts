import YAML from 'yaml'
import {
  checkArrayLength,
  checkSerializedSize,
  checkStringLength,
  MAX_ARRAY_LENGTH
} from './limits.js'
import { dateValue, goTypeName } from './dates.js'
import {
  durationValue,
  HostValue,
  parseGoDuration,
  parseSemver,
  semverDiff,
  semverValue,
  timeValue,
  toPlain,
  typeName
} from './values.js'

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Fn = (...args: any[]) => unknown

/** Text form of a value inside a string (templates, quote, string()). */
export function stringify(v: unknown): string {
  if (typeof v === 'string') return v
  if (v instanceof HostValue) {
    const s = v.method('String')
    if (s) return String(s())
    return stringify(v.json)
  }
  if (v === null || v === undefined) return 'null'
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  return toJSONText(v)
}

/** Compact JSON text of a value, size-checked first. */
export function toJSONText(v: unknown, indent?: number, fn = 'string'): string {
  checkSerializedSize(v, fn)
  return JSON.stringify(toPlain(v), null, indent) ?? 'null'
}

/** Go's %q for the strings Kargo's quote() wraps. */
function goQuote(s: string): string {
  return JSON.stringify(s)
}

function str(v: unknown, fn: string, arg = 1): string {
  if (typeof v !== 'string')
    throw new Error(`${fn}: argument ${arg} must be a string, got ${typeName(v)}`)
  return v
}

function num(v: unknown, fn: string): number {
  if (typeof v !== 'number') throw new Error(`${fn}: expected a number, got ${typeName(v)}`)
  return v
}

function list(v: unknown, fn: string): unknown[] {
  if (!Array.isArray(v)) throw new Error(`${fn}: expected an array, got ${typeName(v)}`)
  return v
}

function nullProto(fns: Record<string, Fn>): Record<string, Fn> {
  return Object.assign(Object.create(null) as Record<string, Fn>, fns)
}

function int(v: unknown, fn: string): number {
  if (!Number.isInteger(v)) throw new Error(`${fn}: expected an integer, got ${typeName(v)}`)
  return v as number
}

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof HostValue)
}

/** The order of two values of one ordered kind (numbers, strings, times/durations/versions). */
export function compareOrdered(a: unknown, b: unknown): number | undefined {
  if (typeof a === 'number' && typeof b === 'number') return a - b
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0
  if (
    a instanceof HostValue &&
    b instanceof HostValue &&
    a.kind === b.kind &&
    a.compareKey !== undefined &&
    b.compareKey !== undefined
  ) {
    return a.compareKey - b.compareKey
  }
  return undefined
}

/** Ordering for sort/sortBy/min/max: numbers, strings, or times/durations/versions. */
export function compareValues(a: unknown, b: unknown, fn: string): number {
  const order = compareOrdered(a, b)
  if (order === undefined)
    throw new Error(`${fn}: cannot compare ${typeName(a)} and ${typeName(b)}`)
  return order
}

function order(v: unknown, fn: string): 1 | -1 {
  if (v === undefined || v === 'asc') return 1
  if (v === 'desc') return -1
  throw new Error(`${fn}: order must be "asc" or "desc", got ${JSON.stringify(stringify(v))}`)
}

/** Go's strings.SplitN / SplitAfterN (n < 0: all; n == 0: none). */
function splitN(s: string, sep: string, n: number, after: boolean): string[] {
  if (n === 0) return []
  const out: string[] = []
  if (sep === '') {
    const chars = [...s]
    checkArrayLength(n < 0 ? chars.length : Math.min(n, chars.length), 'split')
    const limit = n < 0 ? chars.length : Math.min(n, chars.length)
    for (let i = 0; i < limit - 1; i++) out.push(chars[i])
    if (limit > 0) out.push(chars.slice(limit - 1).join(''))
    return out
  }
  let rest = s
  while (n < 0 || out.length < n - 1) {
    const i = rest.indexOf(sep)
    if (i < 0) break
    out.push(rest.slice(0, after ? i + sep.length : i))
    rest = rest.slice(i + sep.length)
    if (out.length >= MAX_ARRAY_LENGTH) checkArrayLength(out.length + 1, 'split')
  }
  out.push(rest)
  return out
}

function flattenInto(v: unknown[], out: unknown[], depth: number): void {
  if (depth > 64) throw new Error('flatten: the array is nested too deeply')
  for (const x of v) {
    if (Array.isArray(x)) flattenInto(x, out, depth + 1)
    else {
      out.push(x)
      if (out.length > MAX_ARRAY_LENGTH) checkArrayLength(out.length, 'flatten')
    }
  }
}

function numbers(args: unknown[], fn: string): number[] {
  const vs = args.length === 1 && Array.isArray(args[0]) ? (args[0] as unknown[]) : args
  const out: number[] = []
  const add = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(add)
    else out.push(num(v, fn))
  }
  vs.forEach(add)
  return out
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

/**
 * Functions every expression can call: Kargo's data helpers (quote, asJSON, semverParse, …) and
 * expr-lang's built-ins (language-definition.md). The predicate built-ins (filter, map, all, …)
 * take an unevaluated argument and live in the evaluator. Freight/state functions (imageFrom,
 * secret, …) come from freightFunctions(); always/success/… from the engine.
 */
export const builtinFunctions: Record<string, Fn> = nullProto({
  // --- Kargo (pkg/expressions: the wrapping quotes are read back by the template layer) ---
  quote: (v: unknown) => {
    if (typeof v === 'string') {
      checkStringLength(v.length + 2, 'quote')
      return goQuote(v)
    }
    return `"${toJSONText(v, undefined, 'quote')}"`
  },
  unsafeQuote: (v: unknown) => `"${toJSONText(v, undefined, 'unsafeQuote')}"`,
  asJSON: (v: unknown) => `"${toJSONText(v, 2, 'asJSON')}\n"`,
  asYAML: (v: unknown) => {
    checkSerializedSize(v, 'asYAML')
    return `"${YAML.stringify(toPlain(v))}"`
  },
  semverParse: (v: unknown) => semverValue(parseSemver(v)),
  semverDiff: (a: unknown, b: unknown) => semverDiff(a, b),
  // --- expr-lang: strings ---
  len: (v: unknown) => {
    if (typeof v === 'string') return [...v].length
    if (Array.isArray(v)) return v.length
    if (isMap(v)) return Object.keys(v).length
    throw new Error(`len: expected a string, array or map, got ${typeName(v)}`)
  },
  lower: (v: unknown) => str(v, 'lower').toLowerCase(),
  upper: (v: unknown) => str(v, 'upper').toUpperCase(),
  trim: (v: unknown, chars?: unknown) => {
    const s = str(v, 'trim')
    if (chars === undefined) return s.trim()
    const set = new Set(str(chars, 'trim', 2))
    let a = 0
    let b = s.length
    while (a < b && set.has(s[a])) a++
    while (b > a && set.has(s[b - 1])) b--
    return s.slice(a, b)
  },
  trimPrefix: (v: unknown, p: unknown = ' ') => {
    const s = str(v, 'trimPrefix')
    const pre = str(p, 'trimPrefix', 2)
    return s.startsWith(pre) ? s.slice(pre.length) : s
  },
  trimSuffix: (v: unknown, p: unknown = ' ') => {
    const s = str(v, 'trimSuffix')
    const suf = str(p, 'trimSuffix', 2)
    return suf && s.endsWith(suf) ? s.slice(0, s.length - suf.length) : s
  },
  hasPrefix: (v: unknown, p: unknown) => str(v, 'hasPrefix').startsWith(str(p, 'hasPrefix', 2)),
  hasSuffix: (v: unknown, p: unknown) => str(v, 'hasSuffix').endsWith(str(p, 'hasSuffix', 2)),
  split: (v: unknown, sep: unknown, n?: unknown) =>
    splitN(str(v, 'split'), str(sep, 'split', 2), n === undefined ? -1 : int(n, 'split'), false),
  splitAfter: (v: unknown, sep: unknown, n?: unknown) =>
    splitN(
      str(v, 'splitAfter'),
      str(sep, 'splitAfter', 2),
      n === undefined ? -1 : int(n, 'splitAfter'),
      true
    ),
  join: (v: unknown, sep?: unknown) => {
    const parts = list(v, 'join').map(stringify)
    const glue = sep === undefined ? '' : str(sep, 'join', 2)
    let total = glue.length * Math.max(0, parts.length - 1)
    for (const p of parts) total += p.length
    checkStringLength(total, 'join')
    return parts.join(glue)
  },
  replace: (v: unknown, a: unknown, b: unknown, n?: unknown) => {
    const s = str(v, 'replace')
    const from = str(a, 'replace', 2)
    const to = str(b, 'replace', 3)
    const limit = n === undefined ? -1 : int(n, 'replace')
    // Count first, so that an oversized result is refused before it is built. Go's Replace with
    // an empty `old` inserts `new` before every character and at the end.
    const chars = from === '' ? [...s] : []
    let slots = from === '' ? chars.length + 1 : 0
    if (from !== '')
      for (let i = s.indexOf(from); i >= 0; i = s.indexOf(from, i + from.length)) slots++
    const used = limit < 0 ? slots : Math.min(limit, slots)
    checkStringLength(s.length + used * (to.length - from.length), 'replace')
    if (from === '') {
      let out = ''
      chars.forEach((c, i) => (out += (i < used ? to : '') + c))
      return used > chars.length ? out + to : out
    }
    const pieces = s.split(from)
    if (used === slots) return pieces.join(to)
    return pieces.slice(0, used + 1).join(to) + from + pieces.slice(used + 1).join(from)
  },
  repeat: (v: unknown, n: unknown) => {
    const s = str(v, 'repeat')
    const times = int(n, 'repeat')
    if (times < 0) throw new Error(`repeat: the count must not be negative, got ${times}`)
    checkStringLength(s.length * times, 'repeat')
    return s.repeat(times)
  },
  indexOf: (v: unknown, sub: unknown) => str(v, 'indexOf').indexOf(str(sub, 'indexOf', 2)),
  lastIndexOf: (v: unknown, sub: unknown) =>
    str(v, 'lastIndexOf').lastIndexOf(str(sub, 'lastIndexOf', 2)),
  // --- numbers ---
  abs: (v: unknown) => Math.abs(num(v, 'abs')),
  ceil: (v: unknown) => Math.ceil(num(v, 'ceil')),
  floor: (v: unknown) => Math.floor(num(v, 'floor')),
  // Go's math.Round: half away from zero.
  round: (v: unknown) => {
    const x = num(v, 'round')
    return Math.sign(x) * Math.round(Math.abs(x))
  },
  max: (...vs: unknown[]) => {
    const ns = numbers(vs, 'max')
    if (!ns.length) throw new Error('max: no values')
    return Math.max(...ns)
  },
  min: (...vs: unknown[]) => {
    const ns = numbers(vs, 'min')
    if (!ns.length) throw new Error('min: no values')
    return Math.min(...ns)
  },
  mean: (...vs: unknown[]) => {
    const ns = numbers(vs, 'mean')
    return ns.length ? ns.reduce((a, b) => a + b, 0) / ns.length : 0
  },
  median: (...vs: unknown[]) => {
    const ns = numbers(vs, 'median').sort((a, b) => a - b)
    if (!ns.length) return 0
    const m = ns.length >> 1
    return ns.length % 2 ? ns[m] : (ns[m - 1] + ns[m]) / 2
  },
  // --- arrays (the predicate ones are in the evaluator) ---
  first: (v: unknown): unknown => (Array.isArray(v) && v.length ? v[0] : null),
  last: (v: unknown): unknown => (Array.isArray(v) && v.length ? v[v.length - 1] : null),
  take: (v: unknown, n: unknown) => list(v, 'take').slice(0, Math.max(0, int(n, 'take'))),
  reverse: (v: unknown) => [...list(v, 'reverse')].reverse(),
  sort: (v: unknown, ord?: unknown) => {
    const dir = order(ord, 'sort')
    return [...list(v, 'sort')].sort((a, b) => dir * compareValues(a, b, 'sort'))
  },
  uniq: (v: unknown) => {
    const out: unknown[] = []
    const seen = new Set<unknown>()
    for (const x of list(v, 'uniq')) {
      const key = x !== null && typeof x === 'object' ? toJSONText(x, undefined, 'uniq') : x
      if (!seen.has(key)) {
        seen.add(key)
        out.push(x)
      }
    }
    return out
  },
  concat: (...vs: unknown[]) => {
    const arrays = vs.map((v) => list(v, 'concat'))
    checkArrayLength(
      arrays.reduce((n, a) => n + a.length, 0),
      'concat'
    )
    return arrays.flat(1)
  },
  flatten: (v: unknown) => {
    const out: unknown[] = []
    flattenInto(list(v, 'flatten'), out, 0)
    return out
  },
  get: (v: unknown, key: unknown): unknown => {
    if (Array.isArray(v) || typeof v === 'string') {
      if (!Number.isInteger(key)) return null
      const i = (key as number) < 0 ? v.length + (key as number) : (key as number)
      return i >= 0 && i < v.length ? v[i] : null
    }
    if (isMap(v) && (typeof key === 'string' || typeof key === 'number')) {
      const k = String(key)
      return Object.prototype.hasOwnProperty.call(v, k) && !BLOCKED_KEYS.has(k) ? v[k] : null
    }
    if (v instanceof HostValue && typeof key === 'string' && v.hasField(key)) return v.field(key)
    return null
  },
  // --- maps ---
  keys: (v: unknown) => {
    if (isMap(v)) return Object.keys(v)
    throw new Error(`keys: expected a map, got ${typeName(v)}`)
  },
  values: (v: unknown) => {
    if (isMap(v)) return Object.values(v)
    throw new Error(`values: expected a map, got ${typeName(v)}`)
  },
  toPairs: (v: unknown) => {
    if (isMap(v)) return Object.entries(v).map(([k, x]) => [k, x])
    throw new Error(`toPairs: expected a map, got ${typeName(v)}`)
  },
  fromPairs: (v: unknown) => {
    const out: Record<string, unknown> = {}
    for (const pair of list(v, 'fromPairs')) {
      if (!Array.isArray(pair) || pair.length !== 2) {
        throw new Error('fromPairs: expected [key, value] pairs')
      }
      const k: unknown = pair[0]
      if (typeof k !== 'string' && typeof k !== 'number') {
        throw new Error(`fromPairs: keys must be strings, got ${typeName(k)}`)
      }
      if (BLOCKED_KEYS.has(String(k))) throw new Error(`fromPairs: '${k}' cannot be a map key`)
      Object.defineProperty(out, String(k), {
        value: pair[1],
        enumerable: true,
        writable: true,
        configurable: true
      })
    }
    return out
  },
  // --- conversions ---
  int: (v: unknown) => {
    if (typeof v === 'number') return Math.trunc(v)
    if (typeof v === 'string' && /^\s*[-+]?\d+\s*$/.test(v)) return parseInt(v, 10)
    throw new Error(`int: cannot convert ${JSON.stringify(stringify(v))} to an integer`)
  },
  float: (v: unknown) => {
    if (typeof v === 'number') return v
    if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v)
    throw new Error(`float: cannot convert ${JSON.stringify(stringify(v))} to a number`)
  },
  string: (v: unknown) => stringify(v),
  toJSON: (v: unknown) => toJSONText(v, 2, 'toJSON'),
  fromJSON: (v: unknown): unknown => JSON.parse(str(v, 'fromJSON')),
  fromYAML: (v: unknown): unknown => YAML.parse(str(v, 'fromYAML'), { maxAliasCount: 100 }),
  toBase64: (v: unknown) => Buffer.from(str(v, 'toBase64'), 'utf8').toString('base64'),
  fromBase64: (v: unknown) => {
    const s = str(v, 'fromBase64')
    if (s.length % 4 !== 0 || !BASE64.test(s)) throw new Error('fromBase64: invalid base64 text')
    return Buffer.from(s, 'base64').toString('utf8')
  },
  type: (v: unknown) => goTypeName(v),
  // --- bitwise (Go int64 semantics) ---
  bitand: (a: unknown, b: unknown) => bit(a, b, 'bitand', (x, y) => x & y),
  bitor: (a: unknown, b: unknown) => bit(a, b, 'bitor', (x, y) => x | y),
  bitxor: (a: unknown, b: unknown) => bit(a, b, 'bitxor', (x, y) => x ^ y),
  bitnand: (a: unknown, b: unknown) => bit(a, b, 'bitnand', (x, y) => x & ~y),
  bitnot: (a: unknown) => Number(BigInt.asIntN(64, ~BigInt(int(a, 'bitnot')))),
  bitshl: (a: unknown, b: unknown) => shift(a, b, 'bitshl', (x, n) => x << n),
  bitshr: (a: unknown, b: unknown) => shift(a, b, 'bitshr', (x, n) => x >> n),
  bitushr: (a: unknown, b: unknown) => shift(a, b, 'bitushr', (x, n) => BigInt.asUintN(64, x) >> n),
  // --- dates ---
  now: () => timeValue(new Date()),
  date: (v: unknown, layout?: unknown, zone?: unknown) => {
    if (v instanceof HostValue && v.kind === 'Time') return v
    if (typeof v === 'number') return timeValue(v)
    return dateValue(
      str(v, 'date'),
      layout === undefined ? undefined : str(layout, 'date', 2),
      zone === undefined ? undefined : str(zone, 'date', 3)
    )
  },
  duration: (v: unknown) => durationValue(parseGoDuration(str(v, 'duration')))
})

function bit(a: unknown, b: unknown, fn: string, op: (x: bigint, y: bigint) => bigint): number {
  return Number(BigInt.asIntN(64, op(BigInt(int(a, fn)), BigInt(int(b, fn)))))
}

function shift(a: unknown, b: unknown, fn: string, op: (x: bigint, n: bigint) => bigint): number {
  const n = int(b, fn)
  if (n < 0) throw new Error(`${fn}: negative shift count ${n}`)
  return Number(BigInt.asIntN(64, op(BigInt(int(a, fn)), BigInt(Math.min(n, 64)))))
}

const BLOCKED_KEYS = new Set(['__proto__', 'constructor', 'prototype'])
