import { describe, expect, it } from 'vitest'
import { MAX_MESSAGE_BYTES } from '../core/codec.js'
import { MAX_PIECES, Reassembler } from './reassembler.js'

describe('reassembler', () => {
  it('rebuilds a message from its pieces, each class on its own', () => {
    const re = new Reassembler()
    expect(re.push([0, 0, Uint8Array.of(1, 2)])).toBeUndefined()
    expect(re.push([2, 0, Uint8Array.of(9)])).toBeUndefined()
    expect(re.push([0, 1, Uint8Array.of(3)])).toEqual(Uint8Array.of(1, 2, 3))
    expect(re.pendingBytes).toBe(1)
    expect(re.push([2, 1, Uint8Array.of()])).toEqual(Uint8Array.of(9))
    expect(re.pendingBytes).toBe(0)
  })

  it('takes a message in MAX_PIECES pieces and drops one in more (found by fuzzing: empty pieces piled up forever)', () => {
    const re = new Reassembler()
    for (let i = 0; i < MAX_PIECES - 1; i++) expect(re.push([1, 0, Uint8Array.of(i & 255)])).toBeUndefined()
    expect(re.push([1, 1, Uint8Array.of(7)])?.length).toBe(MAX_PIECES)
    for (let i = 0; i < MAX_PIECES; i++) expect(re.push([2, 0, new Uint8Array(0)])).toBeUndefined()
    expect(re.push([2, 0, new Uint8Array(0)])).toBeNull() // the partial message is dropped
    expect(re.push([2, 1, Uint8Array.of(5)])).toEqual(Uint8Array.of(5))
    // A 256 KiB message in the scheduler's smallest pieces (one fragment unit less its header) fits.
    expect(Math.ceil(MAX_MESSAGE_BYTES / (1163 - 12))).toBeLessThan(MAX_PIECES)
  })

  it('drops a message over the size limit and refuses malformed pieces without a change', () => {
    const re = new Reassembler()
    expect(re.push([0, 0, new Uint8Array(MAX_MESSAGE_BYTES)])).toBeUndefined()
    for (const bad of [null, [0, 0], [3, 0, Uint8Array.of(1)], [0, 2, Uint8Array.of(1)], [0, 0, [1]], [0, 0, new Uint8Array(MAX_MESSAGE_BYTES + 1)]]) {
      expect(re.push(bad)).toBeNull()
      expect(re.pendingBytes).toBe(MAX_MESSAGE_BYTES)
    }
    expect(re.push([0, 1, Uint8Array.of(1)])).toBeNull()
    expect(re.pendingBytes).toBe(0)
  })
})
