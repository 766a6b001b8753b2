import { LINK_PROTO, LinkMsg, PROTOCOL } from './link-messages.js'
import { Priority } from './priority.js'

/** What one traffic class may bring in on one link. */
export interface ClassBudget {
  /** Sustained rate of bytes (frames as received, headers included). */
  bytesPerSecond: number
  /** Bytes that may arrive at once after a quiet spell: the bucket's size. */
  burstBytes: number
  framesPerSecond: number
  burstFrames: number
}

/**
 * A token bucket per class per link on the receive side. The defaults leave a
 * wide margin over what one honest peer sends on one link: a peer in a dense
 * crowd receives up to ~40 KB/s and ~500 frames/s of VON traffic from all its
 * neighbours together, tens of frames a second from any one of them; assets are
 * pulled at 1 MiB/s over all holders by default; a relay's circuits (LOW here)
 * carry at most what the relay's own cap lets through. Bursts hold a flushed
 * send queue (the scheduler's bounds: 256 HIGH, 1,024 MEDIUM frames, 2 MiB LOW)
 * plus the transport's buffer, so a link catching up after a stall passes.
 */
export interface ReceiveBudgetInit {
  /**
   * [HIGH, MEDIUM, LOW].
   * @default HIGH 128 KiB/s (burst 512 KiB) and 300 frames/s (burst 500); MEDIUM 1 MiB/s (burst 2 MiB) and 500 frames/s (burst 1,500); LOW 4 MiB/s (burst 4 MiB) and 1,000 frames/s (burst 2,000)
   */
  classes?: readonly [ClassBudget, ClassBudget, ClassBudget]
  /**
   * A link is closed ('flood') once the frames it had dropped over budget add up
   * to this many seconds of their class's rate (each frame weighs the larger of
   * 1/framesPerSecond and bytes/bytesPerSecond), forgotten as below. A flood of
   * ten times the budget closes in about a tenth of a second past the burst;
   * a link a little over its budget only loses the excess.
   * @default 1
   */
  floodSeconds?: number
  /** Time constant over which dropped frames are forgotten (exponential decay). @default 10000 */
  floodDecayMs?: number
}

export const DEFAULT_RECEIVE_BUDGETS: readonly [ClassBudget, ClassBudget, ClassBudget] = [
  { bytesPerSecond: 128 * 1024, burstBytes: 512 * 1024, framesPerSecond: 300, burstFrames: 500 },
  { bytesPerSecond: 1024 * 1024, burstBytes: 2 * 1024 * 1024, framesPerSecond: 500, burstFrames: 1500 },
  { bytesPerSecond: 4 * 1024 * 1024, burstBytes: 4 * 1024 * 1024, framesPerSecond: 1000, burstFrames: 2000 },
]

export type ResolvedReceiveBudget = Required<ReceiveBudgetInit>

export function resolveReceiveBudget(init: ReceiveBudgetInit = {}): ResolvedReceiveBudget {
  return {
    classes: init.classes ?? DEFAULT_RECEIVE_BUDGETS,
    floodSeconds: init.floodSeconds ?? 1,
    floodDecayMs: init.floodDecayMs ?? 10_000,
  }
}

/**
 * The class a frame is charged to, read from its first bytes without decoding
 * it. Only fragments say the class they were sent in; for whole frames the
 * receiver cannot know it, so they are charged to the class their protocol
 * mostly sends in. Circuit data (a relay's frames for several links) goes to
 * LOW, whose budget is the largest; each relayed link is charged again, by its
 * own budget, where its frames come out of the circuit.
 */
export function receiveClass(bytes: Uint8Array): Priority {
  if (bytes.length < 3 || bytes[0] !== 0x93) return Priority.MEDIUM
  const proto = smallUint(bytes, 1)
  const at = bytes[1]! < 0x80 ? 2 : 3
  const type = smallUint(bytes, at)
  if (proto !== LINK_PROTO) return PROTOCOL_CLASS[proto] ?? Priority.MEDIUM
  switch (type) {
    case LinkMsg.FRAG: {
      // [class, last, bytes]: a fixarray of three, then the class as a positive fixint.
      const p = at + 1
      const cls = bytes[p + 1]
      return bytes[p] === 0x93 && cls !== undefined && cls <= Priority.LOW ? (cls as Priority) : Priority.MEDIUM
    }
    case LinkMsg.PING:
    case LinkMsg.PROBE:
    case LinkMsg.ECHO:
      return Priority.HIGH
    case LinkMsg.C_UP:
    case LinkMsg.C_DOWN:
      return Priority.LOW
    default:
      return Priority.MEDIUM
  }
}

/** Moves and chat are HIGH, assets LOW; the rest (overlay upkeep, DHT, unknown protocols) MEDIUM. */
const PROTOCOL_CLASS: Record<number, Priority> = {
  [PROTOCOL.VON]: Priority.HIGH,
  [PROTOCOL.CHAT]: Priority.HIGH,
  [PROTOCOL.ASSETS]: Priority.LOW,
}

/** A msgpack uint below 256 at `i` (fixint or uint8), else -1. */
function smallUint(bytes: Uint8Array, i: number): number {
  const b = bytes[i]
  if (b === undefined) return -1
  if (b < 0x80) return b
  return b === 0xcc && i + 1 < bytes.length ? bytes[i + 1]! : -1
}

/**
 * One link's receive allowance: a token bucket of bytes and one of frames per
 * class, refilled lazily on arrival, and how much it has been over. Frames are
 * handled synchronously as they arrive (there is no receive queue one link
 * could fill ahead of the others), so this allowance is also what shares the
 * receiver's work fairly between its links: no link gets more than its budget,
 * whatever the others do.
 */
export class ReceiveBudget {
  private readonly bytes = new Float64Array(3)
  private readonly frames = new Float64Array(3)
  private readonly at = new Float64Array(3)
  private excess = 0
  private excessAt = 0
  /** Frames dropped over budget on this link. */
  dropped = 0

  constructor(
    private readonly init: ResolvedReceiveBudget,
    now: number,
  ) {
    for (let cls = 0; cls < 3; cls++) {
      this.bytes[cls] = init.classes[cls]!.burstBytes
      this.frames[cls] = init.classes[cls]!.burstFrames
      this.at[cls] = now
    }
    this.excessAt = now
  }

  /** Takes a frame of `size` bytes in class `cls` from the allowance; false (nothing taken) when over. */
  take(cls: Priority, size: number, now: number): boolean {
    const c = this.init.classes[cls]!
    const dt = now - this.at[cls]!
    if (dt > 0) {
      this.at[cls] = now
      this.bytes[cls] = Math.min(c.burstBytes, this.bytes[cls]! + (c.bytesPerSecond * dt) / 1000)
      this.frames[cls] = Math.min(c.burstFrames, this.frames[cls]! + (c.framesPerSecond * dt) / 1000)
    }
    if (this.frames[cls]! < 1 || this.bytes[cls]! < size) return false
    this.frames[cls]! -= 1
    this.bytes[cls]! -= size
    return true
  }

  /** Records a frame dropped over budget; true once the link has flooded enough to be closed. */
  exceeded(cls: Priority, size: number, now: number): boolean {
    const c = this.init.classes[cls]!
    const weight = Math.max(1 / c.framesPerSecond, size / c.bytesPerSecond)
    this.excess = this.excessNow(now) + weight
    this.excessAt = now
    this.dropped++
    return this.excess > this.init.floodSeconds
  }

  /** Seconds of budget dropped, decayed to `now`. */
  excessNow(now: number): number {
    const dt = now - this.excessAt
    return dt > 0 ? this.excess * Math.exp(-dt / this.init.floodDecayMs) : this.excess
  }
}
