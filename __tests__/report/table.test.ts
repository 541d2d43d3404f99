import { beforeAll, describe, expect, it } from '@jest/globals'
import { formatTable, renderStatusTable, terminalSafe } from '../../src/report/table.js'
import { fixture, type Fixture } from './fixture.js'

let fx: Fixture
beforeAll(async () => {
  fx = await fixture()
})

describe('renderStatusTable', () => {
  it('lists stages in promotion order with freight, health, verification and promotion', () => {
    const out = renderStatusTable(fx.model, fx.state)
    const lines = out.split('\n')
    expect(lines[0]).toMatch(/^STAGE\s+FREIGHT\s+HEALTH\s+VERIFIED\s+PROMOTION$/)
    expect(lines.map((l) => l.split(/\s+/)[0])).toEqual([
      'STAGE',
      'test',
      'qa',
      'uat',
      'prod',
      'prod-dr'
    ])
    const row = (s: string) => lines.find((l) => l.startsWith(`${s} `))!
    expect(row('test')).toContain(`app:${fx.app[2].alias}, config:${fx.config[1].alias}`)
    expect(row('test')).toContain(`Running ${fx.app[3].alias}`)
    expect(row('qa')).toMatch(new RegExp(`${fx.app[2].alias}\\s+Healthy\\s+yes\\s+Succeeded`))
    expect(row('uat')).toMatch(/Unhealthy\s+failed/)
    expect(row('prod-dr')).toContain('control flow')
    // Columns line up: every row has FREIGHT at the same offset.
    const col = lines[0].indexOf('FREIGHT')
    for (const l of lines.slice(1)) expect(l[col - 1]).toBe(' ')
    expect(out).not.toContain('\x1b')
  })

  it('colours by status on a TTY and strips control characters from data', () => {
    const state = structuredClone(fx.state)
    state.freight[fx.app[2].name].alias = 'evil\x1b[2J\x1b[31m'
    const out = renderStatusTable(fx.model, state, { color: true })
    expect(out).toContain('\x1b[31muat\x1b[0m')
    expect(out).toContain('\x1b[32mqa\x1b[0m')
    expect(out).not.toContain('\x1b[2J')
    expect(out).toContain('evil [2J [31m')
    expect(terminalSafe('a\nb\u009bc')).toBe('a b c')
  })

  it('aligns cells by visible width', () => {
    expect(
      formatTable([
        ['a', 'b'],
        ['\x1b[1mlong\x1b[0m', 'x']
      ])
    ).toBe('a     b\n\x1b[1mlong\x1b[0m  x')
  })
})
