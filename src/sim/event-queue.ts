/**
 * A scheduled callback, called with `arg` (one allocation per event instead of
 * a closure and an event). `cancelled` events stay in the heap and are skipped.
 */
export interface SimEvent {
  readonly time: number
  readonly seq: number
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly fn: (arg: any) => void
  readonly arg: unknown
  cancelled: boolean
}

/** Binary min-heap ordered by (time, seq): equal times run in scheduling order. */
export class EventQueue {
  private readonly heap: SimEvent[] = []

  get size(): number {
    return this.heap.length
  }

  push(ev: SimEvent): void {
    const heap = this.heap
    heap.push(ev)
    let i = heap.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      const p = heap[parent]!
      if (before(p, ev)) break
      heap[i] = p
      i = parent
    }
    heap[i] = ev
  }

  peek(): SimEvent | undefined {
    return this.heap[0]
  }

  pop(): SimEvent | undefined {
    const heap = this.heap
    const top = heap[0]
    const last = heap.pop()
    if (top === undefined || last === undefined || heap.length === 0) return top
    const n = heap.length
    let i = 0
    for (;;) {
      const l = 2 * i + 1
      if (l >= n) break
      const r = l + 1
      const child = r < n && before(heap[r]!, heap[l]!) ? r : l
      if (before(last, heap[child]!)) break
      heap[i] = heap[child]!
      i = child
    }
    heap[i] = last
    return top
  }
}

function before(a: SimEvent, b: SimEvent): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq)
}
