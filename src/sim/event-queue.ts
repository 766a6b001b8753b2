/**
 * A cancellable scheduled callback, called with `arg`. Cancelled events stay in
 * the heap and are skipped when they come up.
 */
export interface SimEvent {
  readonly time: number
  readonly seq: number
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly fn: (arg: any) => void
  readonly arg: unknown
  cancelled: boolean
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Callback = (arg: any) => void

/**
 * The simulator's queue of callbacks, ordered by (time, seq): equal times run
 * in scheduling order. A calendar of 1 ms buckets over the next ~1 s in front of
 * a small heap: at thousands of peers a few hundred thousand events wait, nearly
 * all of them message deliveries due within a few hundred ms. In one binary heap
 * every pop sifted through its deep levels, a cache miss in each of four arrays
 * at each level. Here a push appends to its bucket; when the events before
 * `nearEnd` are used up, the next bucket moves into the near heap, which holds
 * about a millisecond of events and stays in cache. Events beyond the calendar
 * wait in a far heap and move into the calendar as it advances. The order is
 * exactly the one heap's.
 * `pop` leaves the popped event in `time`, `fn` and `arg`.
 */
export class EventQueue {
  time = 0
  fn: Callback | undefined
  arg: unknown
  /** Every event before `nearEnd`. */
  private readonly near = new MinHeap()
  /** Events from `wheelEnd` on. */
  private readonly far = new MinHeap()
  /** Bucket `(head + k) % SLOTS` holds the events in [nearEnd + k, nearEnd + k + 1) ms. */
  private readonly buckets: Bucket[] = Array.from({ length: SLOTS }, () => new Bucket())
  private head = 0
  private nearEnd = 0
  private inBuckets = 0

  get size(): number {
    return this.near.size + this.inBuckets + this.far.size
  }

  push(t: number, s: number, fn: Callback, arg: unknown): void {
    if (t < this.nearEnd) {
      this.near.push(t, s, fn, arg)
    } else if (t >= this.nearEnd + SLOTS) {
      this.far.push(t, s, fn, arg)
    } else {
      // Exact: nearEnd is a whole number of ms and t at least as large, so t - nearEnd is representable.
      this.buckets[(this.head + Math.floor(t - this.nearEnd)) & (SLOTS - 1)]!.push(t, s, fn, arg)
      this.inBuckets++
    }
  }

  /** Time of the earliest event, or Infinity when none is left. */
  peekTime(): number {
    if (this.near.size === 0 && !this.advance()) return Infinity
    return this.near.peekTime()
  }

  /** Removes the earliest event into `time`, `fn` and `arg`; false when none is left. */
  pop(): boolean {
    const near = this.near
    if (near.size === 0 && !this.advance()) return false
    near.pop()
    this.time = near.time
    this.fn = near.fn
    this.arg = near.arg
    return true
  }

  /** Moves the calendar on until the near heap holds the earliest events; false when none is left. */
  private advance(): boolean {
    const near = this.near
    while (near.size === 0) {
      if (this.inBuckets === 0) {
        const far = this.far
        if (far.size === 0) return false
        const t = far.peekTime()
        if (t === Infinity) {
          far.pop()
          near.push(t, far.seq, far.fn!, far.arg)
          return true
        }
        // Nothing within the calendar: jump it to the earliest far event.
        this.nearEnd = Math.max(this.nearEnd, Math.floor(t))
      } else {
        const bucket = this.buckets[this.head]!
        this.inBuckets -= bucket.n
        bucket.drainInto(near)
        this.head = (this.head + 1) & (SLOTS - 1)
        this.nearEnd++
      }
      // The calendar's end moved on: far events now within it enter their buckets.
      const far = this.far
      const end = this.nearEnd + SLOTS
      while (far.size > 0 && far.peekTime() < end) {
        far.pop()
        this.push(far.time, far.seq, far.fn!, far.arg)
      }
    }
    return true
  }
}

/** Calendar width in 1 ms buckets (a power of two). */
const SLOTS = 1024

/** The events of one millisecond, in push order. */
class Bucket {
  n = 0
  private keys = new Float64Array(16)
  private items: unknown[] = []

  push(t: number, s: number, fn: Callback, arg: unknown): void {
    const i = this.n++
    if (2 * i === this.keys.length) {
      const keys = new Float64Array(this.keys.length * 2)
      keys.set(this.keys)
      this.keys = keys
    }
    this.keys[2 * i] = t
    this.keys[2 * i + 1] = s
    this.items[2 * i] = fn
    this.items[2 * i + 1] = arg
  }

  drainInto(heap: MinHeap): void {
    const { keys, items } = this
    for (let i = 0; i < this.n; i++) {
      heap.push(keys[2 * i]!, keys[2 * i + 1]!, items[2 * i] as Callback, items[2 * i + 1])
      items[2 * i] = undefined
      items[2 * i + 1] = undefined
    }
    this.n = 0
  }
}

/**
 * Binary min-heap of callbacks ordered by (time, seq). Keys live in typed
 * arrays beside the callbacks, so sifting compares numbers in two contiguous
 * arrays instead of reading an event object at every level. `pop` leaves the
 * popped event in `time`, `fn` and `arg`.
 */
class MinHeap {
  time = 0
  seq = 0
  fn: Callback | undefined
  arg: unknown
  private times = new Float64Array(1024)
  private seqs = new Float64Array(1024)
  private fns: (Callback | undefined)[] = []
  private args: unknown[] = []
  private n = 0

  get size(): number {
    return this.n
  }

  push(t: number, s: number, fn: Callback, arg: unknown): void {
    if (this.n === this.times.length) this.grow()
    const times = this.times
    const seqs = this.seqs
    const fns = this.fns
    const args = this.args
    let i = this.n++
    while (i > 0) {
      const parent = (i - 1) >> 1
      const pt = times[parent]!
      if (pt < t || (pt === t && seqs[parent]! < s)) break
      times[i] = pt
      seqs[i] = seqs[parent]!
      fns[i] = fns[parent]
      args[i] = args[parent]
      i = parent
    }
    times[i] = t
    seqs[i] = s
    fns[i] = fn
    args[i] = arg
  }

  /** Time of the earliest event, or Infinity when none is left. */
  peekTime(): number {
    return this.n === 0 ? Infinity : this.times[0]!
  }

  /** Removes the earliest event into `time`, `fn` and `arg`; false when none is left. */
  pop(): boolean {
    if (this.n === 0) return false
    const times = this.times
    const seqs = this.seqs
    const fns = this.fns
    const args = this.args
    this.time = times[0]!
    this.seq = seqs[0]!
    this.fn = fns[0]
    this.arg = args[0]
    const n = --this.n
    const t = times[n]!
    const s = seqs[n]!
    const lastFn = fns[n]
    const lastArg = args[n]
    fns[n] = undefined
    args[n] = undefined
    if (n === 0) return true
    let i = 0
    for (;;) {
      const l = 2 * i + 1
      if (l >= n) break
      const r = l + 1
      let child = l
      if (r < n) {
        const rt = times[r]!
        const lt = times[l]!
        if (rt < lt || (rt === lt && seqs[r]! < seqs[l]!)) child = r
      }
      const ct = times[child]!
      if (t < ct || (t === ct && s < seqs[child]!)) break
      times[i] = ct
      seqs[i] = seqs[child]!
      fns[i] = fns[child]
      args[i] = args[child]
      i = child
    }
    times[i] = t
    seqs[i] = s
    fns[i] = lastFn
    args[i] = lastArg
    return true
  }

  private grow(): void {
    const times = new Float64Array(this.times.length * 2)
    const seqs = new Float64Array(this.seqs.length * 2)
    times.set(this.times)
    seqs.set(this.seqs)
    this.times = times
    this.seqs = seqs
  }
}
