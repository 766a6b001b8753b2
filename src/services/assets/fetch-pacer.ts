import type { Env } from '../../core/env.js'

export interface FetchPacerInit {
  /** Sustained rate of chunk data asked for. */
  bytesPerSecond: number
  /** Budget that builds up while idle: what is asked for at once before pacing starts. */
  burstBytes: number
}

interface Waiter {
  readonly bytes: number
  readonly wake: () => void
}

/**
 * A token bucket over the chunk requests of every fetch of one peer. Bulk data
 * is LOW priority on the link, but each chunk still costs the receiver's main
 * thread a hash and a few sends; without a budget, fetches ask as fast as the
 * link delivers, and those costs, not the link's queues, delay the moves
 * (docs/BENCHMARKS.md, "Move latency through the page"). Waiters are served in
 * the order they asked, so fetches share the budget fairly.
 */
export class FetchPacer {
  private tokens: number
  private at: number
  private waiting: Waiter[] = []
  private timer: unknown = undefined

  constructor(
    private readonly env: Pick<Env, 'clock' | 'timers'>,
    private readonly init: FetchPacerInit,
  ) {
    this.tokens = init.burstBytes
    this.at = env.clock.now()
  }

  /**
   * Takes budget for `bytes` now (true), or returns false, queues the taker and
   * calls `wake` once the budget has been taken on its behalf. Takes over the
   * burst are charged as the burst.
   */
  take(bytes: number, wake: () => void): boolean {
    const need = Math.min(bytes, this.init.burstBytes)
    this.refill()
    if (this.waiting.length === 0 && this.tokens >= need) {
      this.tokens -= need
      return true
    }
    this.waiting.push({ bytes: need, wake })
    this.schedule()
    return false
  }

  close(): void {
    if (this.timer !== undefined) this.env.timers.clearTimeout(this.timer)
    this.timer = undefined
    this.waiting = []
  }

  private refill(): void {
    const now = this.env.clock.now()
    this.tokens = Math.min(this.init.burstBytes, this.tokens + ((now - this.at) * this.init.bytesPerSecond) / 1000)
    this.at = now
  }

  private schedule(): void {
    const first = this.waiting[0]
    if (this.timer !== undefined || first === undefined) return
    const delayMs = Math.max(1, Math.ceil(((first.bytes - this.tokens) * 1000) / this.init.bytesPerSecond))
    this.timer = this.env.timers.setTimeout(() => {
      this.timer = undefined
      this.refill()
      const granted: Waiter[] = []
      for (let w = this.waiting[0]; w !== undefined && this.tokens >= w.bytes; w = this.waiting[0]) {
        this.tokens -= w.bytes
        granted.push(this.waiting.shift()!)
      }
      // A woken taker that asks again queues behind those still waiting.
      for (const w of granted) w.wake()
      this.schedule()
    }, delayMs)
  }
}
