import { Decoder, Encoder } from '@msgpack/msgpack'

/** The largest message a link carries, in bytes (Chromium's data-channel maximum). */
export const MAX_MESSAGE_BYTES = 256 * 1024

/**
 * A frame on a link: which protocol, which message type of that protocol, and the
 * payload. Protocol and type are small integers to keep every move frame small.
 */
export interface Frame {
  readonly proto: number
  readonly type: number
  readonly payload: unknown
}

// The encoder and decoder hold only scratch buffers and fixed limits, so one pair
// per process is safe to share between peers (msgpack clones them on re-entry).
const encoder = new Encoder({ ignoreUndefined: true })
const decoder = new Decoder({
  maxStrLength: 64 * 1024,
  maxBinLength: MAX_MESSAGE_BYTES,
  maxArrayLength: 16 * 1024,
  maxMapLength: 1024,
  maxExtLength: 0,
})

/** Encodes any msgpack-able value. Throws only on values our own code built wrongly. */
export function encodeValue(value: unknown): Uint8Array {
  return encoder.encode(value)
}

/** Decodes untrusted bytes; returns `undefined` on any malformed input, never throws. */
export function decodeValue(bytes: Uint8Array): unknown {
  try {
    return decoder.decode(bytes)
  } catch {
    return undefined
  }
}

/**
 * Small frames (moves, keepalives, probes: most of what a peer sends) are copied
 * into a shared slab rather than each into a buffer of its own. V8 keeps a
 * typed array of at most 64 bytes inside the JS heap, and the first reader that
 * needs its ArrayBuffer (msgpack's decoder makes a DataView over it) moves it
 * out, a malloc and a copy per frame received; a view into a slab already has
 * one. A slab is freed once every frame in it is. Larger frames keep a buffer
 * of their own, so nothing that keeps a frame (or a view of its payload) keeps
 * a slab's worth of other frames with it.
 */
const SLAB_FRAME_BYTES = 64
const SLAB_BYTES = 16 * 1024
let slab = new Uint8Array(SLAB_BYTES)
let slabUsed = 0

export function encodeFrame(proto: number, type: number, payload: unknown): Uint8Array {
  const shared = encoder.encodeSharedRef([proto, type, payload])
  const n = shared.length
  if (n > SLAB_FRAME_BYTES) return shared.slice()
  if (slabUsed + n > SLAB_BYTES) {
    slab = new Uint8Array(SLAB_BYTES)
    slabUsed = 0
  }
  const out = slab.subarray(slabUsed, slabUsed + n)
  out.set(shared)
  slabUsed += n
  return out
}

/** Decodes a frame from a remote peer; `null` for anything that is not a well-formed frame. */
export function decodeFrame(bytes: Uint8Array): Frame | null {
  const value = decodeValue(bytes)
  if (!Array.isArray(value) || value.length !== 3) return null
  const [proto, type, payload] = value as [unknown, unknown, unknown]
  if (!isUint8(proto) || !isUint8(type)) return null
  return { proto, type, payload }
}

/**
 * Protocol and type of a frame without decoding its payload, for statistics
 * over many frames (the payload is not checked). Small numbers are read from the
 * first bytes (msgpack's fixarray of three, two positive fixints); anything else
 * is decoded, and `null` if it is not a frame.
 */
export function frameHeader(bytes: Uint8Array): { proto: number; type: number } | null {
  if (bytes.length >= 3 && bytes[0] === 0x93 && bytes[1]! < 0x80 && bytes[2]! < 0x80) return { proto: bytes[1]!, type: bytes[2]! }
  const frame = decodeFrame(bytes)
  return frame === null ? null : { proto: frame.proto, type: frame.type }
}

export function isUint8(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 255
}

export function isUint(v: unknown, max = Number.MAX_SAFE_INTEGER): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max
}

export function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v)
}

export function isBytes(v: unknown, maxLength = MAX_MESSAGE_BYTES): v is Uint8Array {
  return v instanceof Uint8Array && v.length <= maxLength
}
