import { ed25519 } from '@noble/curves/ed25519.js'
import { sha256 } from '@noble/hashes/sha2.js'
import type { Crypto, KeyPair, Sha256Hasher } from '../../core/env.js'

/**
 * Synchronous crypto for the browser (WebCrypto's Ed25519 is async only). Strict
 * RFC 8032 verification, so it agrees byte for byte with `node:crypto`.
 */
export class NobleCrypto implements Crypto {
  sha256(data: Uint8Array): Uint8Array {
    return sha256(data)
  }

  sha256Hasher(): Sha256Hasher {
    const h = sha256.create()
    return {
      update: (data) => void h.update(data),
      digest: () => h.digest(),
    }
  }

  keyPairFromSeed(seed: Uint8Array): KeyPair {
    if (seed.length !== 32) throw new Error('invariant: Ed25519 seed is 32 bytes')
    const secret = new Uint8Array(seed)
    return {
      publicKey: ed25519.getPublicKey(secret),
      seed: secret,
      sign: (message) => ed25519.sign(message, secret),
    }
  }

  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
    if (publicKey.length !== 32 || signature.length !== 64) return false
    try {
      return ed25519.verify(signature, message, publicKey, { zip215: false })
    } catch {
      return false
    }
  }
}
