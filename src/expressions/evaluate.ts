import vm from 'node:vm'
import type jsep from 'jsep'
import { ExpressionError, parseExpression, type Node } from './parse.js'
import { HostValue, toPlain, typeName } from './values.js'
import { builtinFunctions } from './builtins.js'

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

/** Longest string an operation may produce or a regular expression may scan. */
export const MAX_STRING_LENGTH = 4 * 1024 * 1024

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

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false
  const proto = Object.getPrototypeOf(v)
  // Object.prototype of this or another realm (structuredClone, vm contexts), or none.
  return proto === null || Object.getPrototypeOf(proto) === null
}

function own(obj: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(obj, key)
}

class Evaluator {
  constructor(
    private readonly env: ExprEnv,
    private readonly source: string
  ) {}

  private fail(message: string): never {
    throw new ExpressionError(message, this.source)
  }

  eval(node: Node): unknown {
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
      case 'ArrayExpression':
        return (node as jsep.ArrayExpression).elements.map((e) => (e ? this.eval(e) : null))
      case 'ObjectExpression':
        return this.object(node)
      default:
        return this.fail(`unsupported syntax (${node.type})`)
    }
  }

  private identifier(name: string): unknown {
    if (BLOCKED.has(name)) this.fail(`'${name}' is not accessible`)
    const vars = this.env.vars
    if (own(vars, name)) return checkValue(vars[name], name)
    if (this.lookupFunction(name)) this.fail(`'${name}' is a function: call it as ${name}(…)`)
    return this.fail(`unknown name '${name}'`)
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
    const obj = this.eval(n.object)
    if ((obj === null || obj === undefined) && n.optional) return null
    const key = this.memberKey(n)
    return getMember(obj, key, describe(n.object), (m) => this.fail(m))
  }

  private call(n: jsep.CallExpression): unknown {
    const callee = n.callee
    if (callee.type === 'Identifier') {
      const name = (callee as jsep.Identifier).name
      const fn = this.lookupFunction(name)
      if (!fn) return this.fail(`unknown function '${name}'`)
      const args = n.arguments.map((a) => this.eval(a))
      try {
        return checkValue(fn(...args), `${name}()`)
      } catch (err) {
        if (err instanceof ExpressionError) throw err
        return this.fail(`${name}(): ${(err as Error).message}`)
      }
    }
    if (callee.type === 'MemberExpression') {
      const m = callee as jsep.MemberExpression
      const obj = this.eval(m.object)
      if ((obj === null || obj === undefined) && m.optional) return null
      const key = this.memberKey(m)
      const name = String(key)
      const method = obj instanceof HostValue ? obj.method(name) : undefined
      if (!method) {
        return this.fail(`${describe(m.object)} (${typeName(obj)}) has no method '${name}'`)
      }
      const args = n.arguments.map((a) => this.eval(a))
      try {
        return checkValue(method(...args), `${name}()`)
      } catch (err) {
        if (err instanceof ExpressionError) throw err
        return this.fail(`${describe(m.object)}.${name}(): ${(err as Error).message}`)
      }
    }
    return this.fail('only named functions and methods can be called')
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
        const c = compare(l, r)
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
        if (Array.isArray(l) && Array.isArray(r)) return [...l, ...r]
        if (isTime(l) && isDuration(r)) return (l.method('Add') as ExprFunction)(r)
        return mismatch()
      case '-':
        if (typeof l === 'number' && typeof r === 'number') return l - r
        if (isTime(l) && isTime(r)) return (l.method('Sub') as ExprFunction)(r)
        if (isTime(l) && isDuration(r)) {
          return (l.method('Add') as ExprFunction)(negDuration(r))
        }
        return mismatch()
      case '*':
        if (typeof l === 'number' && typeof r === 'number') return l * r
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
        if (typeof l === 'number' && typeof r === 'number') return l ** r
        return mismatch()
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
        if (typeof l === 'string' && isPlainObject(r)) return own(r, l) && !BLOCKED.has(l)
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
      const value = p.value ? this.eval(p.value as Node) : this.identifier(k)
      Object.defineProperty(out, k, { value, enumerable: true, writable: true, configurable: true })
    }
    return out
  }
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

function compare(a: unknown, b: unknown): number | undefined {
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
