import { FuzzRng } from './fuzz-rng.js'

const MAX_NOISE_BYTES = 512 * 1024

/**
 * Values a decoder of remote input should be ready for: edges of every bound
 * the decoders check (ids of 31/32/33 bytes, 64 and 65 nodes, 2^32, 1e9 in
 * hundredths ...), what JavaScript gets wrong (NaN, -0, 2^53 + 2, '__proto__')
 * and plain random values of every type msgpack and JSON can carry.
 */
export const NUMBERS: readonly number[] = [
  0, -0, 1, -1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 15, 16, 17, 24, 25, 31, 32, 33, 63, 64, 65, 127, 128, 255, 256, 257,
  0xffff, 0x10000, 0xffffff, 0x1000000, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, 2 ** 53, 2 ** 53 + 2, 2 ** 64,
  -(2 ** 31), -(2 ** 32), -(2 ** 53), -(2 ** 63), 1e7, -1e7, 1e9, 1e9 + 1, -1e9, -1e9 - 1, 1e6, 1e6 + 1,
  0.5, -0.5, 1.5, 0.1, 1e-300, 5e-324, 1e300, Number.MAX_VALUE, -Number.MAX_VALUE, NaN, Infinity, -Infinity,
]

const HEX_ID = '0123456789abcdef'.repeat(4)

export const STRINGS: readonly string[] = [
  '', ' ', 'a', '\0', '\0\0\0', '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'length',
  'offer', 'answer', 'candidate', 'pranswer', 'rollback', 'renegotiate', 'transceiverRequest', 'type', 'sdp', 'sdpMid', 'sdpMLineIndex',
  'auth', 'join', 'signal', 'challenge', 'welcome', 'ice', 'peers', 'error', 't', 'v', 'to', 'from', 'urls', 'username', 'credential', 'ticket', 'tk', 'now', 'at', 'sig',
  'open', 'eim', 'restricted', 'symmetric', 'unknown', 'player/', 'main', '_n', '_r', '_v',
  '\u202e', '\u200b', '\u2028', '\ufeff', '\ud800', '\udc00', '\ud83d\ude00', 'é', 'e\u0301', '\n', '\r\n', '\t', '\u0085', '\u00a0',
  'a'.repeat(31), 'a'.repeat(32), 'a'.repeat(33), 'a'.repeat(40), 'a'.repeat(41), 'a'.repeat(64), 'a'.repeat(65), 'a'.repeat(128), 'a'.repeat(129),
  'x'.repeat(256), 'x'.repeat(257), 'x'.repeat(280), 'x'.repeat(281), 'x'.repeat(1024), 'x'.repeat(1025),
  '\u0301'.repeat(40), '\ud83d\ude00'.repeat(20), ' '.repeat(40),
  HEX_ID, HEX_ID.toUpperCase(), HEX_ID.slice(1), `${HEX_ID}0`, `${HEX_ID.slice(1)}g`, `${HEX_ID.slice(1)}\uff10`,
  'stun:example.org', 'stun:', 'turn:example.org:3478', 'turns:x?transport=tcp', 'stun:/x', 'http://x',
  'a=fingerprint:sha-256 AB:CD:EF\r\n', `a=fingerprint:${'x'.repeat(200)}`, 'candidate:1 1 udp 1 1.2.3.4 5 typ host', ' typ relay ',
  'image/png', 'text/plain', '1e999', 'NaN', '-0', 'null', 'true', '[]', '{}',
]

/** Lengths that sit on a bound somewhere: a peer id, a signature, a HELLO, a manifest, a chunk, a DHT message, a link message. */
export const LENGTHS: readonly number[] = [
  0, 1, 2, 3, 4, 5, 8, 16, 31, 32, 33, 63, 64, 65, 128, 129, 130, 256, 257, 512, 513, 1024, 1025, 2048, 2049, 4096,
  16384, 16385, 16406, 24576, 24577, 65536, 262144, 262145,
]

/** Huge strings are built once: a 70 K string per frame would make the fuzzer, not the decoder, the cost. */
const HUGE_STRINGS: readonly string[] = ['a'.repeat(65_535), 'a'.repeat(65_537), '\u00e9'.repeat(40_000), '\ud83d\ude00'.repeat(20_000)]

/** Characters that random strings draw from: ASCII, controls, format characters, combining marks, surrogates. */
const ALPHABET = [
  ...'abcdefxyzABC0129 _.-/:;,"\'\\{}[]=',
  '\0', '\x01', '\x1f', '\x7f', '\x85', '\u00a0', '\u0301', '\u200b', '\u200d', '\u202e', '\u2066', '\u2028', '\ufeff', '\ufffd',
  '\ud800', '\udfff', '\ud83d\ude00', 'é', '東', 'ア', '\uff10',
]

export function randomNumber(r: FuzzRng): number {
  const k = r.int(6)
  if (k === 0) return r.pick(NUMBERS)
  if (k === 1) return r.int(256)
  if (k === 2) return r.u32()
  if (k === 3) return (r.next() - 0.5) * 2 * 10 ** r.int(12)
  if (k === 4) return r.range(-1000, 1000)
  return r.u32() * 2 ** 21 + r.int(2 ** 21)
}

export function randomString(r: FuzzRng): string {
  const k = r.int(200)
  if (k < 80) return r.pick(STRINGS)
  if (k === 80) return r.pick(HUGE_STRINGS)
  return k < 180 ? r.pick(MIXED_STRINGS) : mixedString(r)
}

function mixedString(r: FuzzRng): string {
  let s = ''
  for (let i = 0, n = r.size(80); i < n; i++) s += r.pick(ALPHABET)
  return s
}

/** Random strings made once: most frames take one of these, a few make their own. */
const MIXED_STRINGS: readonly string[] = ((r) => Array.from({ length: 1024 }, () => mixedString(r)))(new FuzzRng('strings'))

export function randomBytes(r: FuzzRng): Uint8Array {
  const n = r.chance(0.7) ? r.pick(SMALL_LENGTHS) : r.chance(0.95) ? r.size(4096) : r.pick(LENGTHS)
  return r.chance(0.3) ? new Uint8Array(n).fill(r.pick([0, 0xff, r.int(256)])) : noise(r, n)
}

const SMALL_LENGTHS = LENGTHS.slice(0, 14)

/**
 * Random bytes, fresh when few, else a view into one fixed block of noise made
 * once (a quarter megabyte drawn per frame would make the fuzzer, not the
 * decoder, the cost). Nothing writes into a view: mutations copy.
 */
export function noise(r: FuzzRng, n: number): Uint8Array {
  if (n <= 64) return r.bytes(n)
  const at = r.int(NOISE.length - n + 1)
  return NOISE.subarray(at, at + n)
}

const NOISE = new FuzzRng('noise').bytes(MAX_NOISE_BYTES)

/**
 * A random value of any type msgpack or JSON carries (and `undefined`, which a
 * direct caller might pass); most from a set made once, as with strings.
 */
export function randomValue(r: FuzzRng): unknown {
  return r.chance(0.8) ? r.pick(VALUES) : freshValue(r)
}

function freshValue(r: FuzzRng, depth = 0): unknown {
  const k = r.int(depth >= 3 ? 6 : 9)
  switch (k) {
    case 0:
      return r.pick([null, null, true, false, undefined])
    case 1:
    case 2:
      return randomNumber(r)
    case 3:
    case 4:
      return randomString(r)
    case 5:
      return randomBytes(r)
    case 6:
    case 7: {
      const n = r.chance(0.95) ? r.size(8) : r.pick(LENGTHS.slice(0, 24))
      return Array.from({ length: n }, () => freshValue(r, depth + 1))
    }
    default: {
      const o: Record<string, unknown> = {}
      for (let i = 0, n = r.size(6); i < n; i++) setKey(o, r.chance(0.5) ? r.pick(STRINGS) : String(r.int(8)), freshValue(r, depth + 1))
      return o
    }
  }
}

/** Sets a key as its own property, `__proto__` included (as JSON.parse and msgpack maps make them). */
export function setKey(o: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true })
  else o[key] = value
}

const VALUES: readonly unknown[] = ((r) => Array.from({ length: 2048 }, () => freshValue(r)))(new FuzzRng('values'))

/** A random 32-byte id, most of the time distinct from every other. */
export function randomId(r: FuzzRng): Uint8Array {
  return r.bytes(32)
}
