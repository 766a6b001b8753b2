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
 * Binary min-heap of callbacks ordered by (time, seq): equal times run in
 * scheduling order. Keys live in typed arrays beside the callbacks, so sifting
 * compares numbers in two contiguous arrays instead of reading an event object
 * at every level, and an event needs no object of its own (nearly all events
 * are message deliveries). The simulator puts a calendar in front of it
 * (CalendarQueue), which keeps the heaps it sifts small.
 * `pop` leaves the popped event in `time`, `seq`, `fn` and `arg`.
 */
export class EventQueue {
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

  /** Sequence number of the earliest event (only when one is left). */
  peekSeq(): number {
    return this.seqs[0]!
  }

  /** Removes the earliest event into `time`, `seq`, `fn` and `arg`; false when none is left. */
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
