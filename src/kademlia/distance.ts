import type { Rng } from '../core/env.js'
import { ID_BYTES, compareDistance } from '../core/id.js'

/** Anything with an id's bytes, ordered by XOR distance to a target. */
export interface HasIdBytes {
  readonly bytes: Uint8Array
}

/**
 * Sorts in place, closest to `target` first. Keys are the first 48 bits of the
 * XOR distance (exact in a double); ties fall back to the full big-endian
 * comparison, so the order is exact.
 */
export function sortByDistance<T extends HasIdBytes>(target: Uint8Array, items: T[]): T[] {
  if (items.length < 2) return items
  const keyed = items.map((item) => ({ item, key: prefixKey(target, item.bytes) }))
  keyed.sort((a, b) => a.key - b.key || compareDistance(target, a.item.bytes, b.item.bytes))
  for (let i = 0; i < keyed.length; i++) items[i] = keyed[i]!.item
  return items
}

function prefixKey(target: Uint8Array, bytes: Uint8Array): number {
  let key = 0
  for (let i = 0; i < 6; i++) key = key * 256 + (target[i]! ^ bytes[i]!)
  return key
}

/** Index at which the id in `bytes` at `off` keeps `sorted` (closest first) in order; binary search. */
export function insertionIndex<T extends HasIdBytes>(target: Uint8Array, sorted: readonly T[], bytes: Uint8Array, off = 0): number {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (compareDistanceAt(target, sorted[mid]!.bytes, 0, bytes, off) < 0) lo = mid + 1
    else hi = mid
  }
  return lo
}

/**
 * A uniformly random id in bucket `bucket` of `self`: it shares the first
 * `bucket` bits with `self` and differs in the next one.
 */
export function randomIdInBucket(self: Uint8Array, bucket: number, rng: Rng): Uint8Array {
  const out = rng.bytes(ID_BYTES)
  const byte = bucket >> 3
  const bit = 7 - (bucket & 7)
  for (let i = 0; i < byte; i++) out[i] = self[i]!
  const high = 0xff << (bit + 1) // bits above `bit` in this byte come from self
  const flip = 1 << bit
  out[byte] = (self[byte]! & high & 0xff) | ((self[byte]! ^ flip) & flip) | (out[byte]! & (flip - 1))
  return out
}

/** Like compareDistance, for ids at offsets of larger buffers. */
export function compareDistanceAt(target: Uint8Array, a: Uint8Array, aOff: number, b: Uint8Array, bOff: number): number {
  for (let i = 0; i < ID_BYTES; i++) {
    const d = (a[aOff + i]! ^ target[i]!) - (b[bOff + i]! ^ target[i]!)
    if (d !== 0) return d
  }
  return 0
}

export function equalAt(a: Uint8Array, b: Uint8Array, bOff: number): boolean {
  for (let i = 0; i < ID_BYTES; i++) if (a[i] !== b[bOff + i]) return false
  return true
}

const HEX_PAIRS = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

/** Hex of the 32-byte id at `off` (a PeerId), without the intermediate copies of a generic encoder. */
export function hexAt(bytes: Uint8Array, off: number): string {
  let s = ''
  for (let i = 0; i < ID_BYTES; i++) s += HEX_PAIRS[bytes[off + i]!]!
  return s
}
