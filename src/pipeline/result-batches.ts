/** When results are written: after this many, or this long after the first one waiting. */
export interface BatchLimits {
  count: number
  maxAgeMs: number
}

/** Every 50 results or 10 s: a few commits for 1,000 promotions, and little to redo after a crash. */
export const DEFAULT_RESULT_BATCH: BatchLimits = { count: 50, maxAgeMs: 10_000 }

/**
 * Collects the results of promotions running at the same time and writes them in batches, one
 * write at a time. A failed write is kept and rethrown by `settle()`; results added after it are
 * held, never written out of order.
 */
export class ResultBatches<T> {
  private pending: T[] = []
  private timer: NodeJS.Timeout | undefined
  private writing: Promise<void> = Promise.resolve()
  private failure: { error: unknown } | undefined

  constructor(
    private readonly write: (batch: T[]) => Promise<void>,
    private readonly limits: BatchLimits = DEFAULT_RESULT_BATCH
  ) {}

  /** True once a write failed: start nothing new. */
  get failed(): boolean {
    return this.failure !== undefined
  }

  add(item: T): void {
    this.pending.push(item)
    if (this.pending.length >= this.limits.count) void this.flush()
    else if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.limits.maxAgeMs)
      this.timer.unref()
    }
  }

  /** Writes what is pending now (possibly nothing: `write([])` still runs, e.g. to renew leases). */
  flush(): Promise<void> {
    this.clearTimer()
    const batch = this.pending.splice(0)
    this.writing = this.writing.then(async () => {
      if (this.failure) {
        this.pending.unshift(...batch)
        return
      }
      try {
        await this.write(batch)
      } catch (error) {
        this.failure = { error }
        this.pending.unshift(...batch)
      }
    })
    return this.writing
  }

  /**
   * Waits for the writes under way; then hands over what was never written (the caller records
   * it in its next write) and rethrows a failed write's error.
   */
  async settle(): Promise<T[]> {
    this.clearTimer()
    await this.writing
    if (this.failure) throw this.failure.error
    return this.pending.splice(0)
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
  }
}
