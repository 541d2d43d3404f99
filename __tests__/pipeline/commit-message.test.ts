import { describe, expect, it } from '@jest/globals'
import { commitMessage } from '../../src/pipeline/promotion-rounds.js'

describe('state commit messages of a round', () => {
  it('names up to 20 changes, then says how many more', () => {
    const parts = (n: number) => Array.from({ length: n }, (_, i) => `promotion: p${i} running`)
    expect(commitMessage(parts(2))).toBe('promotion: p0 running; promotion: p1 running')
    expect(commitMessage(parts(20)).split('; ')).toHaveLength(20)
    const many = commitMessage(parts(1000))
    expect(many.startsWith(parts(20).join('; '))).toBe(true)
    expect(many.endsWith('; and 980 more')).toBe(true)
    expect(many.length).toBeLessThan(600)
  })
})
