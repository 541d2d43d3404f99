import { HostValue } from './values.js'

/** Longest string an operation may produce or a regular expression may scan. */
export const MAX_STRING_LENGTH = 4 * 1024 * 1024
/** Most elements an operation may produce (expr-lang's default memory budget is the same). */
export const MAX_ARRAY_LENGTH = 1_000_000
/** Work units one evaluation may spend: one per node evaluated, plus the size of built values. */
export const MAX_EVALUATION_STEPS = 5_000_000
/** Wall-clock limit for one evaluation (checked between steps). */
export const MAX_EVALUATION_MS = 3_000

export function checkStringLength(n: number, fn: string): void {
  if (n > MAX_STRING_LENGTH) {
    throw new Error(
      `${fn}: the result would be ${n} characters long; the limit is ${MAX_STRING_LENGTH}`
    )
  }
}

export function checkArrayLength(n: number, fn: string): void {
  if (n > MAX_ARRAY_LENGTH) {
    throw new Error(`${fn}: the result would have ${n} elements; the limit is ${MAX_ARRAY_LENGTH}`)
  }
}

/**
 * Throws unless the JSON text of `value` fits the string limit. Arrays and maps may share one
 * big value many times over, so the size is summed (without building the text) before any
 * serializer runs.
 */
export function checkSerializedSize(value: unknown, fn: string): void {
  let total = 0
  const stack: unknown[] = [value]
  while (stack.length) {
    const v = stack.pop()
    if (v instanceof HostValue) stack.push(v.json)
    else if (typeof v === 'string') total += v.length + 2
    else if (Array.isArray(v)) {
      total += 2 + v.length
      for (const x of v) stack.push(x)
    } else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        total += k.length + 4
        stack.push(x)
      }
      total += 2
    } else total += 24
    if (total > MAX_STRING_LENGTH) {
      throw new Error(`${fn}: the value is too large to serialize (limit ${MAX_STRING_LENGTH})`)
    }
  }
}
