import { SeededRng } from '../sim/rng.js'

/**
 * The fuzzer's randomness: the simulator's xoshiro128**, seeded from a string (FNV-1a, then
 * splitmix32), so `seed/target` names one reproducible stream and running one
 * target alone (`--only`) gives it the same inputs as a full run.
 */
export class FuzzRng extends SeededRng {
  constructor(seed: string) {
    super(seed)
    // Its own seeding (not SeededRng's SHA-256), so the streams docs/FUZZ.md's figures came from stay.
    let h = 0x811c9dc5
    for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 0x01000193)
    const next = (): number => {
      h = (h + 0x9e3779b9) | 0
      let z = h
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
      return (z ^ (z >>> 16)) >>> 0
    }
    this.a = next()
    this.b = next()
    this.c = next()
    this.d = next() | 1 // never the all-zero state
  }

  /** A uniform 32-bit unsigned integer. */
  u32(): number {
    return this.nextUint32()
  }

  /** Uniform integer in [min, max]. */
  range(min: number, max: number): number {
    return min + this.int(max - min + 1)
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!
  }

  /** A length that is usually small and sometimes near `max`: most bugs live at the edges. */
  size(max: number): number {
    const r = this.next()
    if (r < 0.6) return this.int(Math.min(max, 16) + 1)
    if (r < 0.9) return this.int(Math.min(max, 256) + 1)
    return this.int(max + 1)
  }
}
