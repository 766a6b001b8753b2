import { describe, expect, it } from 'vitest'
import type { PeerId } from '../core/id.js'
import { PROTOCOL } from '../link/link-messages.js'
import { SimWorld, type SimLinkPeer } from '../sim/world.js'
import { decodeNodes, VonMsg } from './messages.js'
import { CROWDED_TABLE } from './von-housekeeping.js'
import { VonPeer } from './von-peer.js'

const SEED = process.env.SEED ?? '3'

/**
 * A crowd (more than CROWDED_TABLE neighbours each). Issue 22's dense run
 * (1,000 peers, about 20 an AOI) lost a third of its savings to repairs: each
 * neighbour lost made every peer that held it tell each enclosing neighbour
 * its whole table in full, NODES of 60-80 nodes (3 KB, cut into FRAGs).
 */
describe('VON in a crowd', () => {
  it('a repair names the table by prefix (SYNC): no NODES of a whole table', () => {
    const w = new SimWorld({ seed: SEED })
    const peers: { peer: SimLinkPeer; von: VonPeer }[] = []
    const rng = w.sim.rng('crowd')
    // 40 peers within 70 units of each other: everyone sees everyone.
    for (let i = 0; i < 40; i++) {
      const peer = w.addPeer({ x: 0, y: 0, accessMs: 5 })
      const von = new VonPeer({ env: peer.env, links: peer.links, localId: peer.id }, { aoiRadius: 100 })
      von.join(500 + rng.next() * 50, 500 + rng.next() * 50, peers.length === 0 ? [] : [peers[rng.int(peers.length)]!.peer.id])
      peers.push({ peer, von })
      w.sim.runUntil(w.sim.now + 150)
    }
    w.sim.runUntil(w.sim.now + 8000)
    const alive = peers.slice(0, 37)
    expect(alive.every((p) => p.von.table.size > CROWDED_TABLE)).toBe(true)
    // From now on: the largest NODES each peer sends.
    let largest = 0
    let syncs = 0
    for (const { peer } of alive) {
      const send = peer.links.send.bind(peer.links)
      peer.links.send = (to: PeerId, proto: number, type: number, payload: unknown, priority) => {
        if (proto === PROTOCOL.VON && type === VonMsg.NODES) largest = Math.max(largest, decodeNodes(payload)?.length ?? 0)
        if (proto === PROTOCOL.VON && type === VonMsg.SYNC) syncs++
        return send(to, proto, type, payload, priority)
      }
    }
    // Three leave without a word (crashed): every peer that held them repairs.
    for (const { peer } of peers.slice(37)) w.crash(peer)
    w.sim.runUntil(w.sim.now + 6000)
    expect(syncs).toBeGreaterThan(0)
    expect(largest).toBeLessThan(CROWDED_TABLE)
    for (const { von } of alive) expect(von.table.size).toBeGreaterThan(CROWDED_TABLE)
  })
})
