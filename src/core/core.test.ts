import { describe, expect, it } from 'vitest'
import { compareBytes, concatBytes, equalBytes, fromHex, toHex } from './bytes.js'
import { MAX_MESSAGE_BYTES, decodeFrame, decodeValue, encodeFrame, frameHeader } from './codec.js'
import { P2PError } from './errors.js'
import { commonPrefixLength, compareDistance, idToBytes, parsePeerId, peerIdFromBytes, xorDistance } from './id.js'

describe('bytes', () => {
  it('round-trips hex and rejects malformed hex', () => {
    const b = new Uint8Array([0, 1, 127, 128, 255])
    expect(toHex(b)).toBe('00017f80ff')
    expect(fromHex('00017F80ff')).toEqual(b)
    expect(fromHex('abc')).toBeNull()
    expect(fromHex('zz')).toBeNull()
  })

  it('writes hex of every length the same way: empty, an id (its scratch path), and past one call of 4,096 codes', () => {
    for (const n of [0, 1, 31, 32, 33, 2048, 2049, 5000]) {
      const b = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 255)
      const hex = toHex(b)
      expect(hex).toBe(Buffer.from(b).toString('hex'))
      expect(fromHex(hex)).toEqual(b)
    }
    // The scratch of one id leaks nothing into the next.
    expect(toHex(new Uint8Array(32).fill(255))).toBe('f'.repeat(64))
    expect(toHex(new Uint8Array(32))).toBe('0'.repeat(64))
  })

  it('compares and concatenates', () => {
    expect(compareBytes(new Uint8Array([1, 2]), new Uint8Array([1, 3]))).toBeLessThan(0)
    expect(compareBytes(new Uint8Array([1, 2]), new Uint8Array([1, 2, 0]))).toBeLessThan(0)
    expect(equalBytes(concatBytes([new Uint8Array([1]), new Uint8Array([2, 3])]), new Uint8Array([1, 2, 3]))).toBe(true)
  })
})

describe('ids and XOR distance', () => {
  const id = (first: number, last = 0): Uint8Array => {
    const b = new Uint8Array(32)
    b[0] = first
    b[31] = last
    return b
  }

  it('computes XOR distance and compares it as big-endian bytes', () => {
    expect(xorDistance(id(0b1010), id(0b0110))[0]).toBe(0b1100)
    const target = id(0)
    // 0x80... is farther from 0 than 0x7f...ff even though its low bytes are smaller.
    expect(compareDistance(target, id(0x80, 0), id(0x7f, 0xff))).toBeGreaterThan(0)
    expect(compareDistance(target, id(1, 5), id(1, 5))).toBe(0)
  })

  it('counts the common prefix in bits', () => {
    expect(commonPrefixLength(id(0b1000_0000), id(0))).toBe(0)
    expect(commonPrefixLength(id(0b0000_0001), id(0))).toBe(7)
    expect(commonPrefixLength(id(0, 1), id(0, 0))).toBe(255)
    expect(commonPrefixLength(id(3, 3), id(3, 3))).toBe(256)
  })

  it('validates ids from untrusted input', () => {
    const hex = 'ab'.repeat(32)
    expect(parsePeerId(hex)).toBe(hex)
    expect(parsePeerId('AB'.repeat(32))).toBeNull()
    expect(parsePeerId('ab'.repeat(31))).toBeNull()
    expect(parsePeerId(42)).toBeNull()
    expect(peerIdFromBytes(new Uint8Array(31))).toBeNull()
    expect(idToBytes(parsePeerId(hex)!)).toEqual(new Uint8Array(32).fill(0xab))
  })
})

describe('frame codec', () => {
  it('keeps every small frame intact in the shared slab, across slab ends, and gives large frames a buffer of their own', () => {
    const frames: [Uint8Array, unknown][] = []
    // About 40 bytes each: 2,000 of them fill several 16 KiB slabs.
    for (let i = 0; i < 2000; i++) {
      const payload = [i, i * 0.5, 'm'.repeat(i % 20)]
      frames.push([encodeFrame(3, i % 7, payload), payload])
    }
    for (const [i, [bytes, payload]] of frames.entries()) {
      expect(bytes.length).toBeLessThanOrEqual(64)
      expect(decodeFrame(bytes)).toEqual({ proto: 3, type: i % 7, payload })
    }
    const large = encodeFrame(3, 1, new Uint8Array(500).fill(7))
    expect(large.byteOffset).toBe(0)
    expect(large.buffer.byteLength).toBe(large.length)
    expect(decodeFrame(large)?.payload).toEqual(new Uint8Array(500).fill(7))
  })

  it('round-trips frames', () => {
    const payload = [7, new Uint8Array([1, 2, 3]), { x: 1.5, y: -2 }]
    expect(decodeFrame(encodeFrame(1, 2, payload))).toEqual({ proto: 1, type: 2, payload })
  })

  it('returns null for anything that is not a frame', () => {
    expect(decodeFrame(new Uint8Array())).toBeNull()
    expect(decodeFrame(new Uint8Array([0xc1]))).toBeNull() // never-used msgpack byte
    expect(decodeFrame(encodeFrame(256, 0, null))).toBeNull()
    expect(decodeFrame(encodeFrame(1.5, 0, null))).toBeNull()
    expect(decodeFrame(decodeValue(new Uint8Array([0x93, 1, 2])) as Uint8Array)).toBeNull()
    // A bin header claiming far more than the frame limit.
    expect(decodeFrame(new Uint8Array([0x93, 1, 1, 0xc6, 0x7f, 0xff, 0xff, 0xff]))).toBeNull()
    expect(MAX_MESSAGE_BYTES).toBe(256 * 1024)
  })

  it('reads a frame header without its payload', () => {
    expect(frameHeader(encodeFrame(1, 4, [1, 2, 100, 3]))).toEqual({ proto: 1, type: 4 })
    expect(frameHeader(encodeFrame(200, 130, null))).toEqual({ proto: 200, type: 130 })
    expect(frameHeader(new Uint8Array([0xc1]))).toBeNull()
    expect(frameHeader(encodeFrame(256, 0, null))).toBeNull()
  })

  it('survives 10,000 random and mutated frames without throwing', () => {
    let seed = 12345
    const rand = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
      return seed % n
    }
    const valid = [
      encodeFrame(1, 1, [1, 2, 3]),
      encodeFrame(0, 2, [1, 0, new Uint8Array(64)]),
      encodeFrame(2, 9, { key: new Uint8Array(32), seq: 99, nested: [[1, [2, [3]]]] }),
      encodeFrame(0, 3, [new Uint8Array(32), new Uint8Array(32), 1, { t: 'offer', c: 1 }]),
    ]
    let decoded = 0
    for (let i = 0; i < 10_000; i++) {
      let bytes: Uint8Array
      if (i % 2 === 0) {
        bytes = new Uint8Array(rand(64))
        for (let j = 0; j < bytes.length; j++) bytes[j] = rand(256)
      } else {
        bytes = new Uint8Array(valid[rand(valid.length)]!)
        for (let m = 0, n = 1 + rand(4); m < n; m++) bytes[rand(bytes.length)] = rand(256)
        if (rand(4) === 0) bytes = bytes.subarray(0, rand(bytes.length))
      }
      if (decodeFrame(bytes) !== null) decoded++
    }
    // Some mutations still decode (a flipped payload byte); most do not.
    expect(decoded).toBeGreaterThan(0)
    expect(decoded).toBeLessThan(10_000)
  })
})

describe('errors', () => {
  it('carry a code', () => {
    const e = P2PError.QUEUE_FULL('MEDIUM')
    expect(e).toBeInstanceOf(Error)
    expect(e.code).toBe('QUEUE_FULL')
    expect(e.message).toContain('MEDIUM')
  })
})
