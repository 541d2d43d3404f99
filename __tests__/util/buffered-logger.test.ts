import { describe, expect, it } from '@jest/globals'
import { BufferedLogger } from '../../src/util/buffered-logger.js'
import { ConsoleLogger, MemoryLogger, type Annotation } from '../../src/util/logger.js'

/** A MemoryLogger that also records mask calls and annotations, in the order they arrive. */
class RecordingLogger extends MemoryLogger {
  readonly masked: string[] = []
  readonly annotations: Array<{ kind: string; where?: Annotation }> = []
  mask(secret: string): void {
    this.masked.push(secret)
    super.mask(secret)
  }
  warn(m: string, where?: Annotation): void {
    this.annotations.push({ kind: 'warn', where })
    super.warn(m)
  }
  error(m: string, where?: Annotation): void {
    this.annotations.push({ kind: 'error', where })
    super.error(m)
  }
  notice(m: string, where?: Annotation): void {
    this.annotations.push({ kind: 'notice', where })
    super.notice(m)
  }
}

describe('BufferedLogger', () => {
  it('holds every kind of line until replay, then writes them in order inside the named group', async () => {
    const target = new MemoryLogger()
    const log = new BufferedLogger(target)
    log.info('one')
    log.debug('two')
    log.notice('three')
    log.warn('four')
    log.error('five')
    await log.group('inner', async () => {
      log.info('six')
    })
    log.info('seven')
    expect(target.lines).toEqual([])
    await log.replay('promote f1 → dev')
    expect(target.lines).toEqual([
      'group: promote f1 → dev',
      'one',
      'debug: two',
      'notice: three',
      'warning: four',
      'error: five',
      'group: inner',
      'six',
      'seven'
    ])
  })

  it('keeps nested groups nested and returns what the group function returns', async () => {
    // ConsoleLogger indents by group depth, so the nesting shows in its output.
    const out: string[] = []
    const target = new ConsoleLogger(false, (l) => out.push(l))
    const log = new BufferedLogger(target)
    const v = await log.group('step a (http)', async () => {
      log.info('a1')
      const inner = await log.group('deeper', async () => {
        log.info('a2')
        return 42
      })
      log.info('a3')
      return inner + 1
    })
    expect(v).toBe(43)
    log.info('after')
    expect(out).toEqual([])
    await log.replay('promote x → s')
    expect(out).toEqual([
      '▸ promote x → s',
      '  ▸ step a (http)',
      '    a1',
      '    ▸ deeper',
      '      a2',
      '    a3',
      '  after'
    ])
  })

  it('a group whose function throws still closes: later lines are outside it', async () => {
    const out: string[] = []
    const log = new BufferedLogger(new ConsoleLogger(false, (l) => out.push(l)))
    await expect(
      log.group('failing', async () => {
        log.info('inside')
        throw new Error('step failed')
      })
    ).rejects.toThrow('step failed')
    log.info('outside')
    await log.replay()
    expect(out).toEqual(['▸ failing', '  inside', 'outside'])
  })

  it('replay without a name writes the lines ungrouped; a second replay writes only what came since', async () => {
    const target = new MemoryLogger()
    const log = new BufferedLogger(target)
    log.info('a')
    await log.replay()
    expect(target.lines).toEqual(['a'])
    log.info('b')
    await log.replay('later')
    expect(target.lines).toEqual(['a', 'group: later', 'b'])
    await log.replay()
    expect(target.lines).toEqual(['a', 'group: later', 'b'])
  })

  it('two loggers filled in interleaved order replay as two contiguous blocks', async () => {
    const target = new MemoryLogger()
    const a = new BufferedLogger(target)
    const b = new BufferedLogger(target)
    // Two concurrent tasks, their lines interleaved in time.
    await Promise.all([
      a.group('step x (http)', async () => {
        a.info('a-1')
        await new Promise((r) => setTimeout(r, 5))
        a.info('a-2')
      }),
      b.group('step y (http)', async () => {
        b.info('b-1')
        await new Promise((r) => setTimeout(r, 1))
        b.info('b-2')
        await new Promise((r) => setTimeout(r, 10))
        b.info('b-3')
      })
    ])
    expect(target.lines).toEqual([])
    await b.replay('promote f → b')
    await a.replay('promote f → a')
    expect(target.lines).toEqual([
      'group: promote f → b',
      'group: step y (http)',
      'b-1',
      'b-2',
      'b-3',
      'group: promote f → a',
      'group: step x (http)',
      'a-1',
      'a-2'
    ])
  })

  it('passes annotations (file, line) through on replay', async () => {
    const target = new RecordingLogger()
    const log = new BufferedLogger(target)
    log.warn('w', { file: 'stages.yaml', line: 3 })
    log.error('e', { file: 'tasks.yaml', line: 7, title: 'bad' })
    log.notice('n')
    expect(target.annotations).toEqual([])
    await log.replay()
    expect(target.annotations).toEqual([
      { kind: 'warn', where: { file: 'stages.yaml', line: 3 } },
      { kind: 'error', where: { file: 'tasks.yaml', line: 7, title: 'bad' } },
      { kind: 'notice', where: undefined }
    ])
  })

  it('mask reaches the target at once; masked secrets are redacted in replayed lines', async () => {
    const secret = `bufsecret-${process.pid}-${Date.now()}`
    const target = new RecordingLogger()
    const log = new BufferedLogger(target)
    log.info(`before mask: ${secret}`)
    log.mask(secret)
    // Registered with the target before anything is replayed.
    expect(target.masked).toEqual([secret])
    expect(target.lines).toEqual([])
    await log.group('step s (http)', async () => {
      log.warn(`token=${secret}`)
    })
    await log.replay(`promote ${secret} → s`)
    const text = target.text()
    expect(text).not.toContain(secret)
    expect(target.lines).toEqual([
      'group: promote *** → s',
      'before mask: ***',
      'group: step s (http)',
      'warning: token=***'
    ])
  })
})
