import type { FrameStats } from '../ui/test-hook.js'

/** Samples kept (a few seconds at 60 fps). */
const KEEP = 600

/** Frame intervals and per-frame work, for the HUD and `__world.frameStats()`. */
export class FrameRecorder {
  private frames = 0
  private readonly intervals: number[] = []
  private readonly work: number[] = []
  private lastFrameAt: number | undefined
  private stepStartedAt = 0

  stepStart(now: number): void {
    this.stepStartedAt = now
    if (this.lastFrameAt !== undefined) push(this.intervals, now - this.lastFrameAt)
    this.lastFrameAt = now
  }

  stepEnd(now: number): void {
    this.frames++
    push(this.work, now - this.stepStartedAt)
  }

  stats(): FrameStats {
    return { frames: this.frames, intervalsMs: [...this.intervals], workMs: [...this.work] }
  }

  /** Mean frame interval over the last `n` frames, ms. */
  meanIntervalMs(n = 60): number | undefined {
    const s = this.intervals.slice(-n)
    return s.length === 0 ? undefined : s.reduce((a, b) => a + b, 0) / s.length
  }
}

function push(a: number[], v: number): void {
  a.push(v)
  if (a.length > KEEP) a.splice(0, a.length - KEEP)
}
