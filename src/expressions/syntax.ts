import jsep from 'jsep'

/**
 * expr-lang syntax on top of jsep (see docs/expressions.md for the list). jsep parses the
 * JavaScript-like core; the hooks below add what expr-lang has and JavaScript lacks, and replace
 * what they write differently (numbers, strings, `{…}`, `[a:b]`). Every construct becomes an
 * ordinary node the evaluator walks; none of it runs code.
 *
 * Extra node types:
 *   Pointer   `#`, `#index`, `#acc`, and the `.Field` shorthand (name '' = the element)
 *   Closure   `{ … }` in a predicate argument
 *   Let       `let x = v; body`
 *   Sequence  `a; b` (value of the last)
 *   Slice     `a[from:to]`
 * `if c { a } else { b }` and `a ?: b` become ConditionalExpression; map literals are
 * ObjectExpression with Property children; `|`, `..` and `not in` (…) are BinaryExpression.
 */

/** The parts of jsep's parser instance the hooks use (jsep's typings do not export the class). */
interface Parser {
  index: number
  readonly expr: string
  readonly code: number
  throwError(message: string): never
  gobbleSpaces(): void
  gobbleExpression(): jsep.Expression | false
  gobbleTokenProperty(node: jsep.Expression): jsep.Expression
  gobbleIdentifier(): jsep.Identifier
  gobbleArguments(untilCode: number): jsep.Expression[]
  gobbleBinaryOp(): string | false
  /** Added here: `a; b; c` up to a closing bracket or the end. */
  gobbleSequence(): jsep.Expression
}

interface JsepClass {
  prototype: Parser
  new (expr: string): Parser
}

type HookEnv = { node?: jsep.Expression | false }

const NEGATABLE = ['in', 'contains', 'matches', 'startsWith', 'endsWith']
const CLOSERS = new Set([')', ']', '}'])

/** The character at the parser's position ('' at the end). */
function peek(p: Parser): string {
  return p.expr[p.index] ?? ''
}

function isIdentStart(c: string | undefined): boolean {
  return c !== undefined && /[A-Za-z_$]/.test(c)
}

function isIdentPart(c: string | undefined): boolean {
  return c !== undefined && /[A-Za-z0-9_$]/.test(c)
}

/** The keyword at the parser's position, if it is `word` followed by a non-identifier char. */
function atKeyword(p: Parser, word: string): boolean {
  return p.expr.startsWith(word, p.index) && !isIdentPart(p.expr[p.index + word.length])
}

function expectChar(p: Parser, c: string, what: string): void {
  p.gobbleSpaces()
  if (peek(p) !== c) p.throwError(`expected '${c}' ${what}`)
  p.index++
}

function expression(p: Parser, what: string): jsep.Expression {
  const node = p.gobbleExpression()
  if (!node) p.throwError(`expected an expression ${what}`)
  return node
}

// ---------- literals ----------

function gobbleNumber(p: Parser): jsep.Expression {
  const s = p.expr
  const start = p.index
  let value: number
  const radix =
    s[start] === '0' ? { x: 16, o: 8, b: 2 }[s[start + 1]?.toLowerCase() ?? ''] : undefined
  if (radix) {
    let i = start + 2
    let digits = ''
    while (i < s.length && /[0-9a-fA-F_]/.test(s[i])) {
      if (s[i] !== '_') digits += s[i]
      i++
    }
    value = digits === '' ? NaN : parseInt(digits, radix)
    if (Number.isNaN(value) || ![...digits].every((d) => parseInt(d, radix) < radix)) {
      p.index = i
      p.throwError(`invalid number ${JSON.stringify(s.slice(start, i))}`)
    }
    p.index = i
  } else {
    let i = start
    let text = ''
    const digits = () => {
      while (i < s.length && /[0-9_]/.test(s[i])) {
        if (s[i] !== '_') text += s[i]
        i++
      }
    }
    digits()
    // A '.' belongs to the number only when a digit follows: `1..3` is a range.
    if (s[i] === '.' && /[0-9]/.test(s[i + 1] ?? '')) {
      text += '.'
      i++
      digits()
    }
    if ((s[i] === 'e' || s[i] === 'E') && /[-+0-9]/.test(s[i + 1] ?? '')) {
      text += 'e'
      i++
      if (s[i] === '+' || s[i] === '-') text += s[i++]
      const before = text.length
      digits()
      if (text.length === before) {
        p.index = i
        p.throwError('expected an exponent')
      }
    }
    p.index = i
    value = Number(text)
  }
  if (isIdentStart(peek(p))) p.throwError('a name cannot start with a digit')
  return { type: 'Literal', value, raw: s.slice(start, p.index) }
}

const SIMPLE_ESCAPES: Record<string, string> = {
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\\': '\\',
  "'": "'",
  '"': '"',
  '`': '`'
}

/** Go-style quoted string: \n \t \xNN \uNNNN \UNNNNNNNN \NNN (octal). */
function gobbleQuoted(p: Parser): jsep.Expression {
  const s = p.expr
  const start = p.index
  const quote = s[p.index++]
  let out = ''
  while (p.index < s.length) {
    const c = s[p.index++]
    if (c === quote) {
      return { type: 'Literal', value: out, raw: s.slice(start, p.index) }
    }
    if (c !== '\\') {
      out += c
      continue
    }
    const e = s[p.index++]
    if (e !== undefined && e in SIMPLE_ESCAPES) out += SIMPLE_ESCAPES[e]
    else if (e === 'x' || e === 'u' || e === 'U') {
      const n = e === 'x' ? 2 : e === 'u' ? 4 : 8
      const hex = s.slice(p.index, p.index + n)
      if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(hex)) p.throwError(`invalid escape \\${e}${hex}`)
      const code = parseInt(hex, 16)
      if (code > 0x10ffff) p.throwError(`invalid escape \\${e}${hex}`)
      out += String.fromCodePoint(code)
      p.index += n
    } else if (e !== undefined && /[0-7]/.test(e)) {
      const oct = s.slice(p.index - 1, p.index + 2)
      if (!/^[0-7]{3}$/.test(oct)) p.throwError(`invalid escape \\${oct}`)
      out += String.fromCharCode(parseInt(oct, 8))
      p.index += 2
    } else p.throwError(`invalid escape \\${e ?? ''} in string`)
  }
  return p.throwError('unterminated string')
}

/** Backtick strings are raw: no escapes. */
function gobbleRaw(p: Parser): jsep.Expression {
  const start = p.index
  const end = p.expr.indexOf('`', start + 1)
  if (end < 0) p.throwError('unterminated string')
  p.index = end + 1
  const value = p.expr.slice(start + 1, end)
  return { type: 'Literal', value, raw: p.expr.slice(start, end + 1) }
}

// ---------- blocks ----------

/** `{a: 1, "b": 2, (expr): 3}`; throws when the braces hold something else. */
function gobbleMap(p: Parser): jsep.Expression {
  p.index++ // {
  const properties: unknown[] = []
  for (;;) {
    p.gobbleSpaces()
    if (peek(p) === '}') {
      p.index++
      return { type: 'ObjectExpression', properties }
    }
    if (properties.length) {
      if (peek(p) !== ',') p.throwError("expected ',' or '}' in map")
      p.index++
      p.gobbleSpaces()
      if (peek(p) === '}') continue
    }
    let computed = false
    let key = gobbleMapKey(p)
    if (!key) {
      if (peek(p) !== '(')
        p.throwError('a map key must be a name, a string, a number or (expression)')
      p.index++
      key = p.gobbleSequence()
      expectChar(p, ')', 'after a map key')
      computed = true
    }
    p.gobbleSpaces()
    if (peek(p) !== ':') p.throwError("expected ':' after a map key")
    p.index++
    const value = expression(p, 'as a map value')
    properties.push({ type: 'Property', key, value, computed, shorthand: false })
  }
}

function gobbleMapKey(p: Parser): jsep.Expression | undefined {
  const c = peek(p)
  if (c === '"' || c === "'") return gobbleQuoted(p)
  if (c === '`') return gobbleRaw(p)
  if (/[0-9]/.test(c)) return gobbleNumber(p)
  if (isIdentStart(c)) return p.gobbleIdentifier()
  return undefined
}

/** Whether the braces at the parser's position start with `key:` (so they are a map). */
function looksLikeMap(p: Parser): boolean {
  p.index++
  p.gobbleSpaces()
  if (peek(p) === '}' || peek(p) === '(') return true
  try {
    if (!gobbleMapKey(p)) return false
  } catch {
    return false
  }
  p.gobbleSpaces()
  return peek(p) === ':'
}

/** `{` starts a map literal, or, when its content is not `key: value`, a predicate closure. */
function gobbleBrace(p: Parser): jsep.Expression {
  const start = p.index
  const isMap = looksLikeMap(p)
  p.index = start
  if (isMap) return gobbleMap(p)
  p.index++ // {
  const body = p.gobbleSequence()
  expectChar(p, '}', 'to close the predicate')
  return { type: 'Closure', body }
}

function gobbleLet(p: Parser): jsep.Expression {
  p.index += 3
  p.gobbleSpaces()
  if (!isIdentStart(peek(p))) p.throwError("expected a variable name after 'let'")
  const name = p.gobbleIdentifier().name
  p.gobbleSpaces()
  if (peek(p) !== '=' || p.expr[p.index + 1] === '=')
    p.throwError(`expected '=' after 'let ${name}'`)
  p.index++
  const value = expression(p, `as the value of '${name}'`)
  expectChar(p, ';', `after 'let ${name} = …'`)
  const body = p.gobbleSequence()
  return { type: 'Let', name, value, body }
}

function gobbleIf(p: Parser): jsep.Expression {
  p.index += 2
  const test = expression(p, "after 'if'")
  expectChar(p, '{', "after the 'if' condition")
  const consequent = p.gobbleSequence()
  expectChar(p, '}', "to close the 'if' block")
  p.gobbleSpaces()
  if (!atKeyword(p, 'else')) p.throwError("expected 'else' after an 'if' block")
  p.index += 4
  p.gobbleSpaces()
  let alternate: jsep.Expression
  if (atKeyword(p, 'if')) alternate = gobbleIf(p)
  else {
    expectChar(p, '{', "after 'else'")
    alternate = p.gobbleSequence()
    expectChar(p, '}', "to close the 'else' block")
  }
  return { type: 'ConditionalExpression', test, consequent, alternate }
}

// ---------- hooks ----------

function gobbleTokenHook(p: Parser, env: HookEnv): void {
  const c = peek(p)
  const next = p.expr[p.index + 1]
  if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(next ?? ''))) {
    env.node = p.gobbleTokenProperty(gobbleNumber(p))
  } else if (c === '"' || c === "'") {
    env.node = p.gobbleTokenProperty(gobbleQuoted(p))
  } else if (c === '`') {
    env.node = p.gobbleTokenProperty(gobbleRaw(p))
  } else if ((c === 'b' || c === 'B') && (next === '"' || next === "'")) {
    p.throwError('bytes literals (b"…") are not supported: config values cannot hold bytes')
  } else if (c === '#') {
    p.index++
    const name = isIdentStart(peek(p)) ? p.gobbleIdentifier().name : ''
    env.node = p.gobbleTokenProperty({ type: 'Pointer', name })
  } else if (c === '.' && isIdentStart(next)) {
    // `.Field` inside a predicate is `#.Field`.
    env.node = p.gobbleTokenProperty({ type: 'Pointer', name: '' })
  } else if (c === '(') {
    p.index++
    const inner = p.gobbleSequence()
    expectChar(p, ')', 'to close (')
    env.node = p.gobbleTokenProperty(inner)
  } else if (c === '{') {
    env.node = p.gobbleTokenProperty(gobbleBrace(p))
  } else if (atKeyword(p, 'let')) {
    env.node = gobbleLet(p)
  } else if (atKeyword(p, 'if')) {
    env.node = p.gobbleTokenProperty(gobbleIf(p))
  }
}

/** `/* … *\/` and `// …` comments count as white space. */
function gobbleSpacesHook(p: Parser): void {
  for (;;) {
    if (p.expr.startsWith('//', p.index)) {
      const nl = p.expr.indexOf('\n', p.index)
      p.index = nl < 0 ? p.expr.length : nl
    } else if (p.expr.startsWith('/*', p.index)) {
      const end = p.expr.indexOf('*/', p.index + 2)
      if (end < 0) p.throwError('unterminated comment')
      p.index = end + 2
    } else return
    while (/\s/.test(peek(p))) p.index++
  }
}

/** `cond ?: other` is `cond ? cond : other`. Runs before jsep's ternary hook. */
function elvisHook(p: Parser, env: HookEnv): void {
  if (!env.node || peek(p) !== '?') return
  let i = p.index + 1
  while (/\s/.test(p.expr[i] ?? '')) i++
  if (p.expr[i] !== ':') return
  p.index = i + 1
  const alternate = expression(p, "after '?:'")
  env.node = {
    type: 'ConditionalExpression',
    test: env.node,
    consequent: env.node,
    alternate
  }
}

/** Member access, calls, `?.`, and `[from:to]` slices; `..` is left for the range operator. */
function gobbleTokenProperty(p: Parser, start: jsep.Expression): jsep.Expression {
  let node = start
  for (;;) {
    p.gobbleSpaces()
    const c = peek(p)
    let optional = false
    if (c === '?' && p.expr[p.index + 1] === '.') {
      optional = true
      p.index += 2
      p.gobbleSpaces()
      if (peek(p) !== '[') {
        const property = p.gobbleIdentifier()
        node = { type: 'MemberExpression', computed: false, object: node, property, optional }
        continue
      }
    } else if (c === '.' && p.expr[p.index + 1] !== '.') {
      p.index++
      p.gobbleSpaces()
      const property = p.gobbleIdentifier()
      node = { type: 'MemberExpression', computed: false, object: node, property }
      continue
    } else if (c === '(') {
      p.index++
      node = { type: 'CallExpression', arguments: p.gobbleArguments(41), callee: node }
      continue
    } else if (c !== '[') return node
    // `[` (or `?.[`)
    p.index++
    p.gobbleSpaces()
    let from: jsep.Expression | undefined
    if (peek(p) !== ':') from = expression(p, 'inside [ ]')
    p.gobbleSpaces()
    if (peek(p) === ':') {
      p.index++
      p.gobbleSpaces()
      const to = peek(p) === ']' ? undefined : expression(p, 'after : in a slice')
      expectChar(p, ']', 'to close the slice')
      node = { type: 'Slice', object: node, from, to }
      continue
    }
    expectChar(p, ']', 'to close [')
    node = {
      type: 'MemberExpression',
      computed: true,
      object: node,
      property: from!,
      ...(optional ? { optional } : {})
    }
  }
}

function gobbleSequence(p: Parser): jsep.Expression {
  const nodes = [expression(p, '')]
  for (;;) {
    p.gobbleSpaces()
    if (peek(p) !== ';') break
    p.index++
    p.gobbleSpaces()
    if (p.index >= p.expr.length || CLOSERS.has(peek(p))) break
    nodes.push(expression(p, "after ';'"))
  }
  return nodes.length === 1 ? nodes[0] : { type: 'Sequence', expressions: nodes }
}

/** jsep calls hooks with the parser as `this`. */
function asHook(fn: (p: Parser, env: HookEnv) => void): jsep.HookCallback {
  return function (this: unknown, env: HookEnv) {
    fn(this as Parser, env)
  }
}

let installed = false

/** Configures the jsep singleton for expr-lang (idempotent). */
export function installExprSyntax(): void {
  if (installed) return
  installed = true
  for (const op of ['|', '^', '&', '===', '!==', '<<', '>>', '>>>', '??']) jsep.removeBinaryOp(op)
  jsep.removeUnaryOp('~')
  // expr-lang precedences (parser/operator) mapped onto jsep's scale. jsep's ternary plugin
  // treats operators at or below 0.9 as assignments, so the pipe sits just above.
  jsep.addBinaryOp('|', 0.95)
  jsep.addBinaryOp('or', 1)
  jsep.addBinaryOp('||', 1)
  jsep.addBinaryOp('and', 2)
  jsep.addBinaryOp('&&', 2)
  for (const op of ['==', '!=', '<', '>', '<=', '>=']) jsep.addBinaryOp(op, 6)
  for (const op of NEGATABLE) {
    jsep.addBinaryOp(op, 6)
    jsep.addBinaryOp(`not ${op}`, 6)
  }
  jsep.addBinaryOp('..', 8)
  jsep.addBinaryOp('**', 11, true)
  jsep.addBinaryOp('^', 11, true)
  jsep.addBinaryOp('??', 12)
  jsep.addUnaryOp('not')
  jsep.addLiteral('nil', null)
  jsep.hooks.add('gobble-token', asHook(gobbleTokenHook), true)
  jsep.hooks.add('gobble-spaces', asHook(gobbleSpacesHook))
  jsep.hooks.add('after-expression', asHook(elvisHook), true)
  const Jsep = (jsep as unknown as { Jsep: JsepClass }).Jsep
  Jsep.prototype.gobbleTokenProperty = function (this: Parser, node: jsep.Expression) {
    return gobbleTokenProperty(this, node)
  }
  Jsep.prototype.gobbleSequence = function (this: Parser) {
    return gobbleSequence(this)
  }
  // Called below with the parser as `this` (binaryOp.call).
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const binaryOp = Jsep.prototype.gobbleBinaryOp
  // `a not in b`: the words may be separated by any white space.
  Jsep.prototype.gobbleBinaryOp = function (this: Parser) {
    this.gobbleSpaces()
    const m = /^not\s+(in|contains|matches|startsWith|endsWith)(?![A-Za-z0-9_$])/.exec(
      this.expr.slice(this.index, this.index + 32)
    )
    if (m) {
      this.index += m[0].length
      return `not ${m[1]}`
    }
    return binaryOp.call(this)
  }
}

/** Parses a whole expression: a sequence, then the end of input. */
export function parseWithJsep(source: string): jsep.Expression {
  installExprSyntax()
  const Jsep = (jsep as unknown as { Jsep: JsepClass }).Jsep
  const p = new Jsep(source)
  p.gobbleSpaces()
  if (p.index >= source.length) p.throwError('empty expression')
  const node = p.gobbleSequence()
  p.gobbleSpaces()
  if (p.index < source.length) p.throwError(`unexpected '${peek(p)}'`)
  return node
}
