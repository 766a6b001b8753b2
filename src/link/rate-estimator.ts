/**
 * Estimates a link's drain rate from how fast the transport's buffer empties
 * while we keep it backlogged. The link sizes its buffer threshold and fragment
 * size in time rather than bytes from this, so a slow link queues milliseconds,
 * not a fixed 64 KiB (half a second at 1 Mbit/s).
 */
export class RateEstimator {
  /** Bytes per second; undefined until the link has been backlogged once. */
  bytesPerSec: number | undefined
  private started = false
  private startMs = 0
  private startDrained = 0

  constructor(
    private readonly minWindowMs = 5,
    private readonly weight = 0.25,
  ) {}

  /** The transport ran dry with nothing waiting: the current window ends unmeasured. */
  idle(): void {
    this.started = false
  }

  /**
   * One look at the transport. `drained` counts every byte it has put on the wire
   * so far. `busySinceLast`: the transport never ran dry since the previous look
   * (it still holds data, or it reports reaching its threshold just now).
   * `busyNow`: it holds data or is refilled at once.
   */
  observe(nowMs: number, drained: number, busySinceLast: boolean, busyNow: boolean): void {
    if (this.started && busySinceLast) {
      const dt = nowMs - this.startMs
      if (dt >= this.minWindowMs) {
        const rate = ((drained - this.startDrained) * 1000) / dt
        if (rate > 0) {
          this.bytesPerSec = this.bytesPerSec === undefined ? rate : this.bytesPerSec + this.weight * (rate - this.bytesPerSec)
        }
        this.startMs = nowMs
        this.startDrained = drained
      }
      if (!busyNow) this.started = false
    } else if (this.started) {
      this.started = false
    }
    if (!this.started && busyNow) {
      this.started = true
      this.startMs = nowMs
      this.startDrained = drained
    }
  }
}
