import { concatBytes, equalBytes, toHex } from '../../core/bytes.js'
import { decodeValue, encodeValue, isBytes, isUint } from '../../core/codec.js'
import type { Crypto } from '../../core/env.js'

/** Largest asset, in bytes. */
export const MAX_ASSET_BYTES = 256 * 1024
/** Chunk size: one chunk is one LOW frame, short enough not to hold a move back for long. */
export const CHUNK_BYTES = 16 * 1024
export const MAX_CHUNKS = MAX_ASSET_BYTES / CHUNK_BYTES
const MAX_MIME_CHARS = 64
const VERSION = 1

/**
 * What an asset is: its size, MIME type, the SHA-256 of the whole and of each
 * chunk. Wire form (msgpack): [1, size, mime, sha256(bytes), [sha256(chunk)...]].
 * The asset id is SHA-256 of these encoded bytes, so a manifest is
 * self-certifying: a holder cannot lie about the chunk list or the type.
 */
export interface Manifest {
  readonly size: number
  readonly mime: string
  readonly hash: Uint8Array
  readonly chunks: readonly Uint8Array[]
}

export interface BuiltAsset {
  /** The asset id: SHA-256 of `manifestBytes`. */
  readonly id: Uint8Array
  readonly idHex: string
  readonly manifest: Manifest
  readonly manifestBytes: Uint8Array
}

export function isValidMime(mime: string): boolean {
  return mime.length > 0 && mime.length <= MAX_MIME_CHARS && /^[\w.+-]+\/[\w.+-]+$/.test(mime)
}

export function chunkCount(size: number): number {
  return Math.max(1, Math.ceil(size / CHUNK_BYTES))
}

export function chunkOf(bytes: Uint8Array, index: number): Uint8Array {
  return bytes.subarray(index * CHUNK_BYTES, Math.min(bytes.length, (index + 1) * CHUNK_BYTES))
}

/** Builds the manifest of `bytes`. The caller checks size and mime. */
export function buildAsset(crypto: Crypto, bytes: Uint8Array, mime: string): BuiltAsset {
  const chunks: Uint8Array[] = []
  for (let i = 0; i < chunkCount(bytes.length); i++) chunks.push(crypto.sha256(chunkOf(bytes, i)))
  const manifest: Manifest = { size: bytes.length, mime, hash: crypto.sha256(bytes), chunks }
  const manifestBytes = encodeValue([VERSION, manifest.size, mime, manifest.hash, chunks])
  const id = crypto.sha256(manifestBytes)
  return { id, idHex: toHex(id), manifest, manifestBytes }
}

/**
 * Checks manifest bytes from anyone against the id they should hash to, and
 * decodes them; null when they do not hash to `id` or are malformed.
 */
export function openManifest(crypto: Crypto, id: Uint8Array, bytes: Uint8Array): Manifest | null {
  if (bytes.length > 64 + MAX_CHUNKS * 40 + MAX_MIME_CHARS || !equalBytes(crypto.sha256(bytes), id)) return null
  const v = decodeValue(bytes)
  if (!Array.isArray(v) || v.length !== 5 || v[0] !== VERSION) return null
  const [, size, mime, hash, chunks] = v as unknown[]
  if (!isUint(size, MAX_ASSET_BYTES) || typeof mime !== 'string' || !isValidMime(mime)) return null
  if (!isHash(hash) || !Array.isArray(chunks) || chunks.length !== chunkCount(size) || !chunks.every(isHash)) return null
  return { size, mime, hash, chunks: chunks as Uint8Array[] }
}

/** The whole asset from its chunks, or null when it does not match the manifest. */
export function assemble(crypto: Crypto, m: Manifest, chunks: readonly Uint8Array[]): Uint8Array | null {
  const bytes = concatBytes(chunks)
  return bytes.length === m.size && equalBytes(crypto.sha256(bytes), m.hash) ? bytes : null
}

export function isHash(v: unknown): v is Uint8Array {
  return isBytes(v, 32) && v.length === 32
}
