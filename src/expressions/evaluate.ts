import vm from 'node:vm'
import type jsep from 'jsep'
import { ExpressionError, parseExpression, type Node } from './parse.js'
import { durationValue, HostValue, toPlain, typeName } from './values.js'
import { builtinFunctions, compareOrdered, compareValues, stringify } from './builtins.js'
import {
  MAX_ARRAY_LENGTH,
  MAX_EVALUATION_MS,
  MAX_EVALUATION_STEPS,
  MAX_STRING_LENGTH
} from './limits.js'
import { scalarText } from '../util/text.js'

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ExprFunction = (...args: any[]) => unknown

/** What an expression can see: variables (`ctx`, `vars`, `outputs`, …) and functions. */
export interface ExprEnv {
  vars: Record<string, unknown>
  functions?: Record<string, ExprFunction>
}

/** Names that never resolve, whatever the data holds. */
const BLOCKED = new Set([
  'constructor',
  '__proto__',
  'prototype',
  '__defineGetter__',
  '__defineSetter__',
  '__lookupGetter__',
  '__lookupSetter__'
])

export { MAX_STRING_LENGTH } from './limits.js'

/**
 * Evaluates one expr-lang expression (without `${{ }}`) and returns plain JSON-able data.
 * Throws ExpressionError with the expression quoted on any problem.
 */
export function evaluateExpression(expr: string, env: ExprEnv): unknown {
  return toPlain(evaluateRaw(expr, env))
}

/** Like evaluateExpression but keeps Go-style values (HostValue), for the template layer. */
export function evaluateRaw(expr: string, env: ExprEnv): unknown {
  const ast = parseExpression(expr)
  const ev = new Evaluator(env, expr)
  try {
    const v = ev.eval(ast)
    return v === undefined ? null : v
  } catch (err) {
    if (err instanceof ExpressionError) throw err
    if (err instanceof RangeError) throw new ExpressionError('expression is too complex', expr)
    throw new ExpressionError((err as Error).message ?? String(err), expr)
  }
}

/** Array.isArray without its `any[]`: expression values are unknown. */
function isList(v: unknown): v is unknown[] {
  return Array.isArray(v)
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false
  const proto: unknown = Object.getPrototypeOf(v)
  // Object.prototype of this or another realm (structuredClone, vm contexts), or none.
  return proto === null || Object.getPrototypeOf(proto) === null
}

function own(obj: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(obj, key)
}

/** expr-lang's predicate built-ins: their predicate argument is evaluated once per element. */
const PREDICATE_FUNCTIONS = new Set([
  'all',
  'none',
  'any',
  'one',
  'filter',
  'map',
  'count',
  'sum',
  'find',
  'findIndex',
  'findLast',
  'findLastIndex',
  'groupBy',
  'sortBy',
  'reduce'
])

const COMPARISONS = new Set(['<', '>', '<=', '>='])

/** Returned inside a `?.` chain that met nil: the whole chain is nil. */
const SHORT_CIRCUIT = Symbol('nil chain')

interface Frame {
  item: unknown
  index: number
  acc?: unknown
}

class Evaluator {
  private steps = 0
  private lastClockCheck = 0
  private readonly started = Date.now()
  /** `let` variables, innermost last. */
  private readonly locals: Array<[string, unknown]> = []
  /** Predicate elements (`#`), innermost last. */
  private readonly frames: Frame[] = []

  constructor(
    private readonly env: ExprEnv,
    private readonly source: string
  ) {}

  private fail(message: string): never {
    throw new ExpressionError(message, this.source)
  }

  /** Counts work; fails when one evaluation spends too much. */
  private charge(units: number): void {
    this.steps += units
    if (this.steps > MAX_EVALUATION_STEPS) {
      this.fail('expression does too much work (evaluation step limit reached)')
    }
    if (this.steps - this.lastClockCheck > 4096) {
      this.lastClockCheck = this.steps
      if (Date.now() - this.started > MAX_EVALUATION_MS) {
        this.fail(`expression took too long (over ${MAX_EVALUATION_MS}ms)`)
      }
    }
  }

  eval(node: Node): unknown {
    const v = this.evalChain(node)
    return v === SHORT_CIRCUIT ? null : v
  }

  /** Like eval, but a member/call chain cut short by `?.` returns SHORT_CIRCUIT. */
  private evalChain(node: Node): unknown {
    this.charge(1)
    switch (node.type) {
      case 'Literal':
        return (node as jsep.Literal).value
      case 'Identifier':
        return this.identifier((node as jsep.Identifier).name)
      case 'ThisExpression':
        return this.fail("'this' is not available in expressions")
      case 'MemberExpression':
        return this.member(node as jsep.MemberExpression)
      case 'CallExpression':
        return this.call(node as jsep.CallExpression)
      case 'UnaryExpression':
        return this.unary(node as jsep.UnaryExpression)
      case 'BinaryExpression':
        return this.binary(node as jsep.BinaryExpression)
      case 'ConditionalExpression': {
        const n = node as jsep.ConditionalExpression
        const test = this.eval(n.test)
        if (typeof test !== 'boolean') {
          this.fail(`the condition of ?: must be a bool, got ${typeName(test)}`)
        }
        return test ? this.eval(n.consequent) : this.eval(n.alternate)
      }
      case 'ArrayExpression': {
        const out = (node as jsep.ArrayExpression).elements.map((e) => (e ? this.eval(e) : null))
        return out
      }
      case 'ObjectExpression':
        return this.object(node)
      case 'Pointer':
        return this.pointer((node as unknown as { name: string }).name)
      case 'Closure':
        return this.fail(
          'a { … } predicate can only be an argument of filter, map, all, any, … (for a map, write {key: value})'
        )
      case 'Let': {
        const n = node as unknown as { name: string; value: Node; body: Node }
        if (BLOCKED.has(n.name)) this.fail(`'${n.name}' cannot be a variable name`)
        this.locals.push([n.name, this.eval(n.value)])
        try {
          return this.eval(n.body)
        } finally {
          this.locals.pop()
        }
      }
      case 'Sequence': {
        let v: unknown = null
        for (const e of (node as unknown as { expressions: Node[] }).expressions) v = this.eval(e)
        return v
      }
      case 'Slice':
        return this.slice(node as unknown as { object: Node; from?: Node; to?: Node })
      default:
        return this.fail(`unsupported syntax (${node.type})`)
    }
  }

  private identifier(name: string): unknown {
    if (BLOCKED.has(name)) this.fail(`'${name}' is not accessible`)
    for (let i = this.locals.length - 1; i >= 0; i--) {
      if (this.locals[i][0] === name) return this.locals[i][1]
    }
    const vars = this.env.vars
    if (own(vars, name)) return checkValue(vars[name], name)
    if (name === '$env') return envMap(vars)
    if (this.lookupFunction(name) || PREDICATE_FUNCTIONS.has(name)) {
      this.fail(`'${name}' is a function: call it as ${name}(…)`)
    }
    return this.fail(`unknown name '${name}'`)
  }

  private pointer(name: string): unknown {
    const frame = this.frames[this.frames.length - 1]
    const shown = name ? `#${name}` : '#'
    if (!frame)
      this.fail(`${shown} (or .field) can only be used inside a predicate such as filter(list, #…)`)
    if (name === '') return frame.item
    if (name === 'index') return frame.index
    if (name === 'acc' && 'acc' in frame) return frame.acc
    return this.fail(`unknown predicate variable ${shown}`)
  }

  private lookupFunction(name: string): ExprFunction | undefined {
    if (BLOCKED.has(name)) return undefined
    const fns = this.env.functions
    if (fns && own(fns, name) && typeof fns[name] === 'function') return fns[name]
    if (own(builtinFunctions, name)) return builtinFunctions[name]
    return undefined
  }

  private memberKey(n: jsep.MemberExpression): string | number {
    if (!n.computed) return (n.property as jsep.Identifier).name
    const k = this.eval(n.property)
    if (typeof k === 'string' || typeof k === 'number') return k
    return this.fail(`cannot index with a ${typeName(k)} (${describe(n)})`)
  }

  private member(n: jsep.MemberExpression): unknown {
    const obj = this.evalChain(n.object)
    if (obj === SHORT_CIRCUIT) return obj
    if ((obj === null || obj === undefined) && n.optional) return SHORT_CIRCUIT
    const key = this.memberKey(n)
    return getMember(obj, key, describe(n.object), (m) => this.fail(m))
  }

  private slice(n: { object: Node; from?: Node; to?: Node }): unknown {
    const obj = this.eval(n.object)
    if (!Array.isArray(obj) && typeof obj !== 'string') {
      return this.fail(`cannot slice ${typeName(obj)}`)
    }
    const bound = (node: Node | undefined, dflt: number): number => {
      if (!node) return dflt
      const v = this.eval(node)
      if (!Number.isInteger(v)) this.fail(`slice bounds must be integers, got ${typeName(v)}`)
      const i = v as number
      return Math.min(Math.max(i < 0 ? obj.length + i : i, 0), obj.length)
    }
    const from = bound(n.from, 0)
    const to = bound(n.to, obj.length)
    if (from > to) return this.fail(`invalid slice [${from}:${to}]`)
    return obj.slice(from, to)
  }

  private call(n: jsep.CallExpression, piped: unknown[] = []): unknown {
    const callee = n.callee
    if (callee.type === 'Identifier') {
      const name = (callee as jsep.Identifier).name
      const fns = this.env.functions
      if (PREDICATE_FUNCTIONS.has(name) && !(fns && own(fns, name))) {
        return this.predicateCall(name, n.arguments, piped)
      }
      const fn = this.lookupFunction(name)
      if (!fn) return this.fail(`unknown function '${name}'`)
      const args = [...piped, ...n.arguments.map((a) => this.eval(a))]
      return this.invoke(name, () => fn(...args))
    }
    if (callee.type === 'MemberExpression' && !piped.length) {
      const m = callee as jsep.MemberExpression
      const obj = this.evalChain(m.object)
      if (obj === SHORT_CIRCUIT) return obj
      if ((obj === null || obj === undefined) && m.optional) return SHORT_CIRCUIT
      const key = this.memberKey(m)
      const name = String(key)
      const method = obj instanceof HostValue ? obj.method(name) : undefined
      if (!method) {
        return this.fail(`${describe(m.object)} (${typeName(obj)}) has no method '${name}'`)
      }
      const args = n.arguments.map((a) => this.eval(a))
      return this.invoke(`${describe(m.object)}.${name}`, () => method(...args))
    }
    return this.fail('only named functions and methods can be called')
  }

  private invoke(what: string, run: () => unknown): unknown {
    let v: unknown
    try {
      v = run()
    } catch (err) {
      if (err instanceof ExpressionError) throw err
      const msg = (err as Error).message ?? String(err)
      return this.fail(msg.startsWith(`${what}:`) ? msg : `${what}(): ${msg}`)
    }
    if (Array.isArray(v)) this.charge(v.length)
    else if (typeof v === 'string') this.charge(v.length >> 6)
    return checkValue(v, `${what}()`)
  }

  /** filter/map/all/…: the predicate argument runs once per element with `#` bound to it. */
  private predicateCall(name: string, argNodes: Node[], piped: unknown[]): unknown {
    const nodes: Array<Node | undefined> = [...piped.map(() => undefined), ...argNodes]
    const minArgs = name === 'count' || name === 'sum' ? 1 : 2
    if (nodes.length < minArgs || nodes.length > (name === 'sortBy' || name === 'reduce' ? 3 : 2)) {
      return this.fail(
        `${name}() takes ${minArgs === 1 ? '1 or 2' : '2'} arguments, got ${nodes.length}`
      )
    }
    const input = piped.length ? piped[0] : this.eval(nodes[0]!)
    const items = input === null || input === undefined ? [] : input
    if (!isList(items)) return this.fail(`${name}() needs an array, got ${typeName(input)}`)
    const pred = nodes[1]
    const body = pred && pred.type === 'Closure' ? (pred as unknown as { body: Node }).body : pred
    const run = (item: unknown, index: number, acc?: { acc: unknown }): unknown => {
      this.frames.push(acc ? { item, index, acc: acc.acc } : { item, index })
      try {
        return this.eval(body!)
      } finally {
        this.frames.pop()
      }
    }
    const test = (item: unknown, index: number): boolean => {
      const v = run(item, index)
      if (typeof v !== 'boolean')
        this.fail(`the predicate of ${name}() must return a bool, got ${typeName(v)}`)
      return v
    }
    switch (name) {
      case 'all':
        return items.every(test)
      case 'any':
        return items.some(test)
      case 'none':
        return !items.some(test)
      case 'one':
        return items.filter(test).length === 1
      case 'filter':
        return items.filter(test)
      case 'map':
        return items.map((x, i) => run(x, i))
      case 'count':
        if (!body) return items.filter((x) => x === true).length
        return items.filter(test).length
      case 'sum': {
        let total = 0
        items.forEach((x, i) => {
          const v = body ? run(x, i) : x
          if (typeof v !== 'number') this.fail(`sum() needs numbers, got ${typeName(v)}`)
          total += v
        })
        return total
      }
      case 'find': {
        const i = items.findIndex(test)
        return i < 0 ? null : items[i]
      }
      case 'findIndex':
        return items.findIndex(test)
      case 'findLast': {
        for (let i = items.length - 1; i >= 0; i--) if (test(items[i], i)) return items[i]
        return null
      }
      case 'findLastIndex': {
        for (let i = items.length - 1; i >= 0; i--) if (test(items[i], i)) return i
        return -1
      }
      case 'groupBy': {
        const out: Record<string, unknown[]> = {}
        items.forEach((x, i) => {
          const k = run(x, i)
          const key =
            k instanceof HostValue || (k !== null && typeof k === 'object')
              ? stringify(k)
              : (scalarText(k) ?? 'nil')
          if (BLOCKED.has(key)) this.fail(`groupBy(): '${key}' cannot be a map key`)
          if (!own(out, key)) {
            Object.defineProperty(out, key, {
              value: [],
              enumerable: true,
              writable: true,
              configurable: true
            })
          }
          out[key].push(x)
        })
        return out
      }
      case 'sortBy': {
        const ordArg = nodes[2] ? this.eval(nodes[2]) : 'asc'
        if (ordArg !== 'asc' && ordArg !== 'desc') {
          this.fail(`sortBy(): order must be "asc" or "desc", got ${stringify(ordArg)}`)
        }
        const dir = ordArg === 'desc' ? -1 : 1
        const keyed = items.map((x, i) => ({ x, k: run(x, i) }))
        this.charge(keyed.length * Math.ceil(Math.log2(keyed.length + 1)))
        try {
          keyed.sort((a, b) => dir * compareValues(a.k, b.k, 'sortBy'))
        } catch (err) {
          return this.fail(`sortBy(): ${(err as Error).message.replace(/^sortBy: /, '')}`)
        }
        return keyed.map((e) => e.x)
      }
      case 'reduce': {
        let start = 0
        let acc: unknown
        if (nodes[2]) acc = this.eval(nodes[2])
        else {
          if (!items.length) return null
          acc = items[0]
          start = 1
        }
        for (let i = start; i < items.length; i++) acc = run(items[i], i, { acc })
        return acc
      }
      default:
        return this.fail(`unknown function '${name}'`)
    }
  }

  private unary(n: jsep.UnaryExpression): unknown {
    const v = this.eval(n.argument)
    switch (n.operator) {
      case '!':
      case 'not':
        if (typeof v !== 'boolean') this.fail(`${n.operator} needs a bool, got ${typeName(v)}`)
        return !v
      case '-':
        if (typeof v !== 'number') this.fail(`unary - needs a number, got ${typeName(v)}`)
        return -v
      case '+':
        if (typeof v !== 'number') this.fail(`unary + needs a number, got ${typeName(v)}`)
        return v
      default:
        return this.fail(`unsupported operator '${n.operator}'`)
    }
  }

  private bool(v: unknown, op: string): boolean {
    if (typeof v !== 'boolean') this.fail(`'${op}' needs bool operands, got ${typeName(v)}`)
    return v
  }

  private binary(n: jsep.BinaryExpression): unknown {
    const op = n.operator
    // Short-circuit operators first.
    if (op === '&&' || op === 'and') {
      return this.bool(this.eval(n.left), op) ? this.bool(this.eval(n.right), op) : false
    }
    if (op === '||' || op === 'or') {
      return this.bool(this.eval(n.left), op) ? true : this.bool(this.eval(n.right), op)
    }
    if (op === '??') {
      const l = this.eval(n.left)
      return l === null || l === undefined ? this.eval(n.right) : l
    }
    if (op === '|') {
      if (n.right.type !== 'CallExpression') {
        return this.fail("the right side of '|' must be a function call, e.g. x | lower()")
      }
      return this.call(n.right as jsep.CallExpression, [this.eval(n.left)])
    }
    if (op.startsWith('not ')) {
      return !this.binary({ ...n, operator: op.slice(4) })
    }
    // expr-lang chains comparisons: `1 < x < 3` is `1 < x && x < 3`.
    if (COMPARISONS.has(op) && n.left.type === 'BinaryExpression') {
      const left = n.left as jsep.BinaryExpression
      if (COMPARISONS.has(left.operator)) {
        if (!this.bool(this.eval(left), left.operator)) return false
        return this.binary({ ...n, left: left.right })
      }
    }
    const l = this.eval(n.left)
    const r = this.eval(n.right)
    const mismatch = (): never =>
      this.fail(`invalid operation: ${typeName(l)} ${op} ${typeName(r)}`)
    switch (op) {
      case '==':
        return equal(l, r)
      case '!=':
        return !equal(l, r)
      case '<':
      case '>':
      case '<=':
      case '>=': {
        const c = compareOrdered(l, r)
        if (c === undefined) return mismatch()
        return op === '<' ? c < 0 : op === '>' ? c > 0 : op === '<=' ? c <= 0 : c >= 0
      }
      case '+':
        if (typeof l === 'number' && typeof r === 'number') return l + r
        if (typeof l === 'string' || typeof r === 'string') {
          if (!isScalar(l) || !isScalar(r)) return mismatch()
          const s = String(l) + String(r)
          if (s.length > MAX_STRING_LENGTH) this.fail('string result is too long')
          return s
        }
        if (isList(l) && isList(r)) {
          if (l.length + r.length > MAX_ARRAY_LENGTH) this.fail('array result is too long')
          this.charge(l.length + r.length)
          return [...l, ...r]
        }
        if (isTime(l) && isDuration(r)) return (l.method('Add') as ExprFunction)(r)
        if (isDuration(l) && isDuration(r)) return durationValue(l.compareKey! + r.compareKey!)
        return mismatch()
      case '-':
        if (typeof l === 'number' && typeof r === 'number') return l - r
        if (isTime(l) && isTime(r)) return (l.method('Sub') as ExprFunction)(r)
        if (isTime(l) && isDuration(r)) {
          return (l.method('Add') as ExprFunction)(negDuration(r))
        }
        if (isDuration(l) && isDuration(r)) return durationValue(l.compareKey! - r.compareKey!)
        return mismatch()
      case '*':
        if (typeof l === 'number' && typeof r === 'number') return l * r
        if (isDuration(l) && typeof r === 'number') return durationValue(l.compareKey! * r)
        return mismatch()
      case '/':
        if (typeof l === 'number' && typeof r === 'number') {
          if (r === 0) this.fail('division by zero')
          return l / r
        }
        return mismatch()
      case '%':
        if (Number.isInteger(l) && Number.isInteger(r)) {
          if (r === 0) this.fail('division by zero')
          return (l as number) % (r as number)
        }
        return mismatch()
      case '**':
      case '^':
        if (typeof l === 'number' && typeof r === 'number') return l ** r
        return mismatch()
      case '..': {
        if (!Number.isInteger(l) || !Number.isInteger(r)) return mismatch()
        const size = (r as number) - (l as number) + 1
        if (size <= 0) return []
        if (size > MAX_ARRAY_LENGTH) {
          this.fail(
            `range ${l as number}..${r as number} has ${size} elements; the limit is ${MAX_ARRAY_LENGTH}`
          )
        }
        this.charge(size)
        return Array.from({ length: size }, (_, i) => (l as number) + i)
      }
      case 'contains':
        if (typeof l === 'string' && typeof r === 'string') return l.includes(r)
        if (Array.isArray(l)) return l.some((x) => equal(x, r))
        return mismatch()
      case 'startsWith':
        if (typeof l === 'string' && typeof r === 'string') return l.startsWith(r)
        return mismatch()
      case 'endsWith':
        if (typeof l === 'string' && typeof r === 'string') return l.endsWith(r)
        return mismatch()
      case 'matches':
        if (typeof l === 'string' && typeof r === 'string') {
          if (l.length > MAX_STRING_LENGTH) this.fail('string is too long to match')
          return regexTest(safeRegExp(r), l, r)
        }
        return mismatch()
      case 'in':
        if (Array.isArray(r)) return r.some((x) => equal(x, l))
        if ((typeof l === 'string' || typeof l === 'number') && isPlainObject(r)) {
          return own(r, String(l)) && !BLOCKED.has(String(l))
        }
        if (typeof l === 'string' && r instanceof HostValue) return r.hasField(l)
        if (r === null || r === undefined) return false
        return mismatch()
      default:
        return this.fail(`unsupported operator '${op}'`)
    }
  }

  private object(node: Node): unknown {
    const props = (node as unknown as { properties: Array<Record<string, unknown>> }).properties
    const out: Record<string, unknown> = {}
    for (const p of props) {
      const keyNode = p.key as Node
      let key: unknown
      if (p.computed) key = this.eval(keyNode)
      else if (keyNode.type === 'Identifier') key = (keyNode as jsep.Identifier).name
      else key = (keyNode as jsep.Literal).value
      if (typeof key !== 'string' && typeof key !== 'number') {
        this.fail(`map keys must be strings, got ${typeName(key)}`)
      }
      const k = String(key)
      if (BLOCKED.has(k)) this.fail(`'${k}' cannot be used as a map key`)
      const value = this.eval(p.value as Node)
      Object.defineProperty(out, k, { value, enumerable: true, writable: true, configurable: true })
    }
    return out
  }
}

/** `$env`: every variable the expression can see, as a map. */
function envMap(vars: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(vars)) {
    if (typeof v === 'function' || BLOCKED.has(k)) continue
    Object.defineProperty(out, k, {
      value: v,
      enumerable: true,
      writable: true,
      configurable: true
    })
  }
  return out
}

function checkValue(v: unknown, what: string): unknown {
  if (typeof v === 'function' || typeof v === 'symbol') {
    throw new ExpressionError(`'${what}' is not a value`)
  }
  return v
}

/** Member access on data: own properties of plain objects, array/string indexes, Go-style fields. */
export function getMember(
  obj: unknown,
  key: string | number,
  what: string,
  fail: (message: string) => never
): unknown {
  const name = String(key)
  if (BLOCKED.has(name)) fail(`'${name}' is not accessible`)
  if (obj === null || obj === undefined) {
    return fail(`cannot read '${name}' of nil (${what} is nil)`)
  }
  if (obj instanceof HostValue) {
    if (obj.hasField(name)) return obj.field(name)
    if (obj.method(name)) return fail(`'${name}' is a method of ${obj.kind}: call it as ${name}()`)
    return fail(`${obj.kind} has no field '${name}' (${what})`)
  }
  if (Array.isArray(obj) || typeof obj === 'string') {
    const idx = typeof key === 'number' ? key : /^-?\d+$/.test(key) ? Number(key) : NaN
    if (!Number.isInteger(idx)) {
      return fail(`cannot read '${name}' of ${typeName(obj)} (${what}); use an integer index`)
    }
    const i = idx < 0 ? obj.length + idx : idx
    if (i < 0 || i >= obj.length) {
      return fail(`index ${idx} out of range (${what} has length ${obj.length})`)
    }
    return obj[i]
  }
  if (isPlainObject(obj)) {
    if (!own(obj, name)) return null
    return checkValue(obj[name], name)
  }
  return fail(`cannot read '${name}' of ${typeName(obj)} (${what})`)
}

function isScalar(v: unknown): boolean {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'
}

function isTime(v: unknown): v is HostValue {
  return v instanceof HostValue && v.kind === 'Time'
}

function isDuration(v: unknown): v is HostValue {
  return v instanceof HostValue && v.kind === 'Duration'
}

function negDuration(d: HostValue): HostValue {
  return new HostValue('Duration', {}, {}, null, -(d.compareKey ?? 0))
}

export function equal(a: unknown, b: unknown): boolean {
  if (a instanceof HostValue || b instanceof HostValue) {
    if (a instanceof HostValue && b instanceof HostValue && a.compareKey !== undefined) {
      return a.kind === b.kind && a.compareKey === b.compareKey
    }
    return equal(toPlain(a), toPlain(b))
  }
  if (a === undefined) a = null
  if (b === undefined) b = null
  if (a === b) return true
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => equal(x, b[i]))
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a)
    const kb = Object.keys(b)
    return ka.length === kb.length && ka.every((k) => own(b, k) && equal(a[k], b[k]))
  }
  return false
}

const regexCache = new Map<string, RegExp>()

/** Longest a single regular expression match may run. */
export const REGEX_TIME_LIMIT_MS = 250

// A fixed script (never user text) run in a separate context only so that V8 can interrupt a
// runaway backtracking match after REGEX_TIME_LIMIT_MS.
const regexContext = vm.createContext(Object.create(null) as object)
const regexScript = new vm.Script('re.test(s)')

function regexTest(re: RegExp, s: string, pattern: string): boolean {
  re.lastIndex = 0
  if (s.length <= 64 && !/[*+{]/.test(pattern)) return re.test(s)
  const ctx = regexContext as { re?: RegExp; s?: string }
  ctx.re = re
  ctx.s = s
  try {
    return regexScript.runInContext(regexContext, { timeout: REGEX_TIME_LIMIT_MS }) as boolean
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') {
      throw new Error(
        `regular expression ${JSON.stringify(pattern)} took too long (over ${REGEX_TIME_LIMIT_MS}ms); simplify it`,
        { cause: err }
      )
    }
    throw err
  } finally {
    ctx.re = undefined
    ctx.s = undefined
  }
}

/**
 * Go's RE2 has no backtracking; JavaScript's RegExp does. Patterns that RE2 rejects
 * (backreferences, lookaround) and patterns with nested quantifiers (catastrophic backtracking)
 * are refused. A leading `(?i)`/`(?s)`/`(?m)` flag group is translated.
 */
export function safeRegExp(pattern: string): RegExp {
  const cached = regexCache.get(pattern)
  if (cached) return cached
  if (pattern.length > 1024) throw new Error('regular expression is too long (limit 1024)')
  let flags = 'u'
  let body = pattern.replace(/\(\?P</g, '(?<')
  const fm = /^\(\?([ims]+)\)/.exec(body)
  if (fm) {
    flags += [...new Set(fm[1])].join('')
    body = body.slice(fm[0].length)
  }
  if (/\\[1-9]|\\k<|\(\?<?[=!]/.test(body)) {
    throw new Error(
      `regular expression ${JSON.stringify(pattern)} uses backreferences or lookaround, which are not supported (RE2 syntax)`
    )
  }
  // Nested quantifiers: a group that contains a quantifier and is itself quantified.
  const stack: boolean[] = []
  let inClass = false
  let quantified = false
  for (let i = 0; i < body.length; i++) {
    const c = body[i]
    if (c === '\\') {
      i++
      continue
    }
    if (inClass) {
      if (c === ']') inClass = false
      continue
    }
    if (c === '[') inClass = true
    else if (c === '(') {
      stack.push(quantified)
      quantified = false
      // Skip a group prefix: (?: (?P<name> (?<name>
      const gm = /^\(\?(?::|P?<[A-Za-z_][A-Za-z0-9_]*>)/.exec(body.slice(i, i + 40))
      if (gm) i += gm[0].length - 1
    } else if (c === ')') {
      const inner = quantified
      quantified = stack.pop() ?? false
      const next = body[i + 1]
      if (inner && (next === '*' || next === '+' || next === '{' || next === '?')) {
        throw new Error(
          `regular expression ${JSON.stringify(pattern)} nests quantifiers, which can take exponential time; simplify it`
        )
      }
      if (inner) quantified = true
    } else if (c === '*' || c === '+' || c === '?' || c === '{') quantified = true
  }
  let re: RegExp
  try {
    re = new RegExp(body, flags)
  } catch (err) {
    throw new Error(
      `invalid regular expression ${JSON.stringify(pattern)}: ${(err as Error).message}`,
      { cause: err }
    )
  }
  if (regexCache.size > 200) regexCache.clear()
  regexCache.set(pattern, re)
  return re
}

/** `outputs['x'].y` style text for error messages. */
function describe(node: Node): string {
  switch (node.type) {
    case 'Identifier':
      return (node as jsep.Identifier).name
    case 'MemberExpression': {
      const m = node as jsep.MemberExpression
      const obj = describe(m.object)
      if (!m.computed) return `${obj}.${(m.property as jsep.Identifier).name}`
      if (m.property.type === 'Literal') return `${obj}[${(m.property as jsep.Literal).raw}]`
      return `${obj}[…]`
    }
    case 'CallExpression': {
      const c = node as jsep.CallExpression
      return `${describe(c.callee)}(…)`
    }
    default:
      return 'value'
  }
}
