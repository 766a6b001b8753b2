import { randomBytes } from 'node:crypto'
import type { Rng } from '../../core/env.js'

/** Cryptographically strong randomness from `node:crypto` (identity keys, nonces). */
export class NodeRng implements Rng {
  next(): number {
    // 53 random bits: every double in [0, 1) a uniform draw can produce.
    const b = randomBytes(7)
    const hi = b.readUIntBE(0, 3) & 0x1fffff
    const lo = b.readUIntBE(3, 4)
    return (hi * 2 ** 32 + lo) / 2 ** 53
  }

  int(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive)
  }

  bytes(n: number): Uint8Array {
    return new Uint8Array(randomBytes(n))
  }
}
