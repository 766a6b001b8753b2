import { createHash } from 'node:crypto'
import { concatBytes } from '../core/bytes.js'
import type { Crypto, KeyPair, Sha256Hasher } from '../core/env.js'

/**
 * Crypto with real SHA-256 and a stand-in signature scheme: a "signature" is
 * SHA-256(public key ‖ message) twice over, a public key SHA-256 of the seed.
 * It has Ed25519's shapes (32-byte keys, 64-byte signatures) and, against
 * random mutations, its verdicts (anyone could compute such a signature, but no
 * mutation does), at a fraction of the cost, so a million frames through the
 * record store or a circuit's HELLO stay fast. Not crypto: fuzzing only.
 */
export class FakeCrypto implements Crypto {
  sha256(data: Uint8Array): Uint8Array {
    return new Uint8Array(createHash('sha256').update(data).digest())
  }

  sha256Hasher(): Sha256Hasher {
    const h = createHash('sha256')
    return { update: (d) => void h.update(d), digest: () => new Uint8Array(h.digest()) }
  }

  keyPairFromSeed(seed: Uint8Array): KeyPair {
    const publicKey = this.sha256(concatBytes([Uint8Array.of(1), seed]))
    return { publicKey, seed: seed.slice(), sign: (message) => this.signature(publicKey, message) }
  }

  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
    if (publicKey.length !== 32 || signature.length !== 64) return false
    const expected = this.signature(publicKey, message)
    for (let i = 0; i < 64; i++) if (expected[i] !== signature[i]) return false
    return true
  }

  private signature(publicKey: Uint8Array, message: Uint8Array): Uint8Array {
    const a = this.sha256(concatBytes([publicKey, message]))
    return concatBytes([a, this.sha256(a)])
  }
}
