/**
 * Copy-on-write drafts of a frozen JSON document (the idea of immer, for plain objects and arrays).
 * A mutator edits the draft as if it were a plain object; finishDraft() returns a new frozen
 * document that shares every untouched object with the base. The state store relies on that
 * sharing: an update of one freight among 10,000 re-serializes and re-validates one record.
 *
 * Limitations (as in immer): drafts are proxies, so structuredClone() of a draft throws
 * DataCloneError: copy with cloneJson() (below) or JSON.parse(JSON.stringify(x)). After
 * finishDraft() a draft can still be read (it shows the finished values) but not written.
 */
const DRAFT = Symbol('waybill.draft')

interface DraftState {
  base: Record<PropertyKey, unknown>
  copy?: Record<PropertyKey, unknown>
  parent?: DraftState
  modified: boolean
  finalized: boolean
  array: boolean
  proxy: object
  /** Its key in the parent draft. */
  key?: PropertyKey
  /** Keys of an object draft written, deleted, or whose child draft was written (draftOverlay). */
  changedKeys?: Set<string>
}

type Json = Record<PropertyKey, unknown>

const isObject = (v: unknown): v is object => v !== null && typeof v === 'object'

function draftOf(v: unknown): DraftState | undefined {
  return isObject(v) ? ((v as Json)[DRAFT] as DraftState | undefined) : undefined
}

function source(s: DraftState): Json {
  return s.copy ?? s.base
}

function prepareCopy(s: DraftState): Json {
  if (!s.copy) s.copy = (s.array ? [...(s.base as unknown as unknown[])] : { ...s.base }) as Json
  return s.copy
}

function recordChangedKey(s: DraftState, key: PropertyKey | undefined): void {
  if (s.array || typeof key !== 'string') return
  if (!s.changedKeys) s.changedKeys = new Set()
  s.changedKeys.add(key)
}

/** Marks `prop` of `s` changed, and `s` and its ancestors modified (each noted under its key). */
function markModified(s: DraftState, prop: PropertyKey): void {
  recordChangedKey(s, prop)
  for (let x: DraftState | undefined = s; x && !x.modified; x = x.parent) {
    x.modified = true
    prepareCopy(x)
    if (x.parent) recordChangedKey(x.parent, x.key)
  }
}

function assertLive(s: DraftState): void {
  if (s.finalized) throw new TypeError('a state draft cannot be changed after the update finished')
}

const handler: ProxyHandler<object> = {
  get(target, prop) {
    const s = stateOf(target)
    if (prop === DRAFT) return s
    // After the update: read the finished (frozen) values.
    if (s.finalized) return Reflect.get(finalize(s) as object, prop) as unknown
    const src = source(s)
    if (!Object.prototype.hasOwnProperty.call(src, prop)) return Reflect.get(src, prop)
    const value = src[prop]
    if (!isObject(value) || draftOf(value) || !Object.isFrozen(value)) return value
    // A base object: hand out a child draft, kept in the (unmodified) copy.
    if (value !== s.base[prop]) return value
    const child = createDraftState(value as Json, s, prop)
    prepareCopy(s)[prop] = child.proxy
    return child.proxy
  },
  set(target, prop, value) {
    const s = stateOf(target)
    assertLive(s)
    const src = source(s)
    if (!s.modified) {
      const current = src[prop]
      const same =
        current === value || (draftOf(current) !== undefined && draftOf(current)?.base === value)
      if (same && (prop in src || value !== undefined)) return true
    }
    markModified(s, prop)
    s.copy![prop] = value
    return true
  },
  deleteProperty(target, prop) {
    const s = stateOf(target)
    assertLive(s)
    if (!Object.prototype.hasOwnProperty.call(source(s), prop)) return true
    markModified(s, prop)
    delete s.copy![prop]
    return true
  },
  has(target, prop) {
    const s = stateOf(target)
    return prop in source(s)
  },
  ownKeys(target) {
    return Reflect.ownKeys(source(stateOf(target)))
  },
  getOwnPropertyDescriptor(target, prop) {
    const s = stateOf(target)
    const src = source(s)
    const desc = Reflect.getOwnPropertyDescriptor(src, prop)
    if (!desc) return undefined
    return {
      writable: true,
      configurable: !s.array || prop !== 'length',
      enumerable: desc.enumerable,
      value: (handler.get as (t: object, p: PropertyKey) => unknown)(target, prop)
    }
  },
  defineProperty() {
    throw new Error('defineProperty is not supported on a state draft')
  },
  getPrototypeOf(target) {
    return Object.getPrototypeOf(stateOf(target).base) as object | null
  },
  setPrototypeOf() {
    throw new Error('setPrototypeOf is not supported on a state draft')
  }
}

function stateOf(target: object): DraftState {
  return Array.isArray(target)
    ? (target as unknown as [DraftState])[0]
    : (target as { s: DraftState }).s
}

function createDraftState(base: Json, parent?: DraftState, key?: PropertyKey): DraftState {
  const array = Array.isArray(base)
  const s: DraftState = { base, parent, key, modified: false, finalized: false, array, proxy: {} }
  // The proxy target is a private stand-in, never the frozen base (Proxy invariants).
  const target = array ? [s] : { s }
  s.proxy = new Proxy(target, handler)
  return s
}

/** A mutable draft of a frozen document. */
export function createDraft<T extends object>(base: T): T {
  if (!Object.isFrozen(base)) throw new Error('createDraft needs a frozen base (deepFreeze it)')
  return createDraftState(base as Json).proxy as T
}

/** Ends the draft: the new frozen document (=== base when nothing changed). */
export function finishDraft<T extends object>(draft: T): T {
  const s = draftOf(draft)
  if (!s) throw new Error('not a state draft')
  return finalize(s) as T
}

function finalize(s: DraftState): unknown {
  if (s.finalized) return s.modified ? s.copy : s.base
  s.finalized = true
  if (!s.modified) return s.base
  const copy = s.copy!
  for (const key of Object.keys(copy)) copy[key] = finalizeValue(copy[key])
  return Object.freeze(copy)
}

/** Resolves drafts inside new values and freezes what is new; base objects are left alone. */
function finalizeValue(v: unknown): unknown {
  if (!isObject(v)) return v
  const d = draftOf(v)
  if (d) return finalize(d)
  if (Object.isFrozen(v)) return v
  const obj = v as Json
  for (const key of Object.keys(obj)) {
    const x = obj[key]
    if (isObject(x)) obj[key] = finalizeValue(x)
  }
  if (obj.toJSON === undefined) Object.freeze(obj)
  return obj
}

/** Freezes a plain JSON document in place (the base of drafts); returns it. */
export function deepFreeze<T>(v: T): T {
  if (!isObject(v) || Object.isFrozen(v)) return v
  const obj = v as Json
  for (const key of Object.keys(obj)) deepFreeze(obj[key])
  return Object.freeze(v)
}

/** A mutable deep copy of a plain JSON document (drafts resolved to their current values). */
export function cloneJson<T>(v: T): T {
  if (!isObject(v)) return v
  if (Array.isArray(v)) return v.map((x: unknown) => cloneJson(x)) as T
  const out: Json = {}
  for (const key of Object.keys(v)) {
    const x = (v as Json)[key]
    if (x !== undefined) out[key] = cloneJson(x)
  }
  return out as T
}

/**
 * The frozen object `v` currently equals: `v` itself when frozen, the base of a draft nothing has
 * been written to (writes anywhere below a draft mark it), else undefined. Lets readers keep
 * indexes per frozen object (WeakMap) and still use them while a mutator reads its draft.
 */
export function unchangedBase<T>(v: T): T | undefined {
  if (!isObject(v)) return undefined
  const s = draftOf(v)
  if (!s) return Object.isFrozen(v) ? v : undefined
  return s.modified ? undefined : (s.base as T)
}

/** A draft seen as its frozen base plus the keys of that level that may differ from it. */
export interface DraftOverlay<T> {
  base: T
  /**
   * Keys written, deleted or added at this level, or whose value is a draft something was written
   * to: every other key still holds its base value (or an unchanged draft of it). Live: it grows
   * as the mutator goes on.
   */
  changedKeys: ReadonlySet<string>
}

const NO_KEYS: ReadonlySet<string> = new Set()

/**
 * An object (not an array: a splice shifts every key) as a frozen object plus the keys in which it
 * differs from it: a frozen `v` is its own base with no changed keys, a draft its base and the
 * keys written at (or below) it, a finished draft its result; else undefined. Lets readers keep an
 * index per frozen object (WeakMap) and patch in the few changed keys, where unchangedBase() gives
 * up at the first write.
 */
export function draftOverlay<T>(v: T): DraftOverlay<T> | undefined {
  if (!isObject(v) || Array.isArray(v)) return undefined
  const s = draftOf(v)
  if (!s) return Object.isFrozen(v) ? { base: v, changedKeys: NO_KEYS } : undefined
  if (s.finalized) return { base: finalize(s) as T, changedKeys: NO_KEYS }
  return { base: s.base as T, changedKeys: s.changedKeys ?? NO_KEYS }
}
