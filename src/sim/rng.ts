import { sha256 } from '@noble/hashes/sha2.js'
import type { Rng } from '../core/env.js'

/**
 * xoshiro128** seeded from SHA-256(seed/label): fast, small state, and every
 * label (a peer index, "network", "mobility") gets an independent stream from
 * one scenario seed.
 */
export class SeededRng implements Rng {
  protected a: number
  protected b: number
  protected c: number
  protected d: number

  constructor(seed: string | number, label = '') {
    const h = sha256(new TextEncoder().encode(`${seed}/${label}`))
    const v = new DataView(h.buffer, h.byteOffset, h.byteLength)
    this.a = v.getUint32(0)
    this.b = v.getUint32(4)
    this.c = v.getUint32(8)
    this.d = v.getUint32(12) | 1 // never the all-zero state
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0
    const t = this.b << 9
    this.c ^= this.a
    this.d ^= this.b
    this.b ^= this.c
    this.a ^= this.d
    this.c ^= t
    this.d = rotl(this.d, 11)
    return result
  }

  next(): number {
    return this.nextUint32() / 4294967296
  }

  int(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive)
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n)
    for (let i = 0; i < n; i += 4) {
      let w = this.nextUint32()
      for (let j = i; j < Math.min(n, i + 4); j++) {
        out[j] = w & 255
        w >>>= 8
      }
    }
    return out
  }

  /** Standard normal deviate (Box-Muller). */
  normal(): number {
    let u = 0
    while (u === 0) u = this.next()
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next())
  }

  /** Exponential deviate with the given mean. */
  exponential(mean: number): number {
    return -mean * Math.log(1 - this.next())
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k))
}
