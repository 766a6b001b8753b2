import { ExtData } from '@msgpack/msgpack'
import { MAX_DEPTH, MAX_MESSAGE_BYTES } from '../core/codec.js'
import { need } from './target.js'

/** Checks shared by the targets: what "a valid id" or "a bounded value" means. */

export function isHexId(v: unknown): boolean {
  return typeof v === 'string' && /^[0-9a-f]{64}$/.test(v)
}

export function isBytesOf(v: unknown, length: number): v is Uint8Array {
  return v instanceof Uint8Array && v.length === length
}

export function isUintMax(v: unknown, max: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max
}

/** Finite and within ±max. */
export function isCoord(v: unknown, max: number): boolean {
  return typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= max
}

/** Control, format and line-breaking characters: what sanitized text never holds. */
export function hasUnsafeChars(s: string): boolean {
  return /[\p{Cc}\p{Cf}\u2028\u2029]/u.test(s)
}

/**
 * What the codec may hand a decoder: nil, booleans, numbers, strings (64 Ki),
 * bytes (256 KiB), arrays (16 Ki items) and maps (1 Ki entries), the arrays
 * and maps that hold items nested at most MAX_DEPTH deep; no extension values.
 * Walked without recursion.
 */
export function needCodecBounds(root: unknown): void {
  const stack: [unknown, number][] = [[root, 0]]
  let seen = 0
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!
    need(++seen <= MAX_MESSAGE_BYTES, 'more values than bytes')
    if (v === null || typeof v === 'boolean' || typeof v === 'number') continue
    if (typeof v === 'string') {
      need(v.length <= 64 * 1024, `string of ${v.length}`)
      continue
    }
    if (v instanceof Uint8Array) {
      need(v.length <= MAX_MESSAGE_BYTES, `bytes of ${v.length}`)
      continue
    }
    if (Array.isArray(v)) {
      need(v.length <= 16 * 1024 && (depth < MAX_DEPTH || v.length === 0), `array of ${v.length} at depth ${depth}`)
      for (const x of v) stack.push([x, depth + 1])
      continue
    }
    need(typeof v === 'object' && v !== undefined && !(v instanceof ExtData), `a ${v instanceof ExtData ? 'extension value' : typeof v}`)
    const o = v as Record<string, unknown>
    const keys = Object.keys(o)
    need(keys.length <= 1024 && (depth < MAX_DEPTH || keys.length === 0), `map of ${keys.length} at depth ${depth}`)
    for (const k of keys) stack.push([o[k], depth + 1])
  }
}

/**
 * Deep equality for decoded messages: numbers by value (0 equals -0, NaN
 * equals NaN), bytes by content, arrays and plain objects by own keys.
 */
export function sameValue(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return a === b || (Number.isNaN(a) && Number.isNaN(b))
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    if (!(a instanceof Uint8Array && b instanceof Uint8Array) || a.length !== b.length) return false
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
    return true
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!(Array.isArray(a) && Array.isArray(b)) || a.length !== b.length) return false
    return a.every((x, i) => sameValue(x, b[i]))
  }
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
    const ka = Object.keys(a)
    const kb = Object.keys(b)
    if (ka.length !== kb.length) return false
    return ka.every((k) => Object.hasOwn(b, k) && sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
  }
  return a === b
}

/** What a decoded message re-encoded and decoded again must give: itself. */
export function needRoundTrip<T>(out: T, again: T | null, what: string): void {
  need(again !== null && sameValue(out, again), `${what}: re-encoding the decoded message does not give it back`)
}
