import { describe, expect, it } from 'vitest'
import { decodeFrame, encodeFrame } from '../core/codec.js'
import { LinkMsg } from './link-messages.js'
import { Priority } from './priority.js'
import { Reassembler } from './reassembler.js'
import { PriorityScheduler, type Outgoing } from './scheduler.js'

const msg = (tag: number, size = 10): Uint8Array => encodeFrame(9, tag, new Uint8Array(size))
const tagOf = (out: Outgoing | null): number => decodeFrame(out!.bytes)!.type

function drain(s: PriorityScheduler, now: number, fragment = 100_000): number[] {
  const tags: number[] = []
  for (let out = s.next(now, fragment); out !== null; out = s.next(now, fragment)) tags.push(tagOf(out))
  return tags
}

describe('PriorityScheduler', () => {
  it('sends HIGH before MEDIUM before LOW, FIFO within a class', () => {
    const s = new PriorityScheduler()
    s.enqueue(Priority.LOW, msg(1), 0)
    s.enqueue(Priority.MEDIUM, msg(2), 0)
    s.enqueue(Priority.HIGH, msg(3), 0)
    s.enqueue(Priority.MEDIUM, msg(4), 0)
    s.enqueue(Priority.HIGH, msg(5), 0)
    expect(drain(s, 10)).toEqual([3, 5, 2, 4, 1])
    expect(s.isEmpty()).toBe(true)
  })

  it('promotes a MEDIUM message past HIGH once it has waited the aging bound', () => {
    const s = new PriorityScheduler({ agingBoundMs: 100 })
    s.enqueue(Priority.MEDIUM, msg(1), 0)
    for (let i = 0; i < 5; i++) s.enqueue(Priority.HIGH, msg(10 + i), 50)
    expect(tagOf(s.next(99, 1000))).toBe(10) // not aged yet
    expect(tagOf(s.next(100, 1000))).toBe(1) // aged: goes first
    expect(s.stats.promoted).toBe(1)
    expect(drain(s, 100)).toEqual([11, 12, 13, 14])
  })

  it('never lets LOW overtake, however long it waited', () => {
    const s = new PriorityScheduler({ agingBoundMs: 100 })
    s.enqueue(Priority.LOW, msg(1), 0)
    const order: number[] = []
    for (let t = 1; t <= 1000; t++) {
      s.enqueue(t % 2 === 0 ? Priority.HIGH : Priority.MEDIUM, msg(2 + (t % 2)), t)
      order.push(tagOf(s.next(t, 1000)))
    }
    expect(order).not.toContain(1)
    expect(s.length(Priority.LOW)).toBe(1)
    expect(drain(s, 2000).at(-1)).toBe(1)
  })

  it('in FIFO mode keeps arrival order across classes', () => {
    const s = new PriorityScheduler({ mode: 'fifo' })
    s.enqueue(Priority.LOW, msg(1), 0)
    s.enqueue(Priority.HIGH, msg(2), 0)
    s.enqueue(Priority.MEDIUM, msg(3), 0)
    expect(drain(s, 0)).toEqual([1, 2, 3])
  })

  it('supersedes a waiting message with the same key', () => {
    const s = new PriorityScheduler()
    expect(s.enqueue(Priority.HIGH, msg(1), 0, 'move')).toBe('queued')
    expect(s.enqueue(Priority.HIGH, msg(2), 0, 'other')).toBe('queued')
    expect(s.enqueue(Priority.HIGH, msg(3), 0, 'move')).toBe('replaced')
    expect(s.length(Priority.HIGH)).toBe(2)
    expect(drain(s, 0)).toEqual([2, 3])
  })

  it('stays within its bounds: HIGH drops its oldest, MEDIUM and LOW reject', () => {
    const bound = { maxCount: 4, maxBytes: 1000 }
    const s = new PriorityScheduler({ bounds: [bound, bound, bound] })
    const results = { high: new Set<string>(), medium: new Set<string>(), low: new Set<string>() }
    for (let i = 0; i < 50; i++) {
      results.high.add(s.enqueue(Priority.HIGH, msg(i % 200, 100), i))
      results.medium.add(s.enqueue(Priority.MEDIUM, msg(i % 200, 100), i))
      results.low.add(s.enqueue(Priority.LOW, msg(i % 200, 300), i))
      for (const cls of [Priority.HIGH, Priority.MEDIUM, Priority.LOW]) {
        expect(s.length(cls)).toBeLessThanOrEqual(bound.maxCount)
        expect(s.queuedBytes(cls)).toBeLessThanOrEqual(bound.maxBytes)
      }
    }
    expect(results.high).toEqual(new Set(['queued', 'dropped-oldest']))
    expect(results.medium).toEqual(new Set(['queued', 'rejected']))
    expect(results.low).toEqual(new Set(['queued', 'rejected']))
    // The newest HIGH messages survive; the oldest MEDIUM ones do.
    expect(drain(s, 50).slice(0, 8)).toEqual([46, 47, 48, 49, 0, 1, 2, 3])
    expect(s.stats.dropped[Priority.HIGH]).toBe(46)
    expect(s.stats.rejected[Priority.MEDIUM]).toBe(46)
    // An over-size message is rejected outright.
    expect(s.enqueue(Priority.HIGH, new Uint8Array(2000), 0)).toBe('rejected')
  })

  it('keeps a stalled queue of superseded moves compact', () => {
    const s = new PriorityScheduler()
    for (let i = 0; i < 100_000; i++) s.enqueue(Priority.HIGH, msg(1), i, 'move')
    expect(s.length(Priority.HIGH)).toBe(1)
    expect([...(s as unknown as { queues: Iterable<unknown>[] }).queues[0]!].length).toBeLessThan(200)
  })

  it('fragments large messages so HIGH traffic interleaves, and reassembles them', () => {
    const s = new PriorityScheduler()
    const big = encodeFrame(9, 7, new Uint8Array(10_000).map((_, i) => i & 255))
    s.enqueue(Priority.LOW, big, 0)
    const r = new Reassembler()
    const first = s.next(0, 1000)!
    expect(first.bytes.length).toBeLessThanOrEqual(1000)
    expect(first.done).toBe(false)
    s.enqueue(Priority.HIGH, msg(1), 1)
    expect(tagOf(s.next(1, 1000))).toBe(1) // the move goes between two fragments
    let whole = r.push(decodeFrame(first.bytes)!.payload)
    for (let out = s.next(2, 1000); out !== null; out = s.next(2, 1000)) {
      const f = decodeFrame(out.bytes)!
      expect(f.type).toBe(LinkMsg.FRAG)
      whole = r.push(f.payload)
    }
    expect(whole).toEqual(big)
    expect(s.queuedBytes(Priority.LOW)).toBe(0)
  })
})

describe('Reassembler', () => {
  it('rejects bad pieces and oversize messages', () => {
    const r = new Reassembler()
    expect(r.push('x')).toBeNull()
    expect(r.push([3, 1, new Uint8Array(1)])).toBeNull()
    expect(r.push([0, 2, new Uint8Array(1)])).toBeNull()
    const piece = new Uint8Array(200 * 1024)
    expect(r.push([2, 0, piece])).toBeUndefined()
    expect(r.push([2, 0, piece])).toBeNull() // over 256 KiB: dropped
    expect(r.pendingBytes).toBe(0)
  })
})
