import { describe, expect, it } from 'vitest'
import { PROTOCOL } from '../link/link-messages.js'
import { SimWorld } from '../sim/world.js'
import { VonMsg } from './messages.js'
import { NeighbourTable } from './neighbour-table.js'
import { VonPeer, type VonInit } from './von-peer.js'

const SEED = process.env.SEED ?? '3'

/** Two peers 40 apart; counts the MOVEs `a` sends to `b`. */
function pair(init: VonInit = {}) {
  const w = new SimWorld({ seed: SEED })
  const make = (x: number) => {
    const peer = w.addPeer({ x, y: 0, accessMs: 10 })
    return { peer, von: new VonPeer({ env: peer.env, links: peer.links, localId: peer.id }, { aoiRadius: 100, ...init }) }
  }
  const a = make(0)
  const b = make(20)
  a.von.join(500, 500)
  w.sim.runUntil(100)
  b.von.join(540, 500, [a.peer.id])
  w.sim.runUntil(3000)
  const moves = { count: 0 }
  const send = a.peer.links.broadcast.bind(a.peer.links)
  a.peer.links.broadcast = (peers, proto, type, payload, priority, opts) => {
    if (proto === PROTOCOL.VON && type === VonMsg.MOVE) for (const p of peers) if (p === b.peer.id) moves.count++
    return send(peers, proto, type, payload, priority, opts)
  }
  /** a walks from where it is at (vx, vy) units/s for `ms`, a move every 100 ms (its velocity estimated). */
  const walk = (vx: number, vy: number, ms: number): void => {
    const { x, y } = a.von
    for (let t = 100; t <= ms; t += 100) w.sim.after(t, () => a.von.move(x + (vx * t) / 1000, y + (vy * t) / 1000))
    w.sim.runUntil(w.sim.now + ms)
  }
  /** How far b's prediction of a is from where a is now. */
  const error = (): number => {
    const n = b.von.table.get(a.peer.id)!
    const p = NeighbourTable.predict(n, b.peer.env.clock.now())
    return Math.hypot(p.x - a.von.x, p.y - a.von.y)
  }
  return { w, a, b, moves, walk, error }
}

describe('dead reckoning (VonPeer.move)', () => {
  it('a straight walk costs a MOVE at its start and at the heartbeat; the neighbour predicts it within a unit or two', () => {
    const { a, b, moves, walk, error } = pair()
    expect(b.von.table.has(a.peer.id)).toBe(true)
    walk(30, 0, 6000)
    // 60 calls to move: the start (estimated velocity settles in two), then one every 3 s.
    expect(moves.count).toBeGreaterThanOrEqual(2)
    expect(moves.count).toBeLessThanOrEqual(5)
    // The prediction errs by the latency left uncompensated only (30 units/s x a few ms).
    expect(error()).toBeLessThan(1.5)
  })

  it('a turn is sent at once; a stop is sent even when move is no longer called', () => {
    const { w, moves, walk, error } = pair()
    walk(30, 0, 2000)
    const before = moves.count
    walk(0, 30, 300)
    expect(moves.count).toBeGreaterThan(before)
    expect(error()).toBeLessThan(2)
    // a stops calling move: within a few ticks it tells b it stands, and b's prediction stops with it.
    w.sim.runUntil(w.sim.now + 1500)
    const stopped = error()
    w.sim.runUntil(w.sim.now + 2000)
    expect(stopped).toBeLessThan(2)
    expect(error()).toBeCloseTo(stopped, 6)
  })

  it('moveErrorMax 0 sends every move, as before dead reckoning', () => {
    const { moves, walk } = pair({ moveErrorMax: 0 })
    walk(30, 0, 2000)
    expect(moves.count).toBeGreaterThanOrEqual(19)
  })
})
