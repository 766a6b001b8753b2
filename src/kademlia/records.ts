import { concatBytes, equalBytes, compareBytes, utf8 } from '../core/bytes.js'
import { encodeValue, isBytes, isUint } from '../core/codec.js'
import type { Crypto, KeyPair } from '../core/env.js'

/**
 * Records the DHT stores. Wire form (msgpack arrays):
 * - mutable:   [1, ns, publicKey(32), seq, value, signature(64)], key SHA-256(utf8(ns) ‖ publicKey),
 *              signature over msgpack(["p2p-world/mutable/1", ns, seq, value])
 * - immutable: [2, value], key SHA-256(value)
 */
export const RecordKind = { MUTABLE: 1, IMMUTABLE: 2 } as const

export interface MutableRecord {
  readonly kind: typeof RecordKind.MUTABLE
  /** Namespace, e.g. "player/": part of the key, so one key pair owns one record per namespace. */
  readonly ns: string
  readonly publicKey: Uint8Array
  readonly seq: number
  readonly value: Uint8Array
  readonly signature: Uint8Array
}

export interface ImmutableRecord {
  readonly kind: typeof RecordKind.IMMUTABLE
  readonly value: Uint8Array
}

export type DhtRecord = MutableRecord | ImmutableRecord

/** The player-state namespace: key = SHA-256("player/" ‖ public key). */
export const PLAYER_NS = 'player/'

/** The largest value a record may carry (bytes). */
export const MAX_VALUE_BYTES = 16 * 1024
const MAX_NS_CHARS = 32
const SIGN_DOMAIN = 'p2p-world/mutable/1'

export function mutableKey(crypto: Crypto, ns: string, publicKey: Uint8Array): Uint8Array {
  return crypto.sha256(concatBytes([utf8(ns), publicKey]))
}

export function recordKey(crypto: Crypto, record: DhtRecord): Uint8Array {
  return record.kind === RecordKind.MUTABLE ? mutableKey(crypto, record.ns, record.publicKey) : crypto.sha256(record.value)
}

function signedBytes(ns: string, seq: number, value: Uint8Array): Uint8Array {
  return encodeValue([SIGN_DOMAIN, ns, seq, value])
}

export function signMutable(keyPair: KeyPair, ns: string, seq: number, value: Uint8Array): MutableRecord {
  const signature = keyPair.sign(signedBytes(ns, seq, value))
  return { kind: RecordKind.MUTABLE, ns, publicKey: keyPair.publicKey, seq, value, signature }
}

export function immutableRecord(value: Uint8Array): ImmutableRecord {
  return { kind: RecordKind.IMMUTABLE, value }
}

export function encodeRecord(r: DhtRecord): unknown[] {
  return r.kind === RecordKind.MUTABLE ? [r.kind, r.ns, r.publicKey, r.seq, r.value, r.signature] : [r.kind, r.value]
}

/** Structural decode of untrusted input; null when malformed. Signatures are checked by {@link validateRecord}. */
export function decodeRecord(v: unknown, maxValueBytes = MAX_VALUE_BYTES): DhtRecord | null {
  if (!Array.isArray(v)) return null
  if (v[0] === RecordKind.MUTABLE && v.length === 6) {
    const [, ns, publicKey, seq, value, signature] = v as unknown[]
    if (typeof ns !== 'string' || ns.length > MAX_NS_CHARS) return null
    if (!isBytes(publicKey, 32) || publicKey.length !== 32 || !isUint(seq)) return null
    if (!isBytes(value, maxValueBytes) || !isBytes(signature, 64) || signature.length !== 64) return null
    return { kind: RecordKind.MUTABLE, ns, publicKey, seq, value, signature }
  }
  if (v[0] === RecordKind.IMMUTABLE && v.length === 2) {
    return isBytes(v[1], maxValueBytes) ? { kind: RecordKind.IMMUTABLE, value: v[1] } : null
  }
  return null
}

export type RecordVerdict = 'ok' | 'too-large' | 'bad-key' | 'bad-signature'

/**
 * Checks a record against the key it is stored under: size, key binding (the
 * key is derived from the owner's public key or the content, so nobody can
 * place a record under someone else's key) and, for mutable records, the
 * owner's signature.
 */
export function validateRecord(crypto: Crypto, key: Uint8Array, r: DhtRecord, maxValueBytes = MAX_VALUE_BYTES): RecordVerdict {
  if (r.value.length > maxValueBytes) return 'too-large'
  if (!equalBytes(recordKey(crypto, r), key)) return 'bad-key'
  if (r.kind === RecordKind.MUTABLE && !crypto.verify(r.publicKey, signedBytes(r.ns, r.seq, r.value), r.signature)) {
    return 'bad-signature'
  }
  return 'ok'
}

/** Bytes a record occupies in a store (value plus fixed fields). */
export function recordSize(r: DhtRecord): number {
  return r.kind === RecordKind.MUTABLE ? r.value.length + r.ns.length + 32 + 64 + 8 : r.value.length
}

export function sameRecord(a: DhtRecord, b: DhtRecord): boolean {
  if (a.kind !== b.kind || !equalBytes(a.value, b.value)) return false
  return a.kind === RecordKind.IMMUTABLE || (b.kind === RecordKind.MUTABLE && a.seq === b.seq && equalBytes(a.signature, b.signature))
}

/**
 * The selector: positive when `a` is better than `b`. A higher seq wins; two
 * valid records with the same seq and different values (an owner that signed
 * twice) are ordered by value bytes so every peer picks the same one.
 */
export function compareRecords(a: DhtRecord, b: DhtRecord): number {
  if (a.kind === RecordKind.MUTABLE && b.kind === RecordKind.MUTABLE) {
    if (a.seq !== b.seq) return a.seq - b.seq
    return compareBytes(b.value, a.value)
  }
  return 0
}

export function recordSeq(r: DhtRecord): number {
  return r.kind === RecordKind.MUTABLE ? r.seq : 0
}
