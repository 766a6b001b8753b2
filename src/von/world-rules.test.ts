import { describe, expect, it } from 'vitest'
import { SimWorld } from '../sim/world.js'
import { NeighbourTable } from './neighbour-table.js'
import { VonPeer, type VonInit } from './von-peer.js'
import { enforce, type WorldRules } from './world-rules.js'

const SEED = process.env.SEED ?? '6'
const RULES: WorldRules = { aoiMax: 100, width: 1000, height: 1000, speedMax: 50 }

describe('the world\'s rules (world-rules.ts)', () => {
  it('clamps an AOI, a place off the map, a velocity and a jump beyond the speed limit, and counts each', () => {
    const s = { x: 1e7, y: 500, aoi: 1e7, seq: 1, vx: 300, vy: 400 }
    expect(enforce(s, undefined, 0, RULES)).toBe(3)
    expect(s).toMatchObject({ x: 1000, y: 500, aoi: 100 })
    expect(Math.hypot(s.vx, s.vy)).toBeCloseTo(50)
    // 1 s after a state at (100, 100): at 50 units/s (and a second's slack) it can be 100 units and a little away, no more.
    const jump = { x: 600, y: 100, aoi: 100, seq: 2, vx: 0, vy: 0 }
    expect(enforce(jump, { x: 100, y: 100, at: 0 }, 1000, RULES)).toBe(1)
    expect(jump.x).toBeCloseTo(100 + 102)
    const walk = { x: 150, y: 100, aoi: 100, seq: 3, vx: 50, vy: 0 }
    expect(enforce(walk, { x: 100, y: 100, at: 0 }, 1000, RULES)).toBe(0)
    expect(walk.x).toBe(150)
  })
})

/** A 4 x 4 grid of peers 120 apart (AOI 100), the world's rules on every one; `special` at (x, y) with its own init. */
function grid(special: VonInit & { x: number; y: number }) {
  const w = new SimWorld({ seed: SEED })
  const rules = { width: 1000, height: 1000, speedMax: 50 }
  const make = (x: number, y: number, init: VonInit, gateway?: VonPeer) => {
    const peer = w.addPeer({ x: 0, y: 0, accessMs: 5 })
    const von = new VonPeer({ env: peer.env, links: peer.links, localId: peer.id }, { aoiRadius: 100, ...rules, ...init })
    von.join(x, y, gateway === undefined ? [] : [gateway.localId])
    return { peer, von }
  }
  const first = make(100, 100, {})
  const honest = [first]
  for (let i = 1; i < 16; i++) honest.push(make(100 + (i % 4) * 120, 100 + Math.floor(i / 4) * 120, {}, first.von))
  const { x, y, ...init } = special
  const odd = make(x, y, init, first.von)
  w.sim.runUntil(6000)
  return { w, honest, odd }
}

describe('a cheating peer against the world\'s rules (issue 23, findings 4 and 6)', () => {
  it('a tracker announcing an AOI of 1e7 is held only as far as the world\'s AOI reaches', () => {
    const { w, honest, odd } = grid({ x: 100, y: 100, aoiRadius: 1e7 })
    w.sim.runUntil(w.sim.now + 5000)
    const holders = honest.filter((h) => h.von.table.has(odd.von.localId))
    // Near the corner it stands at (its range and its enclosing ring: on a grid's edge that reaches three apart), not 16 of 16 as before the cap.
    expect(holders.length).toBeGreaterThan(0)
    expect(holders.length).toBeLessThanOrEqual(6)
    for (const h of holders) expect(Math.hypot(h.von.x - odd.von.x, h.von.y - odd.von.y)).toBeLessThanOrEqual(3 * 120)
    for (const h of holders) expect(h.von.table.get(odd.von.localId)!.aoi).toBe(100)
    expect(honest.some((h) => h.von.stats.unlawful > 0)).toBe(true)
  })

  it('a teleport is clamped to the speed limit, and a place off the map to its edge', () => {
    const { w, honest, odd } = grid({ x: 300, y: 300 })
    const watchers = honest.filter((h) => h.von.table.has(odd.von.localId))
    expect(watchers.length).toBeGreaterThan(0)
    odd.von.move(900, 300)
    w.sim.runUntil(w.sim.now + 300)
    for (const h of watchers) {
      const n = h.von.table.get(odd.von.localId)
      if (n === undefined) continue
      const at = NeighbourTable.predict(n, w.sim.now)
      // 600 units in one step: a watcher believes at most what the speed limit allows since its last state (seconds), not 900.
      expect(at.x).toBeLessThan(600)
      expect(h.von.stats.unlawful).toBeGreaterThan(0)
    }
    odd.von.move(1e7, 300)
    w.sim.runUntil(w.sim.now + 300)
    for (const h of watchers) {
      const n = h.von.table.get(odd.von.localId)
      if (n !== undefined) expect(NeighbourTable.predict(n, w.sim.now).x).toBeLessThanOrEqual(1000)
    }
  })
})
