/** Keys a step must not write into an object built from config (prototype pollution). */
export const BLOCKED_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype'])
