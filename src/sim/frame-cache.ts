import type { Frame } from '../core/codec.js'
import type { FrameCache } from '../link/link-manager.js'

/** A broadcast frame on its way: decoded by its first receiver, dropped after its last. */
interface Shared {
  frame: Frame | null | undefined
  /** Receivers on this shard that have yet to get it. */
  left: number
}

/**
 * The simulator's shared decode cache: every receiver of a broadcast gets the
 * same bytes object, so the frame is decoded once. Only broadcasts enter it,
 * and each leaves it when its last receiver got it: the transport counts the
 * receivers (`sent`, for every send on this shard of the bytes being shared),
 * and each `get` counts one down.
 *
 * A cache of the latest frames of every kind, as before, held each decoded
 * frame and its bytes for a few hundred virtual milliseconds, the lifetime of
 * a generation. At thousands of peers that is seconds of wall time: they
 * survived two scavenges and were promoted, a quarter of all the bytes
 * promoted, and a unicast frame (most frames) is never asked for twice.
 *
 * A receiver that never gets its copy (its link closed, its node crashed)
 * leaves an entry behind: entries live in two generations, and when the young
 * one is full it becomes the old one and the previous old one is dropped whole.
 * A frame that is not found is only decoded again.
 */
export class SharedFrames implements FrameCache {
  /** The bytes of the latest broadcast (see share): the transport compares each send with them. */
  sharing: Uint8Array | undefined = undefined
  private young = new Map<Uint8Array, Shared>()
  private old = new Map<Uint8Array, Shared>()
  /** The bytes of the last record from another shard (see arrived), and whether a repeat of them was counted. */
  private lastArrived: Uint8Array | undefined = undefined
  private lastCounted = false

  /** @param generation entries per generation; @default 32768 */
  constructor(private readonly generation = 32_768) {}

  share(bytes: Uint8Array): void {
    this.sharing = bytes
  }

  /** The transport sends `bytes` (the shared ones) to one more receiver on this shard. */
  sent(bytes: Uint8Array): void {
    const e = this.find(bytes)
    if (e !== undefined) {
      e.left++
      return
    }
    if (this.young.size >= this.generation) {
      this.old = this.young
      this.young = new Map()
    }
    this.young.set(bytes, { frame: undefined, left: 1 })
  }

  get(bytes: Uint8Array): Frame | null | undefined {
    let map = this.young
    let e = map.get(bytes)
    if (e === undefined) {
      map = this.old
      e = map.get(bytes)
      if (e === undefined) return undefined
    }
    if (--e.left <= 0) map.delete(bytes)
    return e.frame
  }

  set(bytes: Uint8Array, frame: Frame | null): void {
    const e = this.find(bytes)
    if (e !== undefined) e.frame = frame
  }

  /**
   * A message from another shard, for a peer of this one. A broadcast to
   * several peers here comes as one view repeated (shard-bus's SAME_BYTES):
   * counted from its second record, for the first too, its receivers decode it
   * once, as those of a broadcast made on this shard do.
   */
  arrived(bytes: Uint8Array): void {
    if (bytes !== this.lastArrived) {
      this.lastArrived = bytes
      this.lastCounted = false
      return
    }
    if (!this.lastCounted) this.sent(bytes)
    this.lastCounted = true
    this.sent(bytes)
  }

  private find(bytes: Uint8Array): Shared | undefined {
    return this.young.get(bytes) ?? this.old.get(bytes)
  }

  /** Broadcasts still waiting for a receiver (tests). */
  get size(): number {
    return this.young.size + this.old.size
  }
}
