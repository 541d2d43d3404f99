import { describe, expect, it } from '@jest/globals'
import { onSecret, redact, registerSecret } from '../src/util/logger.js'

describe('secret registry', () => {
  it('redacts registered secrets and tells listeners about past and future ones', () => {
    registerSecret('early-secret-value')
    const seen: string[] = []
    onSecret((s) => seen.push(s))
    registerSecret('late-secret-value')
    registerSecret('late-secret-value')
    registerSecret('abc') // too short to mask safely
    expect(seen).toContain('early-secret-value')
    expect(seen.filter((s) => s === 'late-secret-value')).toHaveLength(1)
    expect(seen).not.toContain('abc')
    expect(redact('x early-secret-value y late-secret-value')).toBe('x *** y ***')
  })
})
