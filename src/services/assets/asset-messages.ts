import { isBytes, isUint } from '../../core/codec.js'
import { CHUNK_BYTES, MAX_CHUNKS, isHash } from './manifest.js'

/**
 * Asset transfer (protocol 4), all LOW priority. A request names the asset by
 * id; `rid` (0..2^32) pairs an answer with its request on one link.
 */
export const AssetMsg = {
  /** [rid, id(32)] */
  GET_MANIFEST: 1,
  /** [rid, manifestBytes] */
  MANIFEST: 2,
  /** [rid, id(32), index] */
  GET_CHUNK: 3,
  /** [rid, bytes] */
  CHUNK: 4,
  /** [rid, code]: the request cannot be served. */
  ERROR: 5,
} as const

export const AssetErr = { NOT_FOUND: 1, BUSY: 2, BAD_REQUEST: 3 } as const
export type AssetErr = (typeof AssetErr)[keyof typeof AssetErr]

export const MAX_RID = 2 ** 32 - 1
const MAX_MANIFEST_BYTES = 2048

export interface AssetRequest {
  readonly rid: number
  readonly id: Uint8Array
  /** Chunk index; -1 for the manifest. */
  readonly index: number
}

export function decodeRequest(type: number, v: unknown): AssetRequest | null {
  if (!Array.isArray(v)) return null
  if (type === AssetMsg.GET_MANIFEST && v.length === 2 && isUint(v[0], MAX_RID) && isHash(v[1])) return { rid: v[0], id: v[1], index: -1 }
  if (type === AssetMsg.GET_CHUNK && v.length === 3 && isUint(v[0], MAX_RID) && isHash(v[1]) && isUint(v[2], MAX_CHUNKS - 1)) {
    return { rid: v[0], id: v[1], index: v[2] }
  }
  return null
}

/** A rid from a malformed request, so it can still be answered with BAD_REQUEST. */
export function ridOf(v: unknown): number | null {
  return Array.isArray(v) && isUint(v[0], MAX_RID) ? v[0] : null
}

export type AssetReply =
  | { readonly kind: 'data'; readonly rid: number; readonly bytes: Uint8Array }
  | { readonly kind: 'error'; readonly rid: number; readonly code: number }

export function decodeReply(type: number, v: unknown): AssetReply | null {
  if (!Array.isArray(v) || v.length !== 2 || !isUint(v[0], MAX_RID)) return null
  if (type === AssetMsg.ERROR) return isUint(v[1], 255) ? { kind: 'error', rid: v[0], code: v[1] } : null
  const max = type === AssetMsg.MANIFEST ? MAX_MANIFEST_BYTES : CHUNK_BYTES
  return isBytes(v[1], max) ? { kind: 'data', rid: v[0], bytes: v[1] } : null
}
