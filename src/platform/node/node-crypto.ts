import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto'
import type { Crypto, KeyPair, Sha256Hasher } from '../../core/env.js'

// DER prefixes that wrap a raw 32-byte Ed25519 seed (PKCS#8) or public key (SPKI).
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex')

export interface NodeCryptoInit {
  /**
   * Remember this many verified (key, message, signature) results. Verification is
   * pure, so the simulator shares one cache across its peers.
   * @default 0
   */
  verifyCacheSize?: number
}

/** `node:crypto` Ed25519 and SHA-256: ~35 us to sign, ~105 us to verify here. */
export class NodeCrypto implements Crypto {
  private readonly cacheSize: number
  private readonly cache = new Map<string, boolean>()
  private readonly publicKeys = new Map<string, KeyObject>()

  constructor(init: NodeCryptoInit = {}) {
    this.cacheSize = init.verifyCacheSize ?? 0
  }

  sha256(data: Uint8Array): Uint8Array {
    return new Uint8Array(createHash('sha256').update(data).digest())
  }

  sha256Hasher(): Sha256Hasher {
    const h = createHash('sha256')
    return {
      update: (data) => void h.update(data),
      digest: () => new Uint8Array(h.digest()),
    }
  }

  keyPairFromSeed(seed: Uint8Array): KeyPair {
    if (seed.length !== 32) throw new Error('invariant: Ed25519 seed is 32 bytes')
    const key = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' })
    const spki = createPublicKey(key).export({ format: 'der', type: 'spki' })
    const publicKey = new Uint8Array(spki.subarray(spki.length - 32))
    return {
      publicKey,
      seed: new Uint8Array(seed),
      sign: (message) => new Uint8Array(sign(null, message, key)),
    }
  }

  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
    if (publicKey.length !== 32 || signature.length !== 64) return false
    if (this.cacheSize === 0) return this.verifyNow(publicKey, message, signature)
    const h = createHash('sha256').update(publicKey).update(signature).update(message).digest('base64')
    const hit = this.cache.get(h)
    if (hit !== undefined) return hit
    const ok = this.verifyNow(publicKey, message, signature)
    if (this.cache.size >= this.cacheSize) this.cache.delete(this.cache.keys().next().value as string)
    this.cache.set(h, ok)
    return ok
  }

  private verifyNow(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
    try {
      return verify(null, message, this.publicKey(publicKey), signature)
    } catch {
      return false
    }
  }

  private publicKey(raw: Uint8Array): KeyObject {
    const id = Buffer.from(raw).toString('base64')
    let key = this.publicKeys.get(id)
    if (key === undefined) {
      key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' })
      if (this.publicKeys.size >= 4096) this.publicKeys.delete(this.publicKeys.keys().next().value as string)
      this.publicKeys.set(id, key)
    }
    return key
  }
}
