import { fromHex, toHex } from './bytes.js'
import type { Crypto } from './env.js'

/** Length of a peer id in bytes: SHA-256 of the peer's Ed25519 public key. */
export const ID_BYTES = 32

/**
 * A peer id as 64 lower-case hex characters. Strings key maps cheaply; the bytes
 * (for XOR distance, and on the wire) come from {@link idToBytes}.
 */
export type PeerId = string & { readonly __peerId: unique symbol }

export function peerIdFromPublicKey(crypto: Crypto, publicKey: Uint8Array): PeerId {
  return toHex(crypto.sha256(publicKey)) as PeerId
}

/** Returns null unless `bytes` is exactly {@link ID_BYTES} long. */
export function peerIdFromBytes(bytes: Uint8Array): PeerId | null {
  return bytes.length === ID_BYTES ? (toHex(bytes) as PeerId) : null
}

/** Validates a hex id from untrusted input: 64 lower-case hex characters. */
export function parsePeerId(value: unknown): PeerId | null {
  if (typeof value !== 'string' || value.length !== ID_BYTES * 2) return null
  return /^[0-9a-f]+$/.test(value) ? (value as PeerId) : null
}

export function idToBytes(id: PeerId): Uint8Array {
  const bytes = fromHex(id)
  if (bytes === null) throw new Error('invariant: malformed PeerId')
  return bytes
}

/** XOR distance between two ids of equal length. */
export function xorDistance(a: Uint8Array, b: Uint8Array): Uint8Array {
  const n = Math.min(a.length, b.length)
  const out = new Uint8Array(n)
  for (let i = 0; i < n; i++) out[i] = a[i]! ^ b[i]!
  return out
}

/**
 * Which of `a` and `b` is closer to `target` in XOR distance, compared as
 * big-endian bytes (never as a JS number): negative when `a` is closer.
 */
export function compareDistance(target: Uint8Array, a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < target.length; i++) {
    const da = a[i]! ^ target[i]!
    const db = b[i]! ^ target[i]!
    if (da !== db) return da - db
  }
  return 0
}

/** Number of leading bits `a` and `b` share (0..8*length): the Kademlia bucket index. */
export function commonPrefixLength(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i]! ^ b[i]!
    if (x !== 0) return i * 8 + Math.clz32(x) - 24
  }
  return a.length * 8
}

/** Orders ids as unsigned big-endian numbers; used to break ties deterministically. */
export function compareIds(a: PeerId, b: PeerId): number {
  // Equal-length lower-case hex compares like the bytes it encodes.
  return a < b ? -1 : a > b ? 1 : 0
}
