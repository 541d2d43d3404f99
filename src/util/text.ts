/**
 * Control characters, defined once. A control character is a C0 control (U+0000–U+001F, tab
 * and newlines included), DEL (U+007F) or a C1 control (U+0080–U+009F): what Go's
 * unicode.IsControl matches. Text that is shown (terminals, URLs) also loses the invisible
 * formatting characters that can disguise it: zero-width characters, bidi marks, embeddings and
 * overrides, the line and paragraph separators, word joiners and the byte-order mark.
 */

const CONTROL = '\\u0000-\\u001f\\u007f-\\u009f'
const INVISIBLE_FORMAT = '\\u200b-\\u200f\\u2028-\\u202e\\u2060-\\u206f\\ufeff'

const CONTROL_CHAR = new RegExp(`[${CONTROL}]`)
const CONTROL_RUNS = new RegExp(`[${CONTROL}]+`, 'g')
const NON_PRINTABLE = new RegExp(`[${CONTROL}${INVISIBLE_FORMAT}]`, 'g')

/** True when `text` holds a control character (validation of untrusted input and stored state). */
export function hasControlCharacter(text: string): boolean {
  return CONTROL_CHAR.test(text)
}

/**
 * One line of plain text: each run of control characters (newlines included) becomes one space,
 * and the ends are trimmed. For discovered text such as commit subjects before it is stored.
 */
export function singleLine(text: string): string {
  return text.replace(CONTROL_RUNS, ' ').trim()
}

/** Removes control and invisible formatting characters (Kargo's unicode.IsPrint filter on URLs). */
export function stripNonPrintable(text: string): string {
  return text.replace(NON_PRINTABLE, '')
}

/**
 * Replaces each control or invisible formatting character with `replacement`: text shown in a
 * terminal can neither send escape sequences nor reorder what is displayed.
 */
export function replaceNonPrintable(text: string, replacement = ' '): string {
  return text.replace(NON_PRINTABLE, replacement)
}

/**
 * A YAML or JSON scalar (string, number, boolean, bigint) as text; undefined for null, undefined,
 * objects and functions, which have no text of their own.
 */
/** Any value as display text: scalars as they are, null/undefined as '', objects as JSON. */
export function displayText(v: unknown): string {
  if (v === null || v === undefined) return ''
  const scalar = scalarText(v)
  if (scalar !== undefined) return scalar
  try {
    return JSON.stringify(v) ?? ''
  } catch {
    return Object.prototype.toString.call(v)
  }
}

export function scalarText(v: unknown): string | undefined {
  switch (typeof v) {
    case 'string':
      return v
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(v)
    default:
      return undefined
  }
}
