import { describe, expect, it } from 'vitest'
import type { PeerId } from '../core/id.js'
import type { LinkManager } from '../link/link-manager.js'
import { PROTOCOL } from '../link/link-messages.js'
import { Priority } from '../link/priority.js'
import { SimWorld } from '../sim/world.js'
import { namedIn, observed } from '../sim/adversary-metrics.js'
import { VonMsg, decodeAccept, encodePrefixes, encodeQuery, encodeState, idPrefix } from './messages.js'
import { VonPeer } from './von-peer.js'
import { TicketChecker, TicketIssuer, type JoinTicket, type JoinTickets } from './join-tickets.js'

const SEED = process.env.SEED ?? '6'
const SPACING = 120
const SIDE = 6

/** `links`, with every node list that arrives noted in `seen` (ACCEPTs also in `answered`). */
function reading(links: LinkManager, seen: Set<PeerId>, answered: Set<PeerId>): LinkManager {
  return observed(links, (proto, type, _from, payload) => {
    if (proto !== PROTOCOL.VON) return
    for (const id of namedIn(type, payload)) {
      seen.add(id)
      if (type === VonMsg.ACCEPT) answered.add(id)
    }
  })
}

/** A peer outside the world linked to `gateway`, and the nodes the ACCEPTs it gets name. */
function stranger(w: SimWorld, gateway: PeerId) {
  const peer = w.addPeer({ x: 0, y: 0, accessMs: 5 })
  peer.links.connect(gateway)
  w.sim.runUntil(w.sim.now + 1000)
  const got = new Set<PeerId>()
  peer.links.handle(PROTOCOL.VON, VonMsg.ACCEPT, (_from, payload) => {
    for (const n of decodeAccept(payload)?.nodes ?? []) got.add(n.id)
  })
  return { peer, got }
}

/**
 * A SIDE x SIDE grid of peers SPACING apart (AOI 100, speed limit 50 units/s),
 * and a tracker at (160, 160) whose node lists are read. `tickets`: the node
 * issues join tickets and every peer asks for and checks them.
 */
function world(tickets = false) {
  const w = new SimWorld({ seed: SEED })
  const init = { aoiRadius: 100, width: 1000, height: 1000, speedMax: 50 }
  const clock = { now: () => w.sim.now }
  const issuer = new TicketIssuer(w.crypto.keyPairFromSeed(new Uint8Array(32).fill(7)), clock, init)
  const checker = new TicketChecker(w.crypto, issuer.publicKey, clock)
  if (tickets) w.signaling.tickets = issuer
  const ticketsFor = (id: PeerId): JoinTickets => w.signaling.joinTickets(id, checker)
  const at = (i: number): [number, number] => [100 + (i % SIDE) * SPACING, 100 + Math.floor(i / SIDE) * SPACING]
  const make = (x: number, y: number, gateways: () => readonly PeerId[], links?: (l: LinkManager) => LinkManager) => {
    const peer = w.addPeer({ x: 0, y: 0, accessMs: 5 })
    const von = new VonPeer({ env: peer.env, links: links?.(peer.links) ?? peer.links, localId: peer.id, ...(tickets ? { tickets: ticketsFor(peer.id) } : {}) }, init)
    von.join(x, y, gateways)
    return { id: peer.id, peer, von }
  }
  const first = make(...at(0), () => [])
  w.sim.runUntil(200)
  const honest = [first]
  for (let i = 1; i < SIDE * SIDE; i++) honest.push(make(...at(i), () => [first.id]))
  const seen = new Set<PeerId>()
  const answered = new Set<PeerId>()
  const tracker = make(160, 160, () => [first.id], (l) => reading(l, seen, answered))
  w.sim.runUntil(8000)
  return { w, honest, tracker, seen, answered, at, ticketsFor }
}

describe('one identity gets only its own AOI (issue 23, finding 4)', () => {
  it('ten forged join queries from a joined tracker are refused and counted: it learns only the nodes around it', () => {
    const { w, honest, tracker, seen, answered } = world()
    const holders = honest.filter((h) => h.von.table.get(tracker.id)?.confirmed === true && tracker.peer.links.isOpen(h.id))
    expect(holders.length).toBeGreaterThan(0)
    seen.clear()
    // Finding 4: ten join queries for places all over the grid, with its own id as joiner, to the neighbours that hold it.
    for (let q = 0; q < 10; q++) {
      const to = holders[q % holders.length]!.id
      const x = 100 + ((q * 7) % SIDE) * SPACING + 30
      const y = 100 + ((q * 5 + 3) % SIDE) * SPACING + 30
      const query = { qid: 1_000_000 + q, joiner: tracker.id, x, y, aoi: 100, path: [] }
      tracker.peer.links.send(to, PROTOCOL.VON, VonMsg.QUERY, encodeQuery(query), Priority.MEDIUM)
      w.sim.runUntil(w.sim.now + 500)
    }
    w.sim.runUntil(w.sim.now + 2000)
    expect(answered.size, `SEED=${SEED}`).toBe(0)
    // What it was told since is what its own place shows: its range and the enclosing ring (on a grid, up to three apart; see world-rules.test.ts).
    const far = honest.filter((h) => seen.has(h.id) && Math.hypot(h.von.x - tracker.von.x, h.von.y - tracker.von.y) > 3 * SPACING)
    expect(far.map((h) => [h.von.x, h.von.y]), `SEED=${SEED}`).toEqual([])
    expect(honest.reduce((a, h) => a + h.von.stats.refusedQueries, 0)).toBe(10)
    expect(holders.some((h) => h.von.stats.unlawful > 0)).toBe(true)
  })

  it('the same queries from a joiner nobody holds are answered (a stranger may join anywhere)', () => {
    const { w, honest, answered } = world()
    const gateway = honest[SIDE * SIDE - 1]!
    const { peer: newcomer, got } = stranger(w, gateway.id)
    const query = { qid: 1, joiner: newcomer.id, x: 400, y: 400, aoi: 100, path: [] }
    newcomer.links.send(gateway.id, PROTOCOL.VON, VonMsg.QUERY, encodeQuery(query), Priority.MEDIUM)
    w.sim.runUntil(w.sim.now + 2000)
    expect(got.size).toBeGreaterThan(0)
    expect(answered.size).toBe(0)
    expect(honest.reduce((a, h) => a + h.von.stats.refusedQueries, 0)).toBe(0)
  })

  it('a peer that dials one far away and asks it for every prefix hears only of the few nodes between them (ASK, issue 23)', () => {
    const { w, honest, tracker, seen } = world()
    const far = honest[SIDE * SIDE - 1]!
    tracker.peer.links.connect(far.id)
    w.sim.runUntil(w.sim.now + 1000)
    seen.clear()
    // It says where it is (a stranger from afar: held as one we do not need), then asks for everyone by prefix.
    const { x, y } = tracker.von
    tracker.peer.links.send(far.id, PROTOCOL.VON, VonMsg.HELLO, encodeState({ x, y, aoi: 100, seq: tracker.von.seq, vx: 0, vy: 0 }), Priority.MEDIUM)
    w.sim.runUntil(w.sim.now + 300)
    tracker.peer.links.send(far.id, PROTOCOL.VON, VonMsg.ASK, encodePrefixes(honest.map((h) => idPrefix(h.id))), Priority.MEDIUM)
    w.sim.runUntil(w.sim.now + 1000)
    // Of the nodes beyond its own neighbourhood, it heard of the far peer's whole table before (6 of its 7 on seed 6); now of the 2 nearest it.
    const beyond = honest.filter((h) => seen.has(h.id) && Math.hypot(h.von.x - tracker.von.x, h.von.y - tracker.von.y) > 3 * SPACING && h !== far)
    expect(far.von.table.size, `SEED=${SEED}`).toBeGreaterThan(4)
    expect(beyond.length, `SEED=${SEED}`).toBeLessThanOrEqual(2)
  })

  it('honest queries are never refused: a walker looking again while others hold it, and one joining again after cutting off every neighbour', () => {
    const { w, honest, at } = world()
    // A peer near the far corner walks at the speed limit for 3 s (moves every 100 ms), neighbours predicting it.
    const walker = honest[SIDE * SIDE - 2]!
    const [x0, y0] = at(SIDE * SIDE - 2)
    for (let t = 1; t <= 30; t++) {
      walker.von.move(x0 - 5 * t, y0, -50, 0)
      w.sim.runUntil(w.sim.now + 100)
    }
    // It cuts off a neighbour that encloses it: it looks for the world again through its gateway, a query for its own place.
    const enclosing = [...walker.von.table.keys()].find((id) => walker.von.isEnclosing(id))!
    expect(enclosing).toBeDefined()
    walker.peer.links.misbehaved(enclosing, 1_000)
    w.sim.runUntil(w.sim.now + 3000)
    expect(walker.von.stats.looks).toBe(1)
    // Another, in the far corner, cuts off every neighbour: left with none, it joins again through its gateway.
    const again = honest[SIDE * SIDE - 1]!
    for (const id of [...again.von.table.keys()]) again.peer.links.misbehaved(id, 1_000)
    w.sim.runUntil(w.sim.now + 8000)
    expect(again.von.stats.orphaned).toBe(1)
    expect(again.von.joined).toBe(true)
    expect(honest.reduce((a, h) => a + h.von.stats.refusedQueries, 0), `SEED=${SEED}`).toBe(0)
  })
})

describe('join tickets: no identity learns who stands where it cannot walk to (issue 23, finding 4)', () => {
  /** A query from `from` for (x, y) with `ticket`, as joiner `joiner` with `path`, sent to `to`. */
  const ask = (from: { peer: { links: LinkManager } }, to: PeerId, joiner: PeerId, x: number, y: number, ticket: JoinTicket | undefined, path: PeerId[] = []) => {
    const query = { qid: 1_000_000 + x, joiner, x, y, aoi: 100, path, ...(ticket === undefined ? {} : { ticket }) }
    from.peer.links.send(to, PROTOCOL.VON, VonMsg.QUERY, encodeQuery(query), Priority.MEDIUM)
  }

  it('every honest peer joins with its ticket; a tracker asking far away, with any ticket the node gives it, or for an invented joiner, hears of nobody', () => {
    const { w, honest, tracker, answered, ticketsFor } = world(true)
    expect(honest.every((h) => h.von.joined) && tracker.von.joined, `SEED=${SEED}`).toBe(true)
    expect(honest.reduce((a, h) => a + h.von.stats.unticketed, 0), `SEED=${SEED}`).toBe(0)
    expect(honest.every((h) => h.von.table.size > 0)).toBe(true)
    // Far peers that do not hold it, linked to directly (a stranger may join anywhere: only the ticket tells).
    const far = honest.filter((h) => Math.hypot(h.von.x - tracker.von.x, h.von.y - tracker.von.y) > 3 * SPACING && !h.von.table.has(tracker.id)).slice(0, 5)
    expect(far.length).toBe(5)
    for (const h of far) tracker.peer.links.connect(h.id)
    w.sim.runUntil(w.sim.now + 1000)
    answered.clear()
    // Its last ticket is for where it stands (an identity idle for t seconds may ask as far as it could walk in t).
    const tickets = ticketsFor(tracker.id)
    tickets.fetch(tracker.von.x, tracker.von.y, () => {})
    w.sim.runUntil(w.sim.now + 200)
    let granted: JoinTicket | undefined
    for (const h of far) {
      // It asks the node for a ticket where it asks about: too far from its last one.
      tickets.fetch(h.von.x + 10, h.von.y, (t) => (granted = t ?? granted))
      w.sim.runUntil(w.sim.now + 200)
      ask(tracker, h.id, tracker.id, h.von.x + 10, h.von.y, granted)
      // The path trick: an invented joiner, itself the first hop.
      ask(tracker, h.id, ('ab'.repeat(31) + h.id.slice(0, 2)) as PeerId, h.von.x + 10, h.von.y, undefined, [tracker.id])
      w.sim.runUntil(w.sim.now + 500)
    }
    w.sim.runUntil(w.sim.now + 2000)
    expect(granted, 'the node gave no ticket for a place 360+ units away').toBeUndefined()
    const { tooFar, tooSoon } = w.signaling.tickets!.stats
    expect(tooFar + tooSoon).toBe(5)
    expect(tooFar).toBeGreaterThan(0)
    expect(answered.size, `SEED=${SEED}`).toBe(0)
    expect(honest.reduce((a, h) => a + h.von.stats.unticketed, 0), `SEED=${SEED}`).toBe(10)
  })

  it('a joiner with its ticket hears of the nodes around it; with the node down, one without a ticket is answered too', () => {
    const { w, honest, ticketsFor } = world(true)
    const gateway = honest[SIDE * SIDE - 1]!
    const { peer: newcomer, got } = stranger(w, gateway.id)
    const me = { peer: newcomer }
    ask(me, gateway.id, newcomer.id, 400, 400, undefined)
    w.sim.runUntil(w.sim.now + 1000)
    expect(got.size).toBe(0)
    let ticket: JoinTicket | undefined
    ticketsFor(newcomer.id).fetch(400, 400, (t) => (ticket = t))
    w.sim.runUntil(w.sim.now + 200)
    expect(ticket).toBeDefined()
    ask(me, gateway.id, newcomer.id, 401, 400, ticket)
    w.sim.runUntil(w.sim.now + 1000)
    expect(got.size).toBeGreaterThan(0)
    got.clear()
    w.signaling.up = false
    ask(me, gateway.id, newcomer.id, 402, 400, undefined)
    w.sim.runUntil(w.sim.now + 1000)
    expect(got.size).toBeGreaterThan(0)
  })
})
