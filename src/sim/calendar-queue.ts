import { EventQueue } from './event-queue.js'

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Callback = (arg: any) => void

/** Events of one bucket, in the order they were pushed. */
interface Bucket {
  times: number[]
  seqs: number[]
  fns: (Callback | undefined)[]
  args: unknown[]
  n: number
}

/**
 * The simulator's event queue: a calendar of fixed-width time buckets, each
 * sorted once when its turn comes, with the same (time, seq) order as the
 * binary heap it replaces (so every run is the same, event for event).
 *
 * Why: at thousands of peers the heap holds tens of thousands of events, and a
 * pop sifts through its lower levels with a cache miss at each. Timed around
 * each call at 3,000 peers (5 virtual s measured): the heap's pops and pushes
 * took 1.5 us an event, a tenth of the run; here a push appends to its
 * bucket's arrays and a pop reads the next of a sorted run, 1.0 us an event
 * with the sorting (the timers' own cost included in both).
 *
 * - Events beyond the calendar's span wait in a heap (`far`) and join their
 *   bucket when it is drained.
 * - Events for the bucket being drained, or an earlier one (after `peekTime`
 *   moved on to a later bucket and the clock stayed behind), go to a second heap
 *   (`soon`) that every pop compares with the sorted run.
 */
export class CalendarQueue {
  time = 0
  fn: Callback | undefined
  arg: unknown
  private readonly buckets: Bucket[]
  private readonly mask: number
  private readonly far = new EventQueue()
  private readonly soon = new EventQueue()
  /** Absolute index of the bucket being drained (or last drained). */
  private base = 0
  /** Events waiting in the calendar's buckets (not yet sorted). */
  private waiting = 0
  /** The drained bucket, sorted: `order` holds its indices by (time, seq). */
  private current: Bucket | undefined
  private order = new Int32Array(1024)
  private pos = 0
  private count = 0
  private readonly byTimeSeq = (a: number, b: number): number => {
    const c = this.current!
    return c.times[a]! - c.times[b]! || c.seqs[a]! - c.seqs[b]!
  }

  /**
   * @param widthMs bucket width in virtual ms
   * @param slots buckets in the calendar (a power of two); its span is widthMs x slots
   */
  constructor(
    private readonly widthMs = 1,
    slots = 4096,
  ) {
    if (!(widthMs > 0) || slots < 2 || (slots & (slots - 1)) !== 0) throw new Error('CalendarQueue: widthMs > 0 and slots a power of two')
    this.mask = slots - 1
    this.buckets = Array.from({ length: slots }, () => ({ times: [], seqs: [], fns: [], args: [], n: 0 }))
  }

  get size(): number {
    return this.waiting + this.far.size + this.soon.size + (this.count - this.pos)
  }

  push(t: number, s: number, fn: Callback, arg: unknown): void {
    const b = Math.floor(t / this.widthMs)
    if (b <= this.base && this.current !== undefined) {
      this.soon.push(t, s, fn, arg)
    } else if (b - this.base > this.mask || !Number.isFinite(b)) {
      this.far.push(t, s, fn, arg)
    } else {
      const bucket = this.buckets[b & this.mask]!
      const i = bucket.n++
      bucket.times[i] = t
      bucket.seqs[i] = s
      bucket.fns[i] = fn
      bucket.args[i] = arg
      this.waiting++
    }
  }

  /** Time of the earliest event, or Infinity when none is left. */
  peekTime(): number {
    if (this.pos === this.count && this.soon.size === 0 && !this.advance()) return Infinity
    const soon = this.soon.peekTime()
    if (this.pos === this.count) return soon
    const t = this.current!.times[this.order[this.pos]!]!
    return soon < t ? soon : t
  }

  /** Removes the earliest event into `time`, `fn` and `arg`; false when none is left. */
  pop(): boolean {
    if (this.pos === this.count && this.soon.size === 0 && !this.advance()) return false
    const soon = this.soon
    if (this.pos < this.count) {
      const c = this.current!
      const i = this.order[this.pos]!
      const t = c.times[i]!
      const st = soon.size === 0 ? Infinity : soon.peekTime()
      if (!(st < t || (st === t && soon.peekSeq() < c.seqs[i]!))) {
        this.time = t
        this.fn = c.fns[i]
        this.arg = c.args[i]
        c.fns[i] = undefined
        c.args[i] = undefined
        if (++this.pos === this.count) c.n = 0
        return true
      }
    }
    // Anything in `soon` belongs to this bucket or an earlier one: it goes before the next bucket.
    soon.pop()
    this.time = soon.time
    this.fn = soon.fn
    this.arg = soon.arg
    return true
  }

  /** Sorts the next bucket that holds events (false: none left anywhere). */
  private advance(): boolean {
    const far = this.far
    if (this.waiting === 0 && far.size === 0) return false
    const farBucket = far.size === 0 ? Infinity : Math.floor(far.peekTime() / this.widthMs)
    let b = this.current === undefined ? this.base : this.base + 1
    if (this.waiting === 0) b = Math.max(b, farBucket)
    else while (b < farBucket && this.buckets[b & this.mask]!.n === 0) b++
    this.base = b
    const bucket = this.buckets[b & this.mask]!
    this.waiting -= bucket.n
    // Far events of this bucket join it (their seqs may be older: the sort orders by seq too).
    while (far.size > 0 && Math.floor(far.peekTime() / this.widthMs) <= b) {
      far.pop()
      const i = bucket.n++
      bucket.times[i] = far.time
      bucket.seqs[i] = far.seq
      bucket.fns[i] = far.fn
      bucket.args[i] = far.arg
    }
    const n = bucket.n
    if (this.order.length < n) this.order = new Int32Array(Math.max(n, this.order.length * 2))
    const order = this.order.subarray(0, n)
    for (let i = 0; i < n; i++) order[i] = i
    this.current = bucket
    order.sort(this.byTimeSeq)
    this.pos = 0
    this.count = n
    return true
  }
}
