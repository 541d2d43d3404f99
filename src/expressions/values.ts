import { formatDuration, parseDuration } from '../util/duration.js'
import semver from 'semver'

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Method = (...args: any[]) => unknown

/**
 * A value that Kargo exposes as a Go struct: fields under their Go names (`imageFrom(x).Tag`),
 * methods (`semverParse(v).Major()`), and the JSON form Go would marshal it to (used by
 * asJSON/asYAML and when the value leaves an expression). Only the evaluator reads it, and only
 * through `field()` / `method()`, so nothing reaches JavaScript prototypes.
 */
export class HostValue {
  private readonly fieldMap: Map<string, unknown>
  private readonly methodMap: Map<string, Method>
  constructor(
    readonly kind: string,
    fields: Record<string, unknown>,
    methods: Record<string, Method>,
    readonly json: unknown,
    /** For ordering comparisons (times, durations, versions). */
    readonly compareKey?: number
  ) {
    this.fieldMap = new Map(Object.entries(fields))
    this.methodMap = new Map(Object.entries(methods))
  }
  hasField(name: string): boolean {
    return this.fieldMap.has(name)
  }
  field(name: string): unknown {
    return this.fieldMap.get(name)
  }
  method(name: string): Method | undefined {
    return this.methodMap.get(name)
  }
}

/** Converts evaluator values (HostValue anywhere inside) to plain JSON-able data. */
export function toPlain(value: unknown, depth = 0): unknown {
  if (depth > 200) throw new Error('value is too deeply nested')
  if (value instanceof HostValue) return toPlain(value.json, depth + 1)
  if (value === undefined) return null
  if (Array.isArray(value)) return value.map((v) => toPlain(v, depth + 1))
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) {
      Object.defineProperty(out, k, {
        value: toPlain(v, depth + 1),
        enumerable: true,
        writable: true,
        configurable: true
      })
    }
    return out
  }
  if (typeof value === 'number' && !Number.isFinite(value)) return null
  if (typeof value === 'function' || typeof value === 'symbol' || typeof value === 'bigint') {
    return String(value)
  }
  return value
}

// ---------- Go-style structs ----------

export interface OriginValue {
  kind: 'Warehouse'
  name: string
}

export function originValue(name: string): HostValue {
  return new HostValue(
    'FreightOrigin',
    { Kind: 'Warehouse', Name: name },
    {},
    { kind: 'Warehouse', name }
  )
}

// ---------- time ----------

/** A Go time.Time: `creatorDate.Year()`, comparisons, `now() - t > duration('24h')`. */
export function timeValue(date: Date | string | number): HostValue {
  const d = date instanceof Date ? date : new Date(date)
  const ms = d.getTime()
  if (Number.isNaN(ms)) throw new Error(`invalid time ${JSON.stringify(String(date))}`)
  const iso = d.toISOString()
  const other = (t: unknown): number => {
    if (t instanceof HostValue && t.kind === 'Time') return t.compareKey!
    throw new Error('expected a time')
  }
  return new HostValue(
    'Time',
    {},
    {
      Year: () => d.getUTCFullYear(),
      Month: () => d.getUTCMonth() + 1,
      Day: () => d.getUTCDate(),
      Hour: () => d.getUTCHours(),
      Minute: () => d.getUTCMinutes(),
      Second: () => d.getUTCSeconds(),
      Weekday: () => d.getUTCDay(),
      YearDay: () => Math.floor((ms - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86_400_000) + 1,
      Unix: () => Math.floor(ms / 1000),
      UnixMilli: () => ms,
      Before: (t: unknown) => ms < other(t),
      After: (t: unknown) => ms > other(t),
      Equal: (t: unknown) => ms === other(t),
      Sub: (t: unknown) => durationValue(ms - other(t)),
      Add: (dur: unknown) => timeValue(ms + durationMs(dur)),
      String: () => iso
    },
    iso,
    ms
  )
}

export function durationValue(ms: number): HostValue {
  return new HostValue(
    'Duration',
    {},
    {
      Hours: () => ms / 3_600_000,
      Minutes: () => ms / 60_000,
      Seconds: () => ms / 1000,
      Milliseconds: () => ms,
      String: () => formatDuration(ms)
    },
    formatDuration(ms),
    ms
  )
}

function durationMs(v: unknown): number {
  if (v instanceof HostValue && v.kind === 'Duration') return v.compareKey!
  if (typeof v === 'string') return parseGoDuration(v)
  throw new Error('expected a duration')
}

/** parseDuration with the plain error expressions report (no hint). */
export function parseGoDuration(text: string): number {
  try {
    return parseDuration(text)
  } catch {
    throw new Error(`invalid duration ${JSON.stringify(text)}`)
  }
}

// ---------- semver ----------

/** Parses like Masterminds semver's NewVersion: a leading `v` and missing minor/patch are fine. */
export function parseSemver(v: unknown): semver.SemVer {
  if (typeof v !== 'string') throw new Error(`semverParse: expected a string, got ${typeName(v)}`)
  const strict = semver.parse(v, { loose: true })
  if (strict) return strict
  const m = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/.exec(v.trim())
  if (m) {
    const fixed = `${m[1]}.${m[2] ?? '0'}.${m[3] ?? '0'}${m[4] ?? ''}${m[5] ?? ''}`
    const p = semver.parse(fixed)
    if (p) return p
  }
  throw new Error(`semverParse: ${JSON.stringify(v)} is not a semantic version`)
}

export function semverValue(v: semver.SemVer): HostValue {
  const str = v.version + (v.build.length ? `+${v.build.join('.')}` : '')
  const other = (x: unknown): semver.SemVer =>
    x instanceof HostValue && x.kind === 'Version' ? parseSemver(x.json) : parseSemver(x)
  const inc = (kind: 'major' | 'minor' | 'patch') => () => {
    const n = new semver.SemVer(v.version)
    // Masterminds: IncPatch on a prerelease drops the prerelease without bumping.
    if (kind === 'patch' && v.prerelease.length) {
      return semverValue(semver.parse(`${v.major}.${v.minor}.${v.patch}`)!)
    }
    n.inc(kind)
    return semverValue(n)
  }
  return new HostValue(
    'Version',
    {},
    {
      Major: () => v.major,
      Minor: () => v.minor,
      Patch: () => v.patch,
      Prerelease: () => v.prerelease.join('.'),
      Metadata: () => v.build.join('.'),
      IncMajor: inc('major'),
      IncMinor: inc('minor'),
      IncPatch: inc('patch'),
      String: () => str,
      Original: () => v.raw,
      Compare: (o: unknown) => semver.compare(v, other(o)),
      LessThan: (o: unknown) => semver.lt(v, other(o)),
      GreaterThan: (o: unknown) => semver.gt(v, other(o)),
      Equal: (o: unknown) => semver.eq(v, other(o))
    },
    str
  )
}

/** Kargo's semverDiff: which part differs first. */
export function semverDiff(a: unknown, b: unknown): string {
  let va: semver.SemVer
  let vb: semver.SemVer
  try {
    va = a instanceof HostValue ? parseSemver(a.json) : parseSemver(a)
    vb = b instanceof HostValue ? parseSemver(b.json) : parseSemver(b)
  } catch {
    return 'Incomparable'
  }
  if (va.major !== vb.major) return 'Major'
  if (va.minor !== vb.minor) return 'Minor'
  if (va.patch !== vb.patch) return 'Patch'
  // Kargo compares build metadata only: prereleases that differ are 'None'.
  if (va.build.join('.') !== vb.build.join('.')) return 'Metadata'
  return 'None'
}

export function typeName(v: unknown): string {
  if (v === null || v === undefined) return 'nil'
  if (Array.isArray(v)) return 'array'
  if (v instanceof HostValue) return v.kind
  if (typeof v === 'object') return 'map'
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float'
  if (typeof v === 'boolean') return 'bool'
  return typeof v
}
