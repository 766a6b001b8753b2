import { Decoder, ExtData } from '@msgpack/msgpack'
import { describe, expect, it } from 'vitest'
import { sameValue } from '../fuzz/bounds.js'
import { FakeCrypto } from '../fuzz/fake-crypto.js'
import { FuzzRng } from '../fuzz/fuzz-rng.js'
import { Gen } from '../fuzz/gen.js'
import { anyFrame } from '../fuzz/seeds.js'
import { MAX_DEPTH, MAX_MESSAGE_BYTES, decodeValue } from './codec.js'

/** msgpack's decoder with the codec's limits, without its checks of the bytes first. */
const plain = new Decoder({ maxStrLength: 64 * 1024, maxBinLength: MAX_MESSAGE_BYTES, maxArrayLength: 16 * 1024, maxMapLength: 1024, maxExtLength: 0 })

function repeat(unit: number[], count: number, tail: number[] = []): Uint8Array {
  const out = new Uint8Array(unit.length * count + tail.length)
  for (let i = 0; i < count; i++) out.set(unit, i * unit.length)
  out.set(tail, unit.length * count)
  return out
}

function depth(v: unknown): number {
  let d = 0
  while (Array.isArray(v) && v.length > 0) {
    v = v[0]
    d++
  }
  return d
}

/** How deep arrays and maps that hold something nest in `v`; Infinity when it holds an extension value. */
function nesting(v: unknown): number {
  if (v instanceof ExtData) return Infinity
  const items = Array.isArray(v) ? v : typeof v === 'object' && v !== null && !(v instanceof Uint8Array) ? Object.values(v) : []
  return items.length === 0 ? 0 : 1 + Math.max(...items.map(nesting))
}

describe('codec limits on remote bytes', () => {
  it('refuses array heads that claim more items than bytes remain, without allocating them (found by fuzzing)', () => {
    // 87 K nested heads each claiming 16 Ki items: msgpack alone allocated gigabytes for this 256 KiB frame.
    const bomb = repeat([0xdc, 0x40, 0x00], Math.floor(MAX_MESSAGE_BYTES / 3))
    const before = process.memoryUsage().rss
    const t = performance.now()
    expect(decodeValue(bomb)).toBeUndefined()
    expect(performance.now() - t).toBeLessThan(50)
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * 2 ** 20)
    expect(decodeValue(Uint8Array.of(0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0))).toBeUndefined()
    expect(decodeValue(Uint8Array.of(0xdf, 0x00, 0x00, 0x00, 0x02, 0xa1, 0x61, 0xc0))).toBeUndefined() // a map of 2 with 1 entry
  })

  it('refuses extension values, even empty ones (msgpack let them through as ExtData objects)', () => {
    expect(decodeValue(Uint8Array.of(0xc7, 0x00, 0x05))).toBeUndefined()
    expect(decodeValue(Uint8Array.of(0x92, 0x01, 0xd4, 0x05, 0x00))).toBeUndefined()
    expect(plain.decode(Uint8Array.of(0xc7, 0x00, 0x05))).toBeInstanceOf(ExtData)
  })

  it(`takes nesting ${MAX_DEPTH} deep and refuses deeper`, () => {
    expect(depth(decodeValue(repeat([0x91], MAX_DEPTH, [0xc0])))).toBe(MAX_DEPTH)
    expect(depth(decodeValue(repeat([0x91], MAX_DEPTH, [0x90])))).toBe(MAX_DEPTH) // an empty array holds nothing deeper
    expect(decodeValue(repeat([0x91], MAX_DEPTH + 1, [0xc0]))).toBeUndefined()
    expect(decodeValue(repeat([0x81, 0xa1, 0x61], MAX_DEPTH + 1, [0xc0]))).toBeUndefined()
    expect(decodeValue(repeat([0x91], 200_000, [0xc0]))).toBeUndefined()
  })

  it('refuses exactly what msgpack refuses, within the depth bound, on 20,000 mutated frames', () => {
    const gen = new Gen(new FuzzRng('codec-limits'))
    const keyPair = new FakeCrypto().keyPairFromSeed(new Uint8Array(32))
    let both = 0
    for (let i = 0; i < 20_000; i++) {
      const bytes = gen.bytes(() => anyFrame(gen.r, keyPair))
      if (bytes.length > 2048) continue // msgpack alone may allocate megabytes per nested head
      let ref: unknown
      try {
        ref = plain.decode(bytes)
      } catch {
        ref = undefined
      }
      const ours = decodeValue(bytes)
      if (ours !== undefined) {
        both++
        expect(sameValue(ours, ref)).toBe(true)
      } else if (ref !== undefined) expect(nesting(ref)).toBeGreaterThan(MAX_DEPTH) // the only things refused beyond msgpack
    }
    expect(both).toBeGreaterThan(1000)
  })
})
