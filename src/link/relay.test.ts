import { describe, expect, it } from 'vitest'
import type { PeerId } from '../core/id.js'
import { NodeCrypto } from '../platform/node/node-crypto.js'
import type { SimNodeSpec } from '../sim/network.js'
import { SimWorld, type SimLinkPeer } from '../sim/world.js'
import { CircuitAuth } from './circuit-auth.js'
import { PROTOCOL } from './link-messages.js'
import type { LinkManagerInit } from './link-manager.js'
import { directHopeless, iceOutcome } from './nat.js'
import { Priority } from './priority.js'
import type { RelayHost } from './relay.js'

const T = PROTOCOL.TEST
type Nat = NonNullable<SimNodeSpec['nat']>

function world(nats: Nat[], link: LinkManagerInit = {}, up = 0): { world: SimWorld; peers: SimLinkPeer[] } {
  const w = new SimWorld({ seed: 1, link, network: { ice: { stun: true, turn: false } } })
  const peers = nats.map((nat, i) => w.addPeer({ x: i * 10, y: 0, accessMs: 10, nat, upBytesPerSec: up }))
  // A protocol that wants every link, as the overlay wants its neighbours'.
  for (const p of peers) p.links.register({ id: 98, insists: () => true })
  return { world: w, peers }
}

function inbox(peer: SimLinkPeer, type = 1): { from: PeerId; payload: unknown }[] {
  const got: { from: PeerId; payload: unknown }[] = []
  peer.links.handle(T, type, (from, payload) => got.push({ from, payload }))
  return got
}

/** A relay R (open) linked to symmetric A and B, which then dial each other through R's introduction. */
function relayedPair(link: LinkManagerInit = {}, up = 0) {
  const { world: w, peers } = world(['open', 'symmetric', 'symmetric'], link, up)
  const [r, a, b] = peers as [SimLinkPeer, SimLinkPeer, SimLinkPeer]
  a.links.connect(r.id)
  b.links.connect(r.id)
  w.sim.runUntil(3000) // links up, reservations made at the next relay tick
  return { w, r, a, b }
}

describe('ICE outcome table', () => {
  it('follows the mapping and filtering of both ends', () => {
    const ice = { stun: true, turn: false }
    expect(iceOutcome('open', 'open', ice)).toBe('host')
    expect(iceOutcome('open', 'symmetric', ice)).toBe('srflx')
    expect(iceOutcome('restricted', 'restricted', ice)).toBe('srflx')
    expect(iceOutcome('eim', 'symmetric', ice)).toBe('prflx')
    expect(iceOutcome('restricted', 'symmetric', ice)).toBe('fail')
    expect(iceOutcome('symmetric', 'symmetric', ice)).toBe('fail')
    expect(iceOutcome('symmetric', 'symmetric', { stun: true, turn: true })).toBe('relay')
    expect(iceOutcome('restricted', 'restricted', { stun: false, turn: false })).toBe('fail')
    expect(directHopeless({ nat: 'symmetric', turn: false }, { nat: 'symmetric', turn: false })).toBe(true)
    expect(directHopeless({ nat: 'symmetric', turn: false }, { nat: 'unknown', turn: false })).toBe(false)
    expect(directHopeless({ nat: 'symmetric', turn: true }, { nat: 'symmetric', turn: false })).toBe(false)
  })
})

describe('relayed links', () => {
  it('opens a link no hole punch can open through a relay both reach, as an ordinary link with its classes', () => {
    const { w, r, a, b } = relayedPair({}, 100_000)
    expect(a.links.relays!.homeRelays()).toEqual([r.id])
    expect(b.links.relays!.homeRelays()).toEqual([r.id])
    const got = inbox(b)
    const backAtA = inbox(a)
    a.links.connect(b.id, { via: r.id })
    a.links.send(b.id, T, 1, 'first', Priority.HIGH)
    w.sim.runUntil(6000)
    expect(a.links.isOpen(b.id) && b.links.isOpen(a.id)).toBe(true)
    const path = a.links.link(b.id)!.conn!.path!
    expect(path.kind).toBe('peer-relay')
    expect(path.relay).toBe(r.id)
    expect(a.links.pathCounts()['peer-relay']).toBe(1)
    expect(a.links.stats.relayedLinks).toBe(1)
    // Both classes arrive, HIGH ahead of LOW bulk sent before it.
    a.links.send(b.id, T, 1, new Uint8Array(60_000), Priority.LOW)
    a.links.send(b.id, T, 1, 'move', Priority.HIGH)
    b.links.send(a.id, T, 1, 'back', Priority.MEDIUM)
    w.sim.runUntil(9000)
    const kinds = got.map((m) => (m.payload instanceof Uint8Array ? 'bulk' : m.payload))
    expect(kinds).toEqual(['first', 'move', 'bulk'])
    expect(got.every((m) => m.from === a.id)).toBe(true)
    expect(backAtA.map((m) => m.payload)).toEqual(['back'])
    expect(r.links.relays!.stats.circuitsNow).toBe(1)
    expect(r.links.relays!.stats.relayedBytes).toBeGreaterThan(60_000)
  })

  it('picks the nearest of the relays it is linked to, and the least loaded first', () => {
    const { world: w, peers } = world(['symmetric', 'open', 'open'], { relay: { homeRelays: 1 } })
    const [a, far, near] = peers as [SimLinkPeer, SimLinkPeer, SimLinkPeer]
    w.net.node(far.id)!.spec.x = 400 // 400 ms away in the latency plane
    a.links.connect(far.id)
    a.links.connect(near.id)
    w.sim.runUntil(4000)
    expect(a.links.relays!.homeRelays()).toEqual([near.id])
    expect(near.links.relays!.stats.reservationsNow).toBe(1)
    expect(far.links.relays!.stats.reservationsNow).toBe(0) // asked, then released
  })

  it('a peer left with no home relay asks a relay that refused it again within seconds, not after 30 s', () => {
    const { world: w, peers } = world(['open', 'symmetric', 'symmetric'], { relay: { homeRelays: 1, maxReservations: 1 } })
    const [r, c, a] = peers as [SimLinkPeer, SimLinkPeer, SimLinkPeer]
    c.links.connect(r.id)
    w.sim.runUntil(1000)
    a.links.connect(r.id)
    w.sim.runUntil(3000)
    expect(c.links.relays!.homeRelays()).toEqual([r.id])
    expect(a.links.relays!.homeRelays()).toEqual([]) // the relay holds its one reservation
    w.crash(c)
    w.sim.runUntil(12_000)
    expect(a.links.relays!.homeRelays()).toEqual([r.id]) // asked again 5 s after the refusal
  })

  it('of relays alike in load and about as near, prefers one whose link the overlay holds anyway, and lets the other link close', () => {
    const w = new SimWorld({ seed: 1, link: { relay: { homeRelays: 1 }, gcIdleMs: 3000 }, network: { ice: { stun: true, turn: false } } })
    const [a, held, near] = (['symmetric', 'open', 'open'] as Nat[]).map((nat, i) => w.addPeer({ x: i * 10, y: 0, accessMs: 10, nat }))
    held!.links.register({ id: 98, insists: () => true })
    // A's overlay wants the link to `held` only, which is a little farther (RTT 90 ms against 80: one 40-ms band).
    a!.links.register({ id: 98, insists: (p) => p === held!.id })
    w.net.node(held!.id)!.spec.x = 25
    a!.links.connect(held!.id)
    a!.links.connect(near!.id)
    w.sim.runUntil(4000)
    expect(a!.links.relays!.homeRelays()).toEqual([held!.id])
    w.sim.runUntil(20_000)
    expect(a!.links.isOpen(near!.id)).toBe(false) // released, then closed as idle
    expect(a!.links.relays!.homeRelays()).toEqual([held!.id])
  })

  it('a held relay much farther away loses to a near one: every relayed frame would pay the difference', () => {
    const w = new SimWorld({ seed: 1, link: { relay: { homeRelays: 1 } }, network: { ice: { stun: true, turn: false } } })
    const [a, held, near] = (['symmetric', 'open', 'open'] as Nat[]).map((nat, i) => w.addPeer({ x: i * 10, y: 0, accessMs: 10, nat }))
    held!.links.register({ id: 98, insists: () => true })
    a!.links.register({ id: 98, insists: (p) => p === held!.id })
    w.net.node(held!.id)!.spec.x = 200 // 180 ms farther one way
    a!.links.connect(held!.id)
    a!.links.connect(near!.id)
    w.sim.runUntil(4000)
    expect(a!.links.relays!.homeRelays()).toEqual([near!.id])
  })

  it('a dialler linked to several of the remote\'s relays goes through the nearest to itself', () => {
    for (const farIndex of [0, 1]) {
      const { world: w, peers } = world(['open', 'open', 'symmetric', 'symmetric'])
      const [r1, r2, a, b] = peers as [SimLinkPeer, SimLinkPeer, SimLinkPeer, SimLinkPeer]
      const far = farIndex === 0 ? r1 : r2
      // Far from the dialler, as far again from the target: the farther relay adds 2 x 60 ms a frame.
      w.net.node(far.id)!.spec.y = 60
      for (const p of [a, b]) {
        p.links.connect(r1.id)
        p.links.connect(r2.id)
      }
      w.sim.runUntil(3000)
      expect(b.links.relays!.homeRelays().length).toBe(2)
      a.links.connect(b.id, { via: r1.id })
      w.sim.runUntil(6000)
      expect(a.links.link(b.id)!.conn!.path!.relay).toBe((far === r1 ? r2 : r1).id)
    }
  })

  it('two ends that dial each other at once end with one circuit', () => {
    const { w, r, a, b } = relayedPair()
    a.links.connect(b.id, { via: r.id })
    b.links.connect(a.id, { via: r.id })
    w.sim.runUntil(8000)
    expect(a.links.isOpen(b.id) && b.links.isOpen(a.id)).toBe(true)
    expect(r.links.relays!.stats.circuitsNow).toBe(1)
    const got = inbox(a)
    b.links.send(a.id, T, 1, 'one link', Priority.HIGH)
    w.sim.runUntil(9000)
    expect(got.map((m) => m.payload)).toEqual(['one link'])
  })

  it('a relay enforces its circuit cap and says so; the refused link is not opened', () => {
    const { world: w, peers } = world(['open', 'symmetric', 'symmetric', 'symmetric'], { relay: { maxCircuits: 1 } })
    const [r, a, b, c] = peers as [SimLinkPeer, SimLinkPeer, SimLinkPeer, SimLinkPeer]
    for (const p of [a, b, c]) p.links.connect(r.id)
    w.sim.runUntil(3000)
    a.links.connect(b.id, { via: r.id })
    w.sim.runUntil(6000)
    expect(a.links.isOpen(b.id)).toBe(true)
    c.links.connect(b.id, { via: r.id })
    w.sim.runUntil(40_000)
    expect(c.links.isOpen(b.id)).toBe(false)
    expect(r.links.relays!.stats.circuitsRefused).toBeGreaterThanOrEqual(1)
    expect(r.links.relays!.stats.circuitsMax).toBe(1)
    expect(a.links.isOpen(b.id)).toBe(true)
  })

  it('a relay drops the circuits of a peer that vanished, and the other end learns at once', () => {
    const { w, r, a, b } = relayedPair()
    a.links.connect(b.id, { via: r.id })
    w.sim.runUntil(6000)
    expect(b.links.isOpen(a.id)).toBe(true)
    const closed: string[] = []
    b.links.register({ id: 99, onLinkClosed: (peer, reason) => peer === a.id && closed.push(reason) })
    w.crash(a)
    w.sim.runUntil(12_000)
    expect(r.links.relays!.stats.circuitsNow).toBe(0)
    expect(b.links.isOpen(a.id)).toBe(false)
    expect(closed.length).toBe(1)
  })

  it('moves a circuit to another relay when its relay leaves, without closing the link', () => {
    const { world: w, peers } = world(['open', 'open', 'symmetric', 'symmetric'])
    const [r1, r2, a, b] = peers as [SimLinkPeer, SimLinkPeer, SimLinkPeer, SimLinkPeer]
    for (const p of [a, b]) {
      p.links.connect(r1.id)
      p.links.connect(r2.id)
    }
    w.sim.runUntil(3000)
    expect(b.links.relays!.homeRelays().length).toBe(2)
    const closed: string[] = []
    a.links.register({ id: 99, insists: () => true, onLinkClosed: (peer, reason) => peer === b.id && closed.push(reason) })
    b.links.register({ id: 99, insists: () => true })
    a.links.connect(b.id, { via: r1.id })
    w.sim.runUntil(6000)
    const first = a.links.link(b.id)!.conn!.path!.relay!
    w.crash(first === r1.id ? r1 : r2)
    const got = inbox(b)
    w.sim.runUntil(11_000)
    expect(closed).toEqual([])
    expect(a.links.isOpen(b.id)).toBe(true)
    const now = a.links.link(b.id)!.conn!.path!
    expect(now.kind).toBe('peer-relay')
    expect(now.relay).not.toBe(first)
    a.links.send(b.id, T, 1, 'after the move', Priority.HIGH)
    w.sim.runUntil(12_000)
    expect(got.map((m) => m.payload)).toEqual(['after the move'])
  })

  it('reroutes through its own home relay when the remote named none left: the relay serves the reservation holder', () => {
    // B (address-dependent filtering) keeps no home relay; symmetric A reached it through R.
    const { world: w, peers } = world(['open', 'open', 'symmetric', 'restricted'])
    const [r, r2, a, b] = peers as [SimLinkPeer, SimLinkPeer, SimLinkPeer, SimLinkPeer]
    a.links.connect(r.id)
    b.links.connect(r.id)
    b.links.connect(r2.id)
    w.sim.runUntil(3000)
    const closed: string[] = []
    a.links.register({ id: 99, insists: () => true, onLinkClosed: (peer, reason) => peer === b.id && closed.push(reason) })
    b.links.register({ id: 99, insists: () => true })
    a.links.connect(b.id, { via: r.id })
    w.sim.runUntil(6000)
    expect(a.links.link(b.id)!.conn!.path!.relay).toBe(r.id)
    // A takes a second home relay after the link opened: B never heard of it.
    a.links.connect(r2.id)
    w.sim.runUntil(9000)
    expect(a.links.relays!.homeRelays()).toContain(r2.id)
    expect(b.links.relays!.homeRelays()).toEqual([])
    w.crash(r)
    const got = inbox(b)
    w.sim.runUntil(14_000)
    expect(closed).toEqual([])
    expect(a.links.link(b.id)!.conn!.path!.relay).toBe(r2.id)
    // At once, from A's side, with no round of signaling (renegotiating instead took 2.96 s here).
    expect(a.links.stats.rerouteMsMax).toBeLessThan(1000)
    a.links.send(b.id, T, 1, 'through my own relay', Priority.HIGH)
    w.sim.runUntil(15_000)
    expect(got.map((m) => m.payload)).toEqual(['through my own relay'])
  })

  it('upgrades a relayed link to a direct path once one works', () => {
    // A symmetric and B full cone can meet directly, but a partition blocks them at first.
    const { world: w, peers } = world(['open', 'symmetric', 'eim'], { relay: { upgradeRetryMs: 3000 }, connectTimeoutMs: 4000 })
    const [r, a, b] = peers as [SimLinkPeer, SimLinkPeer, SimLinkPeer]
    a.links.connect(r.id)
    b.links.connect(r.id)
    w.sim.runUntil(3000)
    w.net.setPartition((x, y) => (x === a.id && y === b.id) || (x === b.id && y === a.id))
    a.links.connect(b.id, { via: r.id })
    w.sim.runUntil(8000)
    expect(a.links.isOpen(b.id)).toBe(true)
    expect(a.links.link(b.id)!.conn!.path!.kind).toBe('peer-relay')
    w.net.setPartition(undefined)
    w.sim.runUntil(30_000)
    expect(a.links.link(b.id)!.conn!.path!.kind).toBe('prflx')
    expect(a.links.stats.upgraded).toBe(1)
    const got = inbox(b)
    a.links.send(b.id, T, 1, 'direct', Priority.HIGH)
    w.sim.runUntil(31_000)
    expect(got.map((m) => m.payload)).toEqual(['direct'])
  })

  it('a relay that alters a frame gets the link dropped and reported, and the frame is never delivered', () => {
    const { w, r, a, b } = relayedPair()
    a.links.connect(b.id, { via: r.id })
    w.sim.runUntil(6000)
    expect(b.links.isOpen(a.id)).toBe(true)
    const got = inbox(b)
    // Turn R into a relay that flips one byte of every frame it passes on.
    const host = (r.links.relays as unknown as { host: RelayHost }).host
    const send = host.sendLink.bind(host)
    host.sendLink = (peer, type, payload, priority) => {
      if (type === 11 && Array.isArray(payload)) {
        const bytes = (payload[2] as Uint8Array).slice()
        bytes[bytes.length - 1]! ^= 1
        payload = [payload[0], payload[1], bytes]
      }
      return send(peer, type, payload, priority)
    }
    const closed: string[] = []
    b.links.register({ id: 99, onLinkClosed: (peer, reason) => peer === a.id && closed.push(reason) })
    a.links.send(b.id, T, 1, { x: 100, y: 200 }, Priority.HIGH)
    w.sim.runUntil(7000)
    expect(got).toEqual([])
    expect(closed[0]).toBe('relay-tampered')
    expect(b.links.relays!.stats.tampered).toBe(1)
  })
})

describe('circuit authentication', () => {
  const crypto = new NodeCrypto()
  let n = 0
  const rng = { bytes: (k: number) => new Uint8Array(k).map(() => (n = (n * 1103515245 + 12345) & 0x7fffffff) & 0xff) }
  const who = (seed: number) => {
    const keyPair = crypto.keyPairFromSeed(new Uint8Array(32).fill(seed))
    return { keyPair, crypto, rng, localId: crypto.sha256(keyPair.publicKey) }
  }
  const hex = (b: Uint8Array) => Buffer.from(b).toString('hex') as PeerId
  const A = who(1)
  const B = who(2)
  const M = who(3)
  const idA = hex(A.localId as unknown as Uint8Array)
  const idB = hex(B.localId as unknown as Uint8Array)
  const keysA = { ...A, localId: idA }
  const keysB = { ...B, localId: idB }

  it('authenticates both ends and refuses altered, replayed and impersonated frames', () => {
    const a = new CircuitAuth(keysA, idB, true)
    const b = new CircuitAuth(keysB, idA, false)
    expect(b.onHello(a.hello())).toBe(true)
    expect(a.onHello(b.hello())).toBe(true)
    const f1 = a.seal(new Uint8Array([1, 2, 3]), 2)
    const f2 = a.seal(new Uint8Array([4]), 2)
    // Classes have their own order: a HIGH frame sealed later may arrive first.
    const high = a.seal(new Uint8Array([9]), 0)
    expect(b.open(high)).toEqual(new Uint8Array([9]))
    expect(b.open(f1)).toEqual(new Uint8Array([1, 2, 3]))
    const altered = f2.slice()
    altered[altered.length - 1]! ^= 0x80
    expect(b.open(altered)).toBe('tampered')
    expect(b.open(f2)).toEqual(new Uint8Array([4]))
    expect(b.open(f1)).toBe('replayed')
    // M, relaying, claims to be A: its HELLO is not signed by A's key.
    const m = new CircuitAuth({ ...M, localId: idA }, idB, true)
    expect(new CircuitAuth(keysB, idA, false).onHello(m.hello())).toBe(false)
    // A replayed HELLO of A's is accepted, but the replayer cannot seal a frame B accepts.
    const b2 = new CircuitAuth(keysB, idA, false)
    const old = new CircuitAuth(keysA, idB, true)
    expect(b2.onHello(old.hello())).toBe(true)
    const forger = new CircuitAuth(keysA, idB, true)
    expect(forger.onHello(b2.hello())).toBe(false) // B's answer is bound to the replayed ephemeral key
    expect(forger.ready).toBe(false)
  })
})
