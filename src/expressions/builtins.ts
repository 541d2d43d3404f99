import YAML from 'yaml'
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
  return JSON.stringify(toPlain(v))
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

/**
 * Functions every expression can call: Kargo's data helpers (quote, asJSON, semverParse, …) and
 * the expr-lang built-ins Kargo users reach for (len, lower, split, …). Freight/state functions
 * (imageFrom, secret, …) come from freightFunctions(); always/success/… from the engine.
 */
export const builtinFunctions: Record<string, Fn> = nullProto({
  // --- Kargo ---
  quote: (v: unknown) => JSON.stringify(stringify(v)),
  unsafeQuote: (v: unknown) => `"${stringify(v)}"`,
  asJSON: (v: unknown) => JSON.stringify(toPlain(v)),
  asYAML: (v: unknown) => YAML.stringify(toPlain(v)),
  semverParse: (v: unknown) => semverValue(parseSemver(v)),
  semverDiff: (a: unknown, b: unknown) => semverDiff(a, b),
  // --- expr-lang built-ins ---
  len: (v: unknown) => {
    if (typeof v === 'string' || Array.isArray(v))
      return [...(typeof v === 'string' ? v : v)].length
    if (v && typeof v === 'object' && !(v instanceof HostValue)) return Object.keys(v).length
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
  trimPrefix: (v: unknown, p: unknown) => {
    const s = str(v, 'trimPrefix')
    const pre = str(p, 'trimPrefix', 2)
    return s.startsWith(pre) ? s.slice(pre.length) : s
  },
  trimSuffix: (v: unknown, p: unknown) => {
    const s = str(v, 'trimSuffix')
    const suf = str(p, 'trimSuffix', 2)
    return suf && s.endsWith(suf) ? s.slice(0, s.length - suf.length) : s
  },
  hasPrefix: (v: unknown, p: unknown) => str(v, 'hasPrefix').startsWith(str(p, 'hasPrefix', 2)),
  hasSuffix: (v: unknown, p: unknown) => str(v, 'hasSuffix').endsWith(str(p, 'hasSuffix', 2)),
  split: (v: unknown, sep: unknown, n?: unknown) => {
    const parts = str(v, 'split').split(str(sep, 'split', 2))
    if (typeof n === 'number' && n > 0 && parts.length > n) {
      return [...parts.slice(0, n - 1), parts.slice(n - 1).join(sep as string)]
    }
    return parts
  },
  join: (v: unknown, sep?: unknown) =>
    list(v, 'join')
      .map(stringify)
      .join(sep === undefined ? '' : str(sep, 'join', 2)),
  replace: (v: unknown, a: unknown, b: unknown) =>
    str(v, 'replace')
      .split(str(a, 'replace', 2))
      .join(str(b, 'replace', 3)),
  indexOf: (v: unknown, sub: unknown) => str(v, 'indexOf').indexOf(str(sub, 'indexOf', 2)),
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
  toJSON: (v: unknown) => JSON.stringify(toPlain(v), null, 2),
  fromJSON: (v: unknown) => JSON.parse(str(v, 'fromJSON')),
  fromYAML: (v: unknown) => YAML.parse(str(v, 'fromYAML')),
  keys: (v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof HostValue)) {
      return Object.keys(v)
    }
    throw new Error(`keys: expected a map, got ${typeName(v)}`)
  },
  values: (v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof HostValue)) {
      return Object.values(v)
    }
    throw new Error(`values: expected a map, got ${typeName(v)}`)
  },
  abs: (v: unknown) => Math.abs(num(v, 'abs')),
  max: (...vs: unknown[]) => Math.max(...vs.map((v) => num(v, 'max'))),
  min: (...vs: unknown[]) => Math.min(...vs.map((v) => num(v, 'min'))),
  first: (v: unknown) => (list(v, 'first').length ? (v as unknown[])[0] : null),
  last: (v: unknown) => {
    const l = list(v, 'last')
    return l.length ? l[l.length - 1] : null
  },
  type: (v: unknown) => typeName(v),
  now: () => timeValue(new Date()),
  date: (v: unknown) => {
    if (v instanceof HostValue && v.kind === 'Time') return v
    if (typeof v !== 'string' && typeof v !== 'number') {
      throw new Error(`date: expected a string, got ${typeName(v)}`)
    }
    return timeValue(v)
  },
  duration: (v: unknown) => durationValue(parseGoDuration(str(v, 'duration')))
})
