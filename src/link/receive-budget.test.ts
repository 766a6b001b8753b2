import { describe, expect, it } from 'vitest'
import { encodeFrame } from '../core/codec.js'
import type { PeerId } from '../core/id.js'
import { LINK_PROTO, LinkMsg, PROTOCOL } from './link-messages.js'
import { Penalties } from './peer-penalties.js'
import { Priority } from './priority.js'
import { ReceiveBudget, receiveClass, resolveReceiveBudget } from './receive-budget.js'

const ONE = { bytesPerSecond: 1000, burstBytes: 2000, framesPerSecond: 10, burstFrames: 20 }

describe('ReceiveBudget', () => {
  it('lets a burst through, then the sustained rate of frames and of bytes, per class', () => {
    const b = new ReceiveBudget(resolveReceiveBudget({ classes: [ONE, ONE, ONE] }), 0)
    let passed = 0
    for (let i = 0; i < 100; i++) if (b.take(Priority.HIGH, 10, 0)) passed++
    expect(passed).toBe(20) // the burst of frames
    expect(b.take(Priority.MEDIUM, 10, 0)).toBe(true) // another class has its own buckets
    expect(b.take(Priority.HIGH, 10, 50)).toBe(false) // half a frame refilled
    expect(b.take(Priority.HIGH, 10, 100)).toBe(true) // one frame refilled after 100 ms
    // Bytes: a large frame waits for enough bytes even with frames to spare.
    const c = new ReceiveBudget(resolveReceiveBudget({ classes: [ONE, ONE, ONE] }), 0)
    expect(c.take(Priority.LOW, 1500, 0)).toBe(true)
    expect(c.take(Priority.LOW, 1500, 0)).toBe(false)
    expect(c.take(Priority.LOW, 1500, 1000)).toBe(true) // 500 + 1000 refilled
    // The buckets never hold more than the burst, however long the link was quiet.
    const d = new ReceiveBudget(resolveReceiveBudget({ classes: [ONE, ONE, ONE] }), 0)
    passed = 0
    for (let i = 0; i < 100; i++) if (d.take(Priority.HIGH, 1, 1_000_000)) passed++
    expect(passed).toBe(20)
  })

  it('closes after about one second of budget dropped, sooner the harder the flood, and forgets slowly', () => {
    const init = resolveReceiveBudget({ classes: [ONE, ONE, ONE] })
    const b = new ReceiveBudget(init, 0)
    // Each dropped frame of 10 bytes weighs 1/10 s (frames bind): the 11th closes.
    const drops: boolean[] = []
    for (let i = 0; i < 11; i++) drops.push(b.exceeded(Priority.HIGH, 10, 0))
    expect(drops.indexOf(true)).toBe(10)
    expect(b.dropped).toBe(11)
    // A 500-byte frame weighs 1/2 s (bytes bind).
    const c = new ReceiveBudget(init, 0)
    expect(c.exceeded(Priority.HIGH, 500, 0)).toBe(false)
    expect(c.exceeded(Priority.HIGH, 500, 0)).toBe(false) // exactly 1: not over
    expect(c.exceeded(Priority.HIGH, 500, 0)).toBe(true)
    // The excess decays with floodDecayMs (10 s): 0.9 s worth falls to a third in 11 s.
    const d = new ReceiveBudget(init, 0)
    for (let i = 0; i < 9; i++) d.exceeded(Priority.HIGH, 10, 0)
    expect(d.excessNow(11_000)).toBeCloseTo(0.9 * Math.exp(-1.1), 6)
    expect(d.exceeded(Priority.HIGH, 10, 11_000)).toBe(false)
  })

  it('charges fragments to the class they carry and whole frames to their protocol, without decoding', () => {
    const frag = (cls: number): Uint8Array => encodeFrame(LINK_PROTO, LinkMsg.FRAG, [cls, 0, new Uint8Array(1000)])
    expect([frag(0), frag(1), frag(2)].map(receiveClass)).toEqual([Priority.HIGH, Priority.MEDIUM, Priority.LOW])
    expect(receiveClass(encodeFrame(LINK_PROTO, LinkMsg.FRAG, [7, 0, new Uint8Array(1)]))).toBe(Priority.MEDIUM)
    expect(receiveClass(encodeFrame(LINK_PROTO, LinkMsg.PING, null))).toBe(Priority.HIGH)
    expect(receiveClass(encodeFrame(LINK_PROTO, LinkMsg.ECHO, 3))).toBe(Priority.HIGH)
    expect(receiveClass(encodeFrame(LINK_PROTO, LinkMsg.C_DOWN, [0, 1, new Uint8Array(5)]))).toBe(Priority.LOW)
    expect(receiveClass(encodeFrame(LINK_PROTO, LinkMsg.SIGNAL, []))).toBe(Priority.MEDIUM)
    expect(receiveClass(encodeFrame(PROTOCOL.VON, 3, { x: 1 }))).toBe(Priority.HIGH)
    expect(receiveClass(encodeFrame(PROTOCOL.ASSETS, 4, [1, new Uint8Array(16)]))).toBe(Priority.LOW)
    expect(receiveClass(encodeFrame(PROTOCOL.KADEMLIA, 1, null))).toBe(Priority.MEDIUM)
    expect(receiveClass(encodeFrame(PROTOCOL.TEST, 200, null))).toBe(Priority.MEDIUM) // two-byte numbers
    expect(receiveClass(new Uint8Array([0xc1]))).toBe(Priority.MEDIUM)
    expect(receiveClass(new Uint8Array([0x93, 0xcc]))).toBe(Priority.MEDIUM)
    expect(receiveClass(new Uint8Array([0x93, 0x00, 0x02, 0x93]))).toBe(Priority.MEDIUM)
  })
})

describe('Penalties', () => {
  const id = (i: number): PeerId => `peer-${i}` as PeerId

  it('ignores a misbehaving peer for a while, doubling for a repeat offender, within a bounded map', () => {
    const p = new Penalties({ ignoreMs: 1000, maxIgnoreMs: 4000, maxPeers: 3 })
    expect(p.ignores(id(1), 0)).toBe(false)
    expect(p.punish(id(1), 0)).toBe(1000)
    expect(p.ignores(id(1), 999)).toBe(true)
    expect(p.ignores(id(1), 1000)).toBe(false)
    expect(p.punish(id(1), 1500)).toBe(2000) // again soon after: twice as long
    expect(p.punish(id(1), 4000)).toBe(4000)
    expect(p.punish(id(1), 8500)).toBe(4000) // capped
    expect(p.punish(id(1), 12_500 + 4000)).toBe(1000) // remembered no more: a first offence again
    for (let i = 2; i < 10; i++) p.punish(id(i), 20_000 + i)
    expect(p.size).toBe(3)
    expect(p.ignores(id(9), 20_010)).toBe(true) // the newest stay, the ones ending soonest went
    expect(p.ignores(id(2), 20_010)).toBe(false)
  })
})
