/**
 * Kargo's expression language (expr-lang subset) for `${{ … }}` in step config, `if`, vars,
 * and step-internal expressions (http, *-parse) and discovery filters. Parsed with jsep and
 * evaluated by our own tree walker: no eval, no Function, no prototype or global access.
 * See docs/expressions.md.
 */
export {
  evaluateExpression,
  evaluateRaw,
  getMember,
  isPlainObject,
  safeRegExp,
  type ExprEnv,
  type ExprFunction
} from './evaluate.js'
export { evaluateTemplate, evaluateString, splitTemplate, coerceString } from './template.js'
export { freightFunctions, type FreightFunctionOptions } from './freight-functions.js'
export { builtinFunctions, stringify } from './builtins.js'
export {
  ExpressionError,
  parseExpression,
  MAX_EXPRESSION_DEPTH,
  MAX_EXPRESSION_LENGTH
} from './parse.js'
export {
  HostValue,
  toPlain,
  timeValue,
  durationValue,
  semverValue,
  parseSemver,
  semverDiff,
  parseGoDuration,
  originValue
} from './values.js'
