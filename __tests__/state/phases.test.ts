import { describe, expect, it } from '@jest/globals'
import {
  isTerminalPhase,
  isUnsuccessfulPhase,
  PROMOTION_PHASES,
  TERMINAL_PROMOTION_PHASES
} from '../../src/state/types.js'
import { validateState } from '../../src/state/schema.js'
import { emptyState } from '../../src/state/types.js'
import { makeFreight } from '../support/state-fixtures.js'

describe('promotion phases', () => {
  it('Succeeded, Failed, Errored and Aborted are terminal; Pending and Running are not', () => {
    expect(PROMOTION_PHASES.filter(isTerminalPhase)).toEqual([...TERMINAL_PROMOTION_PHASES])
    expect(TERMINAL_PROMOTION_PHASES).toEqual(['Succeeded', 'Failed', 'Errored', 'Aborted'])
  })

  it('unsuccessful means terminal but not Succeeded', () => {
    expect(PROMOTION_PHASES.filter(isUnsuccessfulPhase)).toEqual(['Failed', 'Errored', 'Aborted'])
  })
})

describe('control characters in stored freight', () => {
  it('a raw DEL in state.json is found (it needs no JSON escape)', () => {
    const f = makeFreight('app', 1)
    f.commits[0].message = 'subject\u007f'
    const doc = { ...emptyState(), freight: { [f.name]: f } }
    const raw = JSON.stringify(doc)
    expect(raw).toContain('\u007f')
    expect(validateState(JSON.parse(raw), [raw]).join('\n')).toMatch(
      /freight\.[0-9a-f]+\.commits\[0\]\.message: contains a control character/
    )
  })
})
