/** Character codes of '0'..'9', 'a'..'f'. */
const HEX_CODES = [48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 97, 98, 99, 100, 101, 102]

/** Scratch for the character codes of a 32-byte id, the common case (no array per call). */
const ID_CODES: number[] = new Array<number>(64).fill(0)

/**
 * Lower-case hex. Built from character codes in one go so the result is a flat
 * string: ids are Map keys on every received message, and a string built by
 * `+=` is a rope that must be flattened before each first hash.
 */
export function toHex(bytes: Uint8Array): string {
  const n = bytes.length * 2
  const codes = n === ID_CODES.length ? ID_CODES : new Array<number>(n)
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!
    codes[2 * i] = HEX_CODES[b >> 4]!
    codes[2 * i + 1] = HEX_CODES[b & 15]!
  }
  if (n <= 4096) return String.fromCharCode.apply(null, codes)
  let out = ''
  for (let i = 0; i < n; i += 4096) out += String.fromCharCode.apply(null, codes.slice(i, i + 4096))
  return out
}

/** Parses lower- or upper-case hex; returns null for odd length or non-hex characters. */
export function fromHex(hex: string): Uint8Array | null {
  if (hex.length % 2 !== 0) return null
  const out = new Uint8Array(hex.length / 2)
  for (let i = 0; i < out.length; i++) {
    const hi = hexDigit(hex.charCodeAt(2 * i))
    const lo = hexDigit(hex.charCodeAt(2 * i + 1))
    if (hi < 0 || lo < 0) return null
    out[i] = (hi << 4) | lo
  }
  return out
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48
  if (c >= 97 && c <= 102) return c - 87
  if (c >= 65 && c <= 70) return c - 55
  return -1
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** Lexicographic (big-endian) comparison: negative, zero or positive. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!
    if (d !== 0) return d
  }
  return a.length - b.length
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0
  for (const p of parts) total += p.length
  const out = new Uint8Array(total)
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text)
}
