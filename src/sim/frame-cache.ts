import type { Frame } from '../core/codec.js'
import type { FrameCache } from '../link/link-manager.js'

/**
 * The simulator's shared decode cache: every receiver of a broadcast gets the
 * same bytes object, so the frame is decoded once. A WeakMap keyed by every
 * frame of a large run made the garbage collector trace millions of
 * ephemerons (about a tenth of the run's time at 1,000 peers); a bounded map
 * of the latest frames is enough, because the receivers of one frame all get
 * it within a few hundred milliseconds of virtual time. A frame evicted early
 * is only decoded again.
 */
export class RecentFrames implements FrameCache {
  // Two generations: when the young one is full it becomes the old one and the
  // previous old one is dropped whole (deleting a Map's oldest key one at a time
  // leaves holes that every later lookup of the oldest key walks over).
  private young = new Map<Uint8Array, Frame | null>()
  private old = new Map<Uint8Array, Frame | null>()

  /** @param generation frames per generation (between one and two are kept); @default 32768 */
  constructor(private readonly generation = 32_768) {}

  get(bytes: Uint8Array): Frame | null | undefined {
    const frame = this.young.get(bytes)
    return frame !== undefined ? frame : this.old.get(bytes)
  }

  set(bytes: Uint8Array, frame: Frame | null): void {
    if (this.young.size >= this.generation) {
      this.old = this.young
      this.young = new Map()
    }
    this.young.set(bytes, frame)
  }
}
