/**
 * A token bucket: `ratePerSec` tokens flow in up to `burst`; `take(n)` spends n
 * if there are enough. One per connection and resource (messages, bytes), and
 * one per address for authentications.
 */
export class TokenBucket {
  private tokens: number
  private lastMs: number

  constructor(
    private readonly ratePerSec: number,
    private readonly burst: number,
    nowMs: number,
  ) {
    this.tokens = burst
    this.lastMs = nowMs
  }

  take(n: number, nowMs: number): boolean {
    if (!this.has(n, nowMs)) return false
    this.tokens -= n
    return true
  }

  /** Whether `take(n)` would succeed now, without spending. */
  has(n: number, nowMs: number): boolean {
    this.tokens = Math.min(this.burst, this.tokens + ((nowMs - this.lastMs) * this.ratePerSec) / 1000)
    this.lastMs = nowMs
    return this.tokens >= n
  }

  /** Refilled to its burst: forgetting it now loses nothing. */
  full(nowMs: number): boolean {
    return this.has(this.burst, nowMs)
  }
}
