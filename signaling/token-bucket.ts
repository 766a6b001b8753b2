/**
 * A token bucket: `ratePerSec` tokens flow in up to `burst`; `take(n)` spends n
 * if there are enough. One per connection and resource (messages, bytes).
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
    this.tokens = Math.min(this.burst, this.tokens + ((nowMs - this.lastMs) * this.ratePerSec) / 1000)
    this.lastMs = nowMs
    if (this.tokens < n) return false
    this.tokens -= n
    return true
  }
}
