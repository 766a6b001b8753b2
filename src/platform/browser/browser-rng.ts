import type { Rng } from '../../core/env.js'

/** Cryptographically strong randomness from WebCrypto (identity keys come from it). */
export class BrowserRng implements Rng {
  next(): number {
    const w = new Uint32Array(1)
    crypto.getRandomValues(w)
    return w[0]! / 4294967296
  }

  int(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive)
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n)
    for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65536)))
    return out
  }
}
