import type jsep from 'jsep'
import { parseWithJsep } from './syntax.js'
import { WaybillError } from '../util/errors.js'

/** An expression that cannot be parsed or evaluated; the message quotes the expression. */
export class ExpressionError extends WaybillError {
  constructor(
    message: string,
    readonly expression?: string
  ) {
    super(expression === undefined ? message : `${message} (in expression ${preview(expression)})`)
    this.name = 'ExpressionError'
  }
}

function preview(expr: string): string {
  const t = expr.trim()
  return JSON.stringify(t.length > 120 ? t.slice(0, 117) + '...' : t)
}

/** Longest expression source accepted (characters). */
export const MAX_EXPRESSION_LENGTH = 16 * 1024
/** Deepest syntax tree accepted (nested brackets, operator chains, calls). */
export const MAX_EXPRESSION_DEPTH = 128

export type Node = jsep.Expression

const cache = new Map<string, Node>()
const CACHE_LIMIT = 500

/** Parses one expression (no `${{ }}` delimiters), enforcing size and depth limits. */
export function parseExpression(source: string): Node {
  if (typeof source !== 'string') throw new ExpressionError('expression must be a string')
  const cached = cache.get(source)
  if (cached) return cached
  if (source.length > MAX_EXPRESSION_LENGTH) {
    throw new ExpressionError(
      `expression is ${source.length} characters long; the limit is ${MAX_EXPRESSION_LENGTH}`,
      source
    )
  }
  if (source.trim() === '') throw new ExpressionError('expression is empty')
  checkBracketDepth(source)
  let ast: Node
  try {
    ast = parseWithJsep(source)
  } catch (err) {
    if (err instanceof RangeError) {
      throw new ExpressionError('expression is too deeply nested', source)
    }
    throw new ExpressionError(`syntax error: ${(err as Error).message}`, source)
  }
  const depth = treeDepth(ast)
  if (depth > MAX_EXPRESSION_DEPTH) {
    throw new ExpressionError(
      `expression is too deeply nested (depth ${depth}, limit ${MAX_EXPRESSION_DEPTH})`,
      source
    )
  }
  if (cache.size >= CACHE_LIMIT) cache.clear()
  cache.set(source, ast)
  return ast
}

/** Rejects deep bracket nesting before jsep's recursive descent sees it. */
function checkBracketDepth(source: string): void {
  let depth = 0
  let quote = ''
  for (let i = 0; i < source.length; i++) {
    const c = source[i]
    if (quote) {
      if (c === '\\') i++
      else if (c === quote) quote = ''
      continue
    }
    if (c === '"' || c === "'" || c === '`') quote = c
    else if (c === '(' || c === '[' || c === '{') {
      if (++depth > MAX_EXPRESSION_DEPTH) {
        throw new ExpressionError(
          `expression is too deeply nested (more than ${MAX_EXPRESSION_DEPTH} brackets)`,
          source
        )
      }
    } else if (c === ')' || c === ']' || c === '}') depth--
  }
}

/** Depth of the tree, computed without recursion so that a hostile tree cannot overflow the stack. */
function treeDepth(root: Node): number {
  let max = 0
  const stack: Array<[unknown, number]> = [[root, 1]]
  while (stack.length) {
    const [node, d] = stack.pop()!
    if (!node || typeof node !== 'object') continue
    if (Array.isArray(node)) {
      for (const n of node) stack.push([n, d])
      continue
    }
    if (d > max) max = d
    if (max > MAX_EXPRESSION_DEPTH) return max
    for (const [k, v] of Object.entries(node)) {
      if (k !== 'type' && v && typeof v === 'object') stack.push([v, d + 1])
    }
  }
  return max
}
