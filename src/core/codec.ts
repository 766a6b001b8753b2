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

/** Deepest nesting of arrays and maps accepted from a remote (ours nest at most five deep). */
export const MAX_DEPTH = 32

/**
 * Decodes untrusted bytes; returns `undefined` on any malformed input (and on
 * nesting deeper than {@link MAX_DEPTH}, and on extension values), never throws.
 */
export function decodeValue(bytes: Uint8Array): unknown {
  if (!(bytes instanceof Uint8Array) || !wellFormed(bytes)) return undefined
  try {
    return decoder.decode(bytes)
  } catch {
    return undefined
  }
}

/** Items left to read in each open array or map (scratch: wellFormed runs to completion). */
const itemsLeft = new Float64Array(MAX_DEPTH + 1)

/**
 * One pass over msgpack bytes without building anything: false unless they hold
 * exactly one value, nested at most MAX_DEPTH deep, whose arrays and maps claim
 * no more items than there are bytes left. msgpack's decoder allocates an array
 * of the claimed length before reading its items, so without this a 60 KB frame
 * of nested 16 Ki-item array headers made it allocate 2.8 GB (docs/FUZZ.md).
 * Extension values are refused here too: maxExtLength 0 let empty ones through
 * as ExtData objects, which a check for "an object" takes.
 */
function wellFormed(b: Uint8Array): boolean {
  const n = b.length
  let pos = 0
  let depth = 0
  let pending = 1 // items still to read, over every open container
  itemsLeft[0] = 1
  while (depth >= 0) {
    if (itemsLeft[depth] === 0) {
      depth--
      continue
    }
    if (pos >= n) return false
    itemsLeft[depth]!--
    pending--
    const h = b[pos++]!
    let skip = 0
    let items = 0
    if (h <= 0x7f || h >= 0xe0 || h === 0xc0 || h === 0xc2 || h === 0xc3) {
      // a fixint, nil or a boolean: the header is the value
    } else if (h <= 0x8f) items = 2 * (h & 0x0f)
    else if (h <= 0x9f) items = h & 0x0f
    else if (h <= 0xbf) skip = h & 0x1f
    else {
      const at = 3 * (h - 0xc4)
      if (at < 0) return false // 0xc1, never used
      const lengthBytes = HEADS[at]!
      if (pos + lengthBytes > n) return false
      let length = 0
      for (let i = 0; i < lengthBytes; i++) length = length * 256 + b[pos + i]!
      pos += lengthBytes
      const kind = HEADS[at + 2]!
      if (kind === EXT) return false
      if (kind === ARRAY) items = length
      else if (kind === MAP) items = 2 * length
      else skip = HEADS[at + 1]! + length
    }
    pos += skip
    if (pos > n) return false
    if (items > 0) {
      pending += items
      if (pending > n - pos || depth === MAX_DEPTH) return false
      itemsLeft[++depth] = items
    }
  }
  return pos === n
}

const BYTES = 0
const ARRAY = 1
const MAP = 2
const EXT = 3
/**
 * Three numbers for each header from 0xc4: the bytes of its length field,
 * the bytes that follow besides the length (an ext's type byte, a number's
 * own bytes), and what the length counts.
 */
const HEADS = Uint8Array.of(
  1, 0, BYTES, 2, 0, BYTES, 4, 0, BYTES, // bin 8/16/32
  1, 1, EXT, 2, 1, EXT, 4, 1, EXT, // ext 8/16/32 (length, type)
  0, 4, BYTES, 0, 8, BYTES, // float 32/64
  0, 1, BYTES, 0, 2, BYTES, 0, 4, BYTES, 0, 8, BYTES, // uint 8..64
  0, 1, BYTES, 0, 2, BYTES, 0, 4, BYTES, 0, 8, BYTES, // int 8..64
  0, 2, EXT, 0, 3, EXT, 0, 5, EXT, 0, 9, EXT, 0, 17, EXT, // fixext 1..16 (type, data)
  1, 0, BYTES, 2, 0, BYTES, 4, 0, BYTES, // str 8/16/32
  2, 0, ARRAY, 4, 0, ARRAY, // array 16/32
  2, 0, MAP, 4, 0, MAP, // map 16/32
)

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
