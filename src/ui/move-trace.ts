/** Moves kept per direction; past it the trace stops recording (and counts what it dropped). */
export const MAX_TRACED_MOVES = 20_000

/** A move sent or received, stamped with the page's wall clock (ms since the epoch, sub-millisecond). */
export interface TracedMove {
  /** The neighbour it came from; empty for our own moves. */
  readonly id: string
  readonly t: number
  readonly x: number
  readonly y: number
}

export interface MoveTraceData {
  sent: TracedMove[]
  received: TracedMove[]
  dropped: number
}

/**
 * Records, while switched on, each move the peer told its neighbours of (a MOVE
 * went out; dead reckoning skips the predictable ones) and each neighbour
 * move it delivers, so a benchmark can pair a move sent by one page with its
 * arrival in another. The clock is `performance.timeOrigin + performance.now()`:
 * pages on one machine read the same wall clock through it.
 */
export class MoveTrace {
  private on = false
  private data: MoveTraceData = { sent: [], received: [], dropped: 0 }

  constructor(private readonly clock: () => number) {}

  /** Starts (afresh) or stops recording. */
  record(on: boolean): void {
    if (on) this.data = { sent: [], received: [], dropped: 0 }
    this.on = on
  }

  sent(x: number, y: number): void {
    if (this.on) this.push(this.data.sent, { id: '', t: this.clock(), x, y })
  }

  received(id: string, x: number, y: number): void {
    if (this.on) this.push(this.data.received, { id, t: this.clock(), x, y })
  }

  /** What was recorded since the last call; recording goes on into an empty trace. */
  take(): MoveTraceData {
    const out = this.data
    this.data = { sent: [], received: [], dropped: 0 }
    return out
  }

  private push(list: TracedMove[], m: TracedMove): void {
    if (list.length < MAX_TRACED_MOVES) list.push(m)
    else this.data.dropped++
  }
}
