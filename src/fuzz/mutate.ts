import type { FuzzRng } from './fuzz-rng.js'
import { LENGTHS, NUMBERS, STRINGS, noise, randomBytes, randomNumber, randomString, randomValue, setKey } from './values.js'

/**
 * Mutations of valid inputs. Structure-aware ones work on a decoded value
 * (copying the path to what they change, never the input), byte-level ones on
 * encoded msgpack, text ones on JSON.
 */

type Obj = Record<string, unknown>

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array)
}

function copyObj(o: Obj): Obj {
  const out: Obj = {}
  for (const k of Object.keys(o)) setKey(out, k, o[k])
  return out
}

/** One structural change somewhere in `v`; `donor` lends subtrees (a splice from another valid message). */
export function mutateValue(r: FuzzRng, v: unknown, donor?: unknown, depth = 0): unknown {
  if (depth < 40 && r.chance(0.65)) {
    if (Array.isArray(v) && v.length > 0) {
      const out = v.slice()
      const i = r.int(out.length)
      out[i] = mutateValue(r, out[i], donor, depth + 1)
      return out
    }
    if (isObj(v)) {
      const keys = Object.keys(v)
      if (keys.length > 0) {
        const out = copyObj(v)
        const k = r.pick(keys)
        setKey(out, k, mutateValue(r, out[k], donor, depth + 1))
        return out
      }
    }
  }
  return mutateHere(r, v, donor)
}

function mutateHere(r: FuzzRng, v: unknown, donor: unknown): unknown {
  const k = r.int(10)
  if (k === 0) return randomValue(r)
  if (k === 1) return swapType(r, v)
  if (k === 2) return nest(r, v)
  if (k === 3 && donor !== undefined) return pickSubtree(r, donor)
  if (typeof v === 'number') return mutateNumber(r, v)
  if (typeof v === 'string') return mutateString(r, v)
  if (v instanceof Uint8Array) return r.chance(0.5) ? mutateBytes(r, v) : resize(r, v)
  if (Array.isArray(v)) return mutateArray(r, v)
  if (isObj(v)) return mutateObject(r, v)
  return r.pick([null, undefined, true, false, 0, 1, '', [], {}])
}

function pickSubtree(r: FuzzRng, v: unknown): unknown {
  while (r.chance(0.6)) {
    if (Array.isArray(v) && v.length > 0) v = r.pick(v)
    else if (isObj(v) && Object.keys(v).length > 0) v = v[r.pick(Object.keys(v))]
    else break
  }
  return v
}

function mutateNumber(r: FuzzRng, v: number): number {
  switch (r.int(8)) {
    case 0:
      return v + 1
    case 1:
      return v - 1
    case 2:
      return -v
    case 3:
      return v * r.pick([2, 100, 1e6, 2 ** 32])
    case 4:
      return v + r.pick([0.5, 1e-9, 0.01])
    case 5:
      return randomNumber(r)
    default:
      return r.pick(NUMBERS)
  }
}

function mutateString(r: FuzzRng, v: string): string {
  const at = r.int(v.length + 1)
  switch (r.int(7)) {
    case 0:
      return v.slice(0, at)
    case 1:
      return v.slice(0, at) + randomString(r) + v.slice(at)
    case 2:
      return v.toUpperCase()
    case 3:
      return v.repeat(Math.max(1, Math.min(r.pick([2, 3, 64, 1000]), Math.floor(70_000 / (v.length + 1)))))
    case 4:
      return v.slice(0, at) + String.fromCharCode(r.int(0x10000)) + v.slice(at + 1)
    case 5:
      return r.pick(STRINGS)
    default:
      return randomString(r)
  }
}

/** A copy of `v` at a length that sits on some bound (the large ones less often: they cost the most to build). */
function resize(r: FuzzRng, v: Uint8Array): Uint8Array {
  const n = r.chance(0.85) ? r.pick(SMALL_LENGTHS) : r.pick(LENGTHS)
  const out = new Uint8Array(n)
  out.set(v.subarray(0, n))
  if (n > v.length && r.chance(0.5)) out.set(noise(r, n - v.length), v.length)
  return out
}

const SMALL_LENGTHS = LENGTHS.filter((n) => n <= 2049)

function mutateArray(r: FuzzRng, v: unknown[]): unknown[] {
  const out = v.slice()
  const i = r.int(out.length + 1)
  switch (r.int(8)) {
    case 0:
      out.splice(i, 1)
      break
    case 1:
      out.splice(i, 0, randomValue(r))
      break
    case 2:
      if (out.length > 0) out.splice(i, 0, out[Math.min(i, out.length - 1)])
      break
    case 3:
      if (out.length > 1) {
        const j = r.int(out.length)
        const k = r.int(out.length);
        [out[j], out[k]] = [out[k], out[j]]
      }
      break
    case 4:
      out.length = r.int(out.length + 1)
      break
    case 5: {
      // Grow to a length on some bound, by copies of its own items (a list of valid-looking entries).
      const n = r.chance(0.98) ? r.pick(LENGTHS.slice(0, 22)) : 16_385
      const fill = out.length > 0 ? out : [randomValue(r)]
      for (let j = out.length; j < n; j++) out.push(fill[j % fill.length])
      break
    }
    case 6:
      out.reverse()
      break
    default:
      for (let j = r.range(1, 4); j > 0; j--) out.push(randomValue(r))
  }
  return out
}

function mutateObject(r: FuzzRng, v: Obj): Obj {
  const out = copyObj(v)
  const keys = Object.keys(out)
  const k = r.int(4)
  if (k === 0 && keys.length > 0) delete out[r.pick(keys)]
  else if (k === 1 && keys.length > 0) {
    const from = r.pick(keys)
    const value = out[from]
    delete out[from]
    setKey(out, r.pick(STRINGS), value)
  } else setKey(out, r.pick(STRINGS), randomValue(r))
  return out
}

/** The same content as another type: a number as a string, bytes as an array, an array as a map ... */
function swapType(r: FuzzRng, v: unknown): unknown {
  if (typeof v === 'number') return r.pick([String(v), [v], Uint8Array.of(v & 255), v === 0 ? false : true, { v }])
  if (typeof v === 'string') return r.pick([Number(v), new TextEncoder().encode(v), [...v].slice(0, 64), { [v.slice(0, 8)]: v }])
  if (v instanceof Uint8Array) return r.pick([Array.from(v.subarray(0, 4096)), String.fromCharCode(...v.subarray(0, 4096)), v.length, null])
  if (Array.isArray(v)) return r.pick([{ ...v }, v[0], v.length, new Uint8Array(v.length)])
  if (isObj(v)) return r.pick([Object.values(v), Object.entries(v), JSON.stringify(Object.keys(v))])
  return r.pick([0, '', new Uint8Array(0), [], {}, null])
}

/** Wraps `v` in arrays or maps, to depths around the codec's nesting bound. */
function nest(r: FuzzRng, v: unknown): unknown {
  const n = r.pick([1, 2, 3, 8, 31, 32, 33, 64, 200])
  const asMap = r.chance(0.3)
  for (let i = 0; i < n; i++) v = asMap ? { a: v } : [v]
  return v
}

/** msgpack heads that claim huge or edge lengths, and numbers JavaScript handles badly. */
const HEADERS: readonly Uint8Array[] = ([
  [0xdd, 0xff, 0xff, 0xff, 0xff], [0xdc, 0xff, 0xff], [0xdc, 0x40, 0x00], [0xdc, 0x40, 0x01], [0x9f],
  [0xdf, 0xff, 0xff, 0xff, 0xff], [0xde, 0x04, 0x00], [0xde, 0x04, 0x01], [0x8f],
  [0xdb, 0x7f, 0xff, 0xff, 0xff], [0xda, 0xff, 0xff], [0xd9, 0xff], [0xbf],
  [0xc6, 0xff, 0xff, 0xff, 0xff], [0xc6, 0x00, 0x04, 0x00, 0x01], [0xc5, 0xff, 0xff], [0xc4, 0x20], [0xc4, 0x1f], [0xc4, 0x21], [0xc4, 0x40],
  [0xc9, 0xff, 0xff, 0xff, 0xff, 0x01], [0xc7, 0x00, 0x05], [0xc7, 0x01, 0x05, 0x00], [0xd4, 0xff, 0x00], [0xd6, 0xff, 0, 0, 0, 0],
  [0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0], [0xcb, 0x7f, 0xf0, 0, 0, 0, 0, 0, 0], [0xcb, 0xff, 0xf0, 0, 0, 0, 0, 0, 0],
  [0xcb, 0x80, 0, 0, 0, 0, 0, 0, 0], [0xcb, 0x3f, 0xe0, 0, 0, 0, 0, 0, 0], [0xca, 0x7f, 0xc0, 0, 0],
  [0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], [0xcf, 0x00, 0x20, 0, 0, 0, 0, 0, 2], [0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0],
  [0xce, 0xff, 0xff, 0xff, 0xff], [0xd2, 0x80, 0, 0, 0], [0xcc, 0xff], [0xd0, 0x80], [0xc1], [0xc0], [0xc2], [0xc3], [0x93], [0x90], [0x80],
] as number[][]).map((h) => Uint8Array.from(h))

/**
 * Nesting: runs of one-item arrays or maps, or of array heads claiming 16 Ki
 * items, around the depth bound and (less often: they are large) far past it.
 */
function nestingRuns(counts: readonly number[]): Uint8Array[] {
  return [[0x91], [0x81, 0xa1, 0x61], [0xdc, 0x40, 0x00], [0xdd, 0x00, 0x00, 0xff, 0xff]].flatMap((unit) =>
    counts.map((count) => {
      const run = new Uint8Array(unit.length * count)
      for (let i = 0; i < count; i++) run.set(unit, i * unit.length)
      return run
    }),
  )
}
const SHALLOW_RUNS = nestingRuns([8, 31, 32, 33, 100])
const DEEP_RUNS = nestingRuns([1000, 20_000])

const BYTE_EDGES = [0x00, 0x01, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc4, 0xcb, 0xd9, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xff]

/** One byte-level change; always a new array. `donor` lends a range (a splice). */
export function mutateBytes(r: FuzzRng, b: Uint8Array, donor?: Uint8Array): Uint8Array {
  const n = b.length
  const at = r.int(n + 1)
  switch (r.int(12)) {
    case 0:
    case 1: {
      if (n === 0) return Uint8Array.of(r.int(256))
      const c = b.slice()
      c[r.int(n)]! ^= 1 << r.int(8)
      return c
    }
    case 2: {
      if (n === 0) return Uint8Array.of(r.pick(BYTE_EDGES))
      const c = b.slice()
      c[r.int(n)] = r.chance(0.5) ? r.pick(BYTE_EDGES) : r.int(256)
      return c
    }
    case 3:
      return b.slice(0, r.int(n + 1))
    case 4:
      return splice(b, at, r.chance(0.97) ? r.bytes(r.range(1, 16)) : noise(r, r.pick(LENGTHS)))
    case 5:
      return splice(b, at, EMPTY, r.range(1, 16))
    case 6:
    case 7: {
      const h = r.pick(HEADERS)
      return splice(b, at, h, r.chance(0.5) ? h.length : 0)
    }
    case 8:
      return splice(b, at, r.pick(r.chance(0.9) ? SHALLOW_RUNS : DEEP_RUNS))
    case 9: {
      const from = r.int(n + 1)
      return splice(b, at, b.subarray(from, from + r.range(1, 64)))
    }
    case 10:
      if (donor !== undefined && donor.length > 0) {
        const from = r.int(donor.length)
        return splice(b, at, donor.subarray(from, from + r.range(1, donor.length - from)), r.int(32))
      }
      return splice(b, at, randomBytes(r).subarray(0, 64))
    default:
      return r.chance(0.5) ? randomBytes(r) : splice(b, at, Uint8Array.of(r.int(256)), 1)
  }
}

const EMPTY = new Uint8Array(0)

/** `b` with `cut` bytes at `at` replaced by `bytes`: a new array. */
function splice(b: Uint8Array, at: number, bytes: Uint8Array, cut = 0): Uint8Array {
  const n = b.length
  const end = Math.min(n, at + cut)
  const res = new Uint8Array(n - (end - at) + bytes.length)
  res.set(b.subarray(0, at))
  res.set(bytes, at)
  res.set(b.subarray(end), at + bytes.length)
  return res
}

const JSON_TOKENS = [
  '{', '}', '[', ']', '"', ':', ',', 'null', 'true', '1e999', '-1e999', '-0', '1.5', '9007199254740993', '\\u0000', '\\ud800',
  '"__proto__":1,', '"t":"signal",', '"constructor":{},', ' ', '\n', '"\\"', '\u2028',
]

/** One change to JSON text. */
export function mutateText(r: FuzzRng, s: string): string {
  const at = r.int(s.length + 1)
  switch (r.int(8)) {
    case 0:
      return s.slice(0, at)
    case 1:
    case 2:
      return s.slice(0, at) + r.pick(JSON_TOKENS) + s.slice(at)
    case 3:
      return s.slice(0, at) + s.slice(at + r.range(1, 8))
    case 4:
      return s.slice(0, at) + String.fromCharCode(r.int(0x10000)) + s.slice(at + 1)
    case 5: {
      const n = r.pick([10, 100, 1000, 10_000, 40_000])
      return s.slice(0, at) + '['.repeat(n) + ']'.repeat(r.chance(0.5) ? n : 0) + s.slice(at)
    }
    case 6:
      return s.slice(0, at) + randomString(r) + s.slice(at)
    default: {
      const from = r.int(s.length + 1)
      return s.slice(0, at) + s.slice(from, from + r.range(1, 64)) + s.slice(at)
    }
  }
}
