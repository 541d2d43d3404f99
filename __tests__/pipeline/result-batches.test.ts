import { afterEach, describe, expect, it, jest } from '@jest/globals'
import { DEFAULT_RESULT_BATCH, ResultBatches } from '../../src/pipeline/result-batches.js'

/** A write whose calls are recorded and which finishes only when the test releases it. */
function gatedWriter() {
  const calls: number[][] = []
  const releases: Array<() => void> = []
  let inFlight = 0
  let maxInFlight = 0
  const write = async (batch: number[]) => {
    calls.push([...batch])
    inFlight++
    maxInFlight = Math.max(maxInFlight, inFlight)
    await new Promise<void>((resolve) => releases.push(resolve))
    inFlight--
  }
  return {
    write,
    calls,
    /** Lets the oldest write still waiting finish. */
    releaseNext: () => releases.shift()?.(),
    get waiting() {
      return releases.length
    },
    get maxInFlight() {
      return maxInFlight
    }
  }
}

/** Lets pending promise callbacks (not timers) run. */
async function drain(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve()
}

describe('ResultBatches', () => {
  afterEach(() => {
    jest.useRealTimers()
  })

  it('defaults to 50 results or 10 s', () => {
    expect(DEFAULT_RESULT_BATCH).toEqual({ count: 50, maxAgeMs: 10_000 })
  })

  it('writes exactly when `count` results are waiting, not before', async () => {
    const calls: number[][] = []
    const b = new ResultBatches<number>(
      async (batch) => {
        calls.push([...batch])
      },
      { count: 3, maxAgeMs: 60_000 }
    )
    b.add(1)
    b.add(2)
    await drain()
    expect(calls).toEqual([])
    b.add(3)
    await drain()
    expect(calls).toEqual([[1, 2, 3]])
    b.add(4)
    b.add(5)
    await drain()
    expect(calls).toEqual([[1, 2, 3]])
    b.add(6)
    await drain()
    expect(calls).toEqual([
      [1, 2, 3],
      [4, 5, 6]
    ])
    expect(await b.settle()).toEqual([])
  })

  it('writes what waits once `maxAgeMs` passed since the first of them (fake timers)', async () => {
    jest.useFakeTimers()
    const calls: number[][] = []
    const b = new ResultBatches<number>(
      async (batch) => {
        calls.push([...batch])
      },
      { count: 100, maxAgeMs: 1_000 }
    )
    b.add(1)
    await jest.advanceTimersByTimeAsync(600)
    b.add(2) // does not restart the clock: the first result is what ages
    await jest.advanceTimersByTimeAsync(399)
    expect(calls).toEqual([])
    await jest.advanceTimersByTimeAsync(1)
    expect(calls).toEqual([[1, 2]])
    // The next result starts a new clock.
    b.add(3)
    await jest.advanceTimersByTimeAsync(999)
    expect(calls).toEqual([[1, 2]])
    await jest.advanceTimersByTimeAsync(1)
    expect(calls).toEqual([[1, 2], [3]])
    expect(await b.settle()).toEqual([])
  })

  it('writes on time with real timers too (30 ms)', async () => {
    const calls: number[][] = []
    const b = new ResultBatches<number>(
      async (batch) => {
        calls.push([...batch])
      },
      { count: 100, maxAgeMs: 30 }
    )
    b.add(1)
    b.add(2)
    expect(calls).toEqual([])
    const deadline = Date.now() + 5_000
    while (calls.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
    expect(calls).toEqual([[1, 2]])
    expect(await b.settle()).toEqual([])
  })

  it('a count-triggered write cancels the timer: nothing is written twice or empty', async () => {
    jest.useFakeTimers()
    const calls: number[][] = []
    const b = new ResultBatches<number>(
      async (batch) => {
        calls.push([...batch])
      },
      { count: 2, maxAgeMs: 1_000 }
    )
    b.add(1)
    b.add(2)
    await jest.advanceTimersByTimeAsync(5_000)
    expect(calls).toEqual([[1, 2]])
  })

  it('never runs two writes at once and keeps their order', async () => {
    const w = gatedWriter()
    const b = new ResultBatches<number>(w.write, { count: 2, maxAgeMs: 60_000 })
    b.add(1)
    b.add(2) // write [1,2] starts and hangs
    await drain()
    expect(w.calls).toEqual([[1, 2]])
    b.add(3)
    b.add(4) // queued behind [1,2]
    b.add(5)
    b.add(6) // queued behind [3,4]
    await drain()
    expect(w.calls).toEqual([[1, 2]])
    w.releaseNext()
    await drain()
    expect(w.calls).toEqual([
      [1, 2],
      [3, 4]
    ])
    w.releaseNext()
    await drain()
    w.releaseNext()
    await drain()
    expect(w.calls).toEqual([
      [1, 2],
      [3, 4],
      [5, 6]
    ])
    expect(w.maxInFlight).toBe(1)
    expect(await b.settle()).toEqual([])
  })

  it('flush() writes what waits now, even nothing (a lease renewal)', async () => {
    const calls: number[][] = []
    const b = new ResultBatches<number>(
      async (batch) => {
        calls.push([...batch])
      },
      { count: 10, maxAgeMs: 60_000 }
    )
    await b.flush()
    b.add(7)
    await b.flush()
    expect(calls).toEqual([[], [7]])
  })

  it('settle() waits for the write under way and returns what was never written', async () => {
    const w = gatedWriter()
    const b = new ResultBatches<number>(w.write, { count: 2, maxAgeMs: 60_000 })
    b.add(1)
    b.add(2) // write under way
    b.add(3) // waits (below count, timer far away)
    await drain()
    let settled: number[] | undefined
    const settling = b.settle().then((rest) => {
      settled = rest
    })
    await drain()
    expect(settled).toBeUndefined() // still waiting for [1,2]
    w.releaseNext()
    await settling
    expect(settled).toEqual([3])
    expect(w.calls).toEqual([[1, 2]])
    // Handed over: nothing is left to write, and the timer was cleared.
    expect(await b.settle()).toEqual([])
  })

  it('settle() cancels the time trigger: what it hands back is never written later', async () => {
    jest.useFakeTimers()
    const calls: number[][] = []
    const b = new ResultBatches<number>(
      async (batch) => {
        calls.push([...batch])
      },
      { count: 10, maxAgeMs: 100 }
    )
    b.add(1)
    expect(await b.settle()).toEqual([1])
    await jest.advanceTimersByTimeAsync(1_000)
    expect(calls).toEqual([])
  })

  it('a failed write: failed is true, later results are held in order, settle() rethrows', async () => {
    const boom = new Error('push refused')
    const calls: number[][] = []
    let attempt = 0
    const b = new ResultBatches<number>(
      async (batch) => {
        calls.push([...batch])
        if (++attempt === 2) throw boom
      },
      { count: 2, maxAgeMs: 60_000 }
    )
    b.add(1)
    b.add(2)
    await drain()
    expect(b.failed).toBe(false)
    b.add(3)
    b.add(4) // this write fails
    await drain()
    expect(b.failed).toBe(true)
    b.add(5)
    b.add(6) // reaches count: must not be written after the failure
    await b.flush()
    await b.flush()
    expect(calls).toEqual([
      [1, 2],
      [3, 4]
    ])
    expect(b.failed).toBe(true)
    await expect(b.settle()).rejects.toBe(boom)
  })

  it('a write failing while others are queued: the queued ones are not written', async () => {
    const boom = new Error('state branch gone')
    const calls: number[][] = []
    let first = true
    const b = new ResultBatches<number>(
      async (batch) => {
        calls.push([...batch])
        if (first) {
          first = false
          await new Promise<void>((resolve) => setTimeout(resolve, 5))
          throw boom
        }
      },
      { count: 1, maxAgeMs: 60_000 }
    )
    b.add(1) // write [1] starts, will fail
    b.add(2) // queued behind it
    b.add(3)
    await expect(b.settle()).rejects.toBe(boom)
    expect(calls).toEqual([[1]])
    expect(b.failed).toBe(true)
  })
})
