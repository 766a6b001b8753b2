import { MAX_MESSAGE_BYTES, isBytes } from '../core/codec.js'
import { concatBytes } from '../core/bytes.js'
import { isPriority } from './priority.js'

/**
 * Most pieces one message may come in: 256 KiB in pieces of 256 bytes (the
 * scheduler's are over a kilobyte). Bytes alone did not bound what a
 * reassembler holds: empty pieces piled up forever, each costing the receiver
 * far more than the sender (docs/FUZZ.md).
 */
export const MAX_PIECES = 1024

/**
 * Rebuilds fragmented messages. Within a class, messages leave the sender in
 * order and a message's fragments are consecutive, so one buffer per class is
 * enough even though classes interleave on the wire.
 */
export class Reassembler {
  private readonly parts: Uint8Array[][] = [[], [], []]
  private readonly sizes = [0, 0, 0]

  /**
   * Takes a FRAG payload from the remote. Returns the whole message when this
   * was its last piece, `undefined` when more are due, and `null` for a bad
   * payload or a message over the size or piece limit (the partial message is
   * discarded).
   */
  push(payload: unknown): Uint8Array | undefined | null {
    if (!Array.isArray(payload) || payload.length !== 3) return null
    const [cls, last, piece] = payload as [unknown, unknown, unknown]
    if (!isPriority(cls) || (last !== 0 && last !== 1) || !isBytes(piece)) return null
    const size = this.sizes[cls]! + piece.length
    if (size > MAX_MESSAGE_BYTES || this.parts[cls]!.length >= MAX_PIECES) {
      this.reset(cls)
      return null
    }
    this.parts[cls]!.push(piece)
    this.sizes[cls] = size
    if (last === 0) return undefined
    const whole = concatBytes(this.parts[cls]!)
    this.reset(cls)
    return whole
  }

  /** Bytes held for partly received messages. */
  get pendingBytes(): number {
    return this.sizes[0]! + this.sizes[1]! + this.sizes[2]!
  }

  private reset(cls: number): void {
    this.parts[cls] = []
    this.sizes[cls] = 0
  }
}
