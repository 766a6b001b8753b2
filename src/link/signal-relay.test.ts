import { describe, expect, it } from 'vitest'
import { decodeFrame } from '../core/codec.js'
import type { PeerId } from '../core/id.js'
import { decodeSignalRelay, encodeSignalRelay, relayStep } from './signal-relay.js'

const id = (b: string): PeerId => b.repeat(32) as PeerId
const [origin, hub, target, other] = [id('aa'), id('bb'), id('cc'), id('dd')]
const offer = { t: 'offer', c: 1 }
const payload = (frame: Uint8Array): unknown => decodeFrame(frame)!.payload

describe('SIGNAL relay frames', () => {
  it('an introduction carries one id a hop: the origin is its link, the target is the receiver', () => {
    const full = encodeSignalRelay(target, origin, true, offer)
    const first = encodeSignalRelay(target, null, true, offer)
    expect(full.length - first.length).toBe(33)
    // The introducer reads the origin off the link the frame came over, and passes it on.
    const atHub = decodeSignalRelay(payload(first), hub, origin)!
    expect(atHub).toMatchObject({ to: target, from: origin, initiator: true, route: [] })
    expect(relayStep(atHub, hub, origin)).toEqual({ deliver: false, next: target })
    const second = encodeSignalRelay(null, atHub.from, atHub.initiator, atHub.data, atHub.route)
    expect(second.length).toBe(first.length)
    const atTarget = decodeSignalRelay(payload(second), target, hub)!
    expect(atTarget).toMatchObject({ to: target, from: origin, data: offer })
    expect(relayStep(atTarget, target, hub)).toEqual({ deliver: true, route: [hub] })
  })

  it('no peer speaks for another: a named origin that is not the link it came over is refused', () => {
    const forged = decodeSignalRelay(payload(encodeSignalRelay(target, origin, true, offer)), hub, other)!
    expect(relayStep(forged, hub, other)).toBe('bad')
    // On a route, the first hop still checks the origin (implied: its link), the next the hop before.
    const routed = decodeSignalRelay(payload(encodeSignalRelay(target, null, true, offer, [hub, other])), hub, origin)!
    expect(relayStep(routed, hub, origin)).toEqual({ deliver: false, next: other })
    expect(relayStep(decodeSignalRelay(payload(encodeSignalRelay(target, origin, true, offer, [hub, other])), other, origin)!, other, origin)).toBe('bad')
  })

  it('malformed ids, flags, data and routes are null, never a throw', () => {
    for (const bad of [null, [], [1, null, 1, {}], [null, new Uint8Array(5), 1, {}], [null, null, 2, {}], [null, null, 1, []], [null, null, 1, {}, [new Uint8Array(32)]], [null, null, 1, {}, 'x']]) {
      expect(decodeSignalRelay(bad, hub, origin)).toBeNull()
    }
  })
})
