import { describe, expect, it } from 'vitest'
import { encodeFrame } from '../core/codec.js'
import { SimWorld, type SimLinkPeer } from '../sim/world.js'
import { PROTOCOL } from './link-messages.js'
import { Priority } from './priority.js'

const SEED = Number(process.env.SEED ?? 1)
/** The victim's downlink (8 Mbit/s): the flood is sized against it. */
const DOWN_BYTES_PER_SEC = 1_000_000
/** Bytes the simulated network adds to every message (packet headers, SimNetworkInit default). */
const PACKET_OVERHEAD_BYTES = 93
/** A move-like frame of the VON protocol, handled at the victim. */
const MOVE = 1
const FLOOD_AT_MS = 3000
const END_MS = 12_000
const FLOOD_EVERY_MS = 2

type Flood = 'none' | 'unknown' | 'excess'

interface Run {
  /** Latency at V of H's move `seq`, sent at `sentAt`; undefined if it never arrived. */
  moves: { seq: number; sentAt: number; ms: number | undefined }[]
  closedAt: number | undefined
  reason: string | undefined
  v: SimLinkPeer
  f: SimLinkPeer
  world: SimWorld
}

/**
 * V with two neighbours: H sends V a move every 100 ms at HIGH; from 3 s, F
 * writes frames straight onto its connection to V (its own link layer would
 * queue them), at 1.2 times what V's downlink carries: frames no handler takes
 * ('unknown': a VON type and a protocol V does not run), or valid moves
 * ('excess'). The same seed with and without the flood: every difference is
 * the flood's.
 */
function run(flood: Flood): Run {
  const world = new SimWorld({ seed: SEED })
  const v = world.addPeer({ x: 0, y: 0, accessMs: 5, downBytesPerSec: DOWN_BYTES_PER_SEC })
  const h = world.addPeer({ x: 10, y: 0, accessMs: 5 })
  const f = world.addPeer({ x: 0, y: 10, accessMs: 5 })
  const out: Run = { moves: [], closedAt: undefined, reason: undefined, v, f, world }
  const arrived = new Map<number, number>()
  v.links.handle(PROTOCOL.VON, MOVE, (from, seq) => {
    if (from === h.id && typeof seq === 'number') arrived.set(seq, world.sim.now)
  })
  v.links.register({
    id: PROTOCOL.VON,
    insists: () => true,
    onLinkClosed: (peer, reason) => {
      if (peer === f.id && out.closedAt === undefined) [out.closedAt, out.reason] = [world.sim.now, reason]
    },
  })
  for (const p of [h, f]) {
    p.links.register({ id: PROTOCOL.VON, insists: () => true })
    p.links.connect(v.id)
  }
  world.sim.runUntil(2000)
  expect(v.links.isOpen(h.id) && v.links.isOpen(f.id)).toBe(true)
  const sentAt: number[] = []
  every(h, 100, () => {
    sentAt.push(world.sim.now)
    h.links.send(v.id, PROTOCOL.VON, MOVE, sentAt.length - 1, Priority.HIGH)
  })
  if (flood !== 'none') {
    const frames =
      flood === 'unknown'
        ? [encodeFrame(PROTOCOL.VON, 99, [1, 2, 3, 4, 5]), encodeFrame(PROTOCOL.TEST, 7, [1, 2, 3, 4, 5])]
        : [encodeFrame(PROTOCOL.VON, MOVE, [1, 2, 3, 4, 5, 6, 7, 8])]
    const wire = frames[0]!.length + PACKET_OVERHEAD_BYTES
    const perBatch = Math.round((1.2 * DOWN_BYTES_PER_SEC * FLOOD_EVERY_MS) / 1000 / wire)
    let n = 0
    world.sim.at(FLOOD_AT_MS, () =>
      every(f, FLOOD_EVERY_MS, () => {
        const conn = f.links.link(v.id)?.conn
        for (let i = 0; i < perBatch && conn !== undefined; i++) conn.send(frames[n++ % frames.length]!)
      }),
    )
  }
  world.sim.runUntil(END_MS)
  h.env.kill()
  world.sim.runUntil(END_MS + 10_000) // what is still on the way arrives
  out.moves = sentAt.map((at, seq) => ({ seq, sentAt: at, ms: arrived.has(seq) ? arrived.get(seq)! - at : undefined }))
  return out
}

describe('a neighbour flooding a link (issue 23, finding 3)', () => {
  it(`closes the flooder's link within 2 s, ignores it, and H's moves are as fast as unflooded from then on (SEED=${SEED})`, () => {
    const calm = run('none')
    expect(calm.moves.every((m) => m.ms !== undefined)).toBe(true)
    for (const kind of ['unknown', 'excess'] as const) {
      const r = run(kind)
      expect(r.reason, kind).toBe(kind === 'unknown' ? 'protocol-violation' : 'flood')
      expect(r.closedAt! - FLOOD_AT_MS, kind).toBeLessThanOrEqual(2000)
      expect(r.moves.every((m) => m.ms !== undefined), kind).toBe(true)
      // From the close on: p99 of the same moves, flooded and not.
      const after = (x: Run): number[] => x.moves.filter((m) => m.sentAt >= r.closedAt!).map((m) => m.ms!)
      expect(after(r).length).toBeGreaterThan(80)
      expect(p99(after(r)), kind).toBeLessThanOrEqual(p99(after(calm)) + 20)
      const stats = r.v.links.stats
      if (kind === 'excess') expect([stats.framesOverBudget > 0, stats.linksClosedForFlood]).toEqual([true, 1])
      else expect([stats.badFrames, stats.linksClosedForViolation]).toEqual([65, 1])
      // F is ignored: its redial is refused.
      expect(r.v.links.isIgnored(r.f.id)).toBe(true)
      r.f.links.connect(r.v.id)
      r.world.sim.runUntil(r.world.sim.now + 3000)
      expect(r.v.links.linkState(r.f.id)).toBeUndefined()
      expect(r.v.links.stats.refusedIgnored).toBeGreaterThan(0)
    }
  })
})

function p99(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.max(0, Math.ceil(sorted.length * 0.99) - 1)]!
}

/** Runs `fn` every `periodMs` on the peer's timers until END_MS. */
function every(peer: SimLinkPeer, periodMs: number, fn: () => void): void {
  const tick = (): void => {
    if (peer.env.clock.now() >= END_MS) return
    fn()
    peer.env.timers.setTimeout(tick, periodMs)
  }
  tick()
}
