import type { EventCosts } from './event-costs.js'
import { CalendarQueue } from './calendar-queue.js'
import type { SimEvent } from './event-queue.js'
import { SeededRng } from './rng.js'

export interface SimulatorInit {
  /** The scenario seed: every random stream of the run derives from it. */
  seed: string | number
}

/**
 * The discrete-event kernel: a virtual clock in milliseconds, an event queue
 * ordered by (time, sequence), seeded random streams, and a running hash of
 * everything that happened, so two runs can be compared in one string.
 */
export class Simulator {
  readonly seed: string | number
  now = 0
  eventsRun = 0
  /** The virtual clock as an Env clock: one object for every peer (each message reads it). */
  readonly clock = { now: (): number => this.now }
  /** Set to measure each event's wall time by kind (see EventCosts); results do not change. */
  costs: EventCosts | undefined
  private readonly queue = new CalendarQueue()
  private seq = 0
  private h1 = 0x811c9dc5
  private h2 = 0x9e3779b9
  private readonly f64 = new Float64Array(1)
  private readonly u32 = new Uint32Array(this.f64.buffer)

  constructor(init: SimulatorInit) {
    this.seed = init.seed
  }

  /** An independent random stream for `label` under this run's seed. */
  rng(label: string): SeededRng {
    return new SeededRng(this.seed, label)
  }

  at(time: number, fn: () => void): SimEvent {
    return this.atWith(time, fn, undefined)
  }

  /** Schedules `fn(arg)`: the hot paths pass a method bound once instead of a new closure. */
  atWith<T>(time: number, fn: (arg: T) => void, arg: T): SimEvent {
    const ev: SimEvent = { time: Math.max(time, this.now), seq: this.seq++, fn, arg, cancelled: false }
    this.queue.push(ev.time, ev.seq, runEvent, ev)
    return ev
  }

  /** Schedules `fn(arg)` for good: no handle, so no cancelling (message deliveries). */
  post<T>(time: number, fn: (arg: T) => void, arg: T): void {
    this.queue.push(Math.max(time, this.now), this.seq++, fn, arg)
  }

  after(delayMs: number, fn: () => void): SimEvent {
    return this.at(this.now + Math.max(0, delayMs), fn)
  }

  cancel(ev: SimEvent): void {
    ev.cancelled = true
  }

  get pending(): number {
    return this.queue.size
  }

  /** Runs one event; false when none is left. */
  step(): boolean {
    const queue = this.queue
    for (;;) {
      if (!queue.pop()) return false
      const fn = queue.fn!
      const arg = queue.arg
      if (fn === runEvent && (arg as SimEvent).cancelled) continue
      this.now = queue.time
      this.eventsRun++
      this.mixNumber(queue.time)
      const costs = this.costs
      if (costs === undefined) {
        fn(arg)
      } else {
        const started = costs.clock()
        fn(arg)
        const ms = costs.clock() - started
        if (fn === runEvent) costs.add(this.now, (arg as SimEvent).fn, (arg as SimEvent).arg, ms)
        else costs.add(this.now, fn, arg, ms)
      }
      return true
    }
  }

  /** Runs every event up to and including `timeMs`, then sets the clock to it. */
  runUntil(timeMs: number): void {
    const queue = this.queue
    while (queue.peekTime() <= timeMs) this.step()
    if (timeMs > this.now) this.now = timeMs
  }

  /** Runs every event before `timeMs` (a shard's window); the clock stays at the last event run. */
  runBefore(timeMs: number): void {
    const queue = this.queue
    while (queue.peekTime() < timeMs) this.step()
  }

  /** Runs while `cond()` holds and events remain, up to `maxTimeMs`. */
  runWhile(cond: () => boolean, maxTimeMs: number): void {
    while (cond() && this.queue.peekTime() <= maxTimeMs) this.step()
  }

  /** Mixes numbers into the run's trace hash (who sent what, when). */
  trace(...values: number[]): void {
    for (const v of values) this.mixNumber(v)
  }

  /** Mixes three 32-bit integers (a delivery: from, to, size) without float conversion. */
  traceInts(a: number, b: number, c: number): void {
    let h1 = this.h1
    let h2 = this.h2
    h1 = Math.imul(h1 ^ a, 0x01000193)
    h2 = Math.imul(h2 ^ h1, 0x85ebca6b) ^ (h2 >>> 13)
    h1 = Math.imul(h1 ^ b, 0x01000193)
    h2 = Math.imul(h2 ^ h1, 0x85ebca6b) ^ (h2 >>> 13)
    h1 = Math.imul(h1 ^ c, 0x01000193)
    this.h2 = Math.imul(h2 ^ h1, 0x85ebca6b) ^ (h2 >>> 13)
    this.h1 = h1
  }

  traceBytes(bytes: Uint8Array): void {
    let h1 = this.h1
    let h2 = this.h2
    for (let i = 0; i < bytes.length; i++) {
      h1 = Math.imul(h1 ^ bytes[i]!, 0x01000193)
      h2 = Math.imul(h2 ^ h1, 0x85ebca6b) ^ (h2 >>> 13)
    }
    this.h1 = h1
    this.h2 = h2
  }

  /** 64-bit digest of every event time and traced value so far. */
  get traceHash(): string {
    return (this.h1 >>> 0).toString(16).padStart(8, '0') + (this.h2 >>> 0).toString(16).padStart(8, '0')
  }

  private mixNumber(v: number): void {
    this.f64[0] = v
    const u32 = this.u32
    let h1 = Math.imul(this.h1 ^ u32[0]!, 0x01000193)
    let h2 = Math.imul(this.h2 ^ h1, 0x85ebca6b) ^ (this.h2 >>> 13)
    h1 = Math.imul(h1 ^ u32[1]!, 0x01000193)
    h2 = Math.imul(h2 ^ h1, 0x85ebca6b) ^ (h2 >>> 13)
    this.h1 = h1
    this.h2 = h2
  }
}

function runEvent(ev: SimEvent): void {
  ev.fn(ev.arg)
}
