import { describe, expect, it } from 'vitest'
import type { PeerId } from '../core/id.js'
import { SimWorld } from '../sim/world.js'
import { VonPeer } from './von-peer.js'

const SEED = process.env.SEED ?? '6'

/**
 * Issue 23, flood: an honest peer whose only way into the world was a peer its
 * link layer cut off for misbehaving. Before, one left with no neighbour stayed
 * joined as a world of one and accepted joiners into an island, and a few left
 * holding only each other stayed an island: nobody in the world held them
 * (vast 100, 10 % flooders: islands of three, 86 % consistency).
 */
/** Whether the peers' tables link them all (a neighbour's table holding us back is not required). */
function connected(peers: readonly { id: PeerId; von: VonPeer }[]): boolean {
  const seen = new Set<PeerId>([peers[0]!.id])
  const queue = [peers[0]!]
  while (queue.length > 0) {
    const p = queue.pop()!
    for (const q of peers) {
      if (seen.has(q.id) || !(p.von.table.has(q.id) || q.von.table.has(p.id))) continue
      seen.add(q.id)
      queue.push(q)
    }
  }
  return seen.size === peers.length
}

describe('a peer that cuts off its way into the world finds the world again (VON)', () => {
  function world(): { w: SimWorld; make: (x: number, y: number, gateways: () => readonly PeerId[]) => { id: PeerId; von: VonPeer; cut: (other: PeerId) => void } } {
    const w = new SimWorld({ seed: SEED })
    const make = (x: number, y: number, gateways: () => readonly PeerId[]) => {
      const peer = w.addPeer({ x: 0, y: 0, accessMs: 5 })
      const von = new VonPeer({ env: peer.env, links: peer.links, localId: peer.id }, { aoiRadius: 100 })
      von.join(x, y, gateways)
      // What the link layer does to a flooder: the link closes and the peer is ignored.
      const cut = (other: PeerId): void => {
        peer.links.misbehaved(other, 1_000)
        expect(peer.links.isIgnored(other)).toBe(true)
      }
      return { id: peer.id, von, cut }
    }
    return { w, make }
  }

  /** The world (b and c) and, far from it, a world of one (f) that a peer may join alone. */
  function twoWorlds() {
    const { w, make } = world()
    const b = make(100, 100, () => [])
    w.sim.runUntil(200)
    const c = make(160, 120, () => [b.id])
    const f = make(400, 400, () => [])
    w.sim.runUntil(2000)
    return { w, make, b, c, f }
  }

  it('one whose only neighbour it cut off joins again through its other gateways, not as an island others join', () => {
    // A world of its own (a flooder that accepted the peer's join), and a peer that joined only it.
    const { w, make, b, c, f } = twoWorlds()
    const a = make(420, 380, () => [f.id, b.id])
    w.sim.runUntil(4000)
    expect([...a.von.table.keys()]).toEqual([f.id])
    a.cut(f.id)
    w.sim.runUntil(4100)
    expect(a.von.table.size).toBe(0)
    // A newcomer whose host cache names the cut-off peer first.
    const late = make(440, 360, () => [a.id, b.id])
    w.sim.runUntil(12_000)
    expect(connected([b, c, a, late]), `SEED=${SEED}`).toBe(true)
    expect(a.von.joined).toBe(true)
    expect(a.von.stats.orphaned).toBe(1)
  })

  it('peers left holding only each other look for the world through a gateway and merge with it', () => {
    const { w, make, b, c, f } = twoWorlds()
    const a1 = make(420, 380, () => [f.id, b.id])
    w.sim.runUntil(2500)
    const a2 = make(380, 420, () => [f.id, b.id])
    w.sim.runUntil(5000)
    expect(new Set(a1.von.table.keys())).toEqual(new Set([f.id, a2.id]))
    a1.cut(f.id)
    a2.cut(f.id)
    w.sim.runUntil(5100)
    expect([...a1.von.table.keys()]).toEqual([a2.id])
    w.sim.runUntil(12_000)
    expect(connected([b, c, a1, a2]), `SEED=${SEED}`).toBe(true)
    expect(a1.von.stats.looks + a2.von.stats.looks).toBeGreaterThan(0)
  })

  it('a peer still in the world that looks again meets its own query: taken as the answer, not counted as a loop', () => {
    const { w, make } = world()
    // A 3 x 3 grid 150 apart: c at a corner, f its neighbour, and its gateway at the far corner (not its neighbour).
    const at = (i: number): [number, number] => [100 + (i % 3) * 150, 100 + Math.floor(i / 3) * 150]
    const first = make(...at(8), () => [])
    w.sim.runUntil(200)
    const grid = [first]
    for (let i = 1; i < 8; i++) grid.push(make(...at(i), () => [first.id]))
    const c = make(...at(0), () => [first.id])
    w.sim.runUntil(6000)
    const f = grid[1]!
    expect(c.von.table.has(first.id)).toBe(false)
    expect(c.von.isEnclosing(f.id)).toBe(true)
    c.cut(f.id)
    w.sim.runUntil(9000)
    expect(grid.concat(c).reduce((a, p) => a + p.von.stats.joinLoops, 0)).toBe(0)
    expect(c.von.stats.looks).toBe(1)
    expect(connected([...grid.filter((p) => p !== f), c]), `SEED=${SEED}`).toBe(true)
  })
})
