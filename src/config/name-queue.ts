/** A priority queue of names that hands out the smallest first (a binary min-heap). */
export class NameQueue {
  private readonly heap: string[] = []

  get size(): number {
    return this.heap.length
  }

  push(name: string): void {
    const h = this.heap
    h.push(name)
    for (let i = h.length - 1; i > 0;) {
      const parent = (i - 1) >> 1
      if (h[parent] <= h[i]) break
      ;[h[parent], h[i]] = [h[i], h[parent]]
      i = parent
    }
  }

  /** The smallest name, removed; undefined when empty. */
  pop(): string | undefined {
    const h = this.heap
    const top = h[0]
    const last = h.pop()
    if (h.length === 0 || last === undefined) return top
    h[0] = last
    for (let i = 0; ;) {
      const l = 2 * i + 1
      const r = l + 1
      let min = i
      if (l < h.length && h[l] < h[min]) min = l
      if (r < h.length && h[r] < h[min]) min = r
      if (min === i) break
      ;[h[min], h[i]] = [h[i], h[min]]
      i = min
    }
    return top
  }
}
