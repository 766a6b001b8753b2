import { describe, expect, it } from 'vitest'
import type { PeerId } from '../core/id.js'
import { iceOutcome, NAT_CLASSES } from '../link/nat.js'
import type { Connection, ConnectionEvents, Transport } from '../link/transport.js'
import { ALL_OPEN, DEFAULT_NAT_SHARES, drawNatClass, natOptions, parseNatShares, type NatShares } from './nat-model.js'
import { SimNetwork, type SimNat, type SimNetworkInit } from './network.js'
import { SeededRng } from './rng.js'
import type { ShardPort } from './shard-bus.js'
import { Simulator } from './simulator.js'
import { SimWorld, type SimLinkPeer } from './world.js'

const A = 'a'.repeat(52) as PeerId
const B = 'b'.repeat(52) as PeerId
/** Both nodes: 10 ms access links 30 ms apart, so 50 ms one way. */
const spec = (x: number, nat: SimNat) => ({ x, y: 0, accessMs: 10, nat })
const ONE_WAY_MS = 50

/** One end of a connection as its owner sees it. */
interface End {
  conn: Connection
  openedAt: number | undefined
  closed: { at: number; reason: string } | undefined
  got: number[]
}

/**
 * Opens a connection pair between A (initiator) and B the way the link layer
 * does, with signaling that takes one way's latency (a server beside the path).
 */
function dial(ta: Transport, simA: Simulator, tb: Transport, simB: Simulator): { a: End; b: End } {
  const a: End = { conn: undefined!, openedAt: undefined, closed: undefined, got: [] }
  const b: End = { conn: undefined!, openedAt: undefined, closed: undefined, got: [] }
  const events = (sim: Simulator, me: End, other: End, otherSim: Simulator): ConnectionEvents => ({
    onSignal: (data) => otherSim.at(sim.now + ONE_WAY_MS, () => other.conn.signal(data)),
    onOpen: () => (me.openedAt = sim.now),
    onData: () => me.got.push(sim.now),
    onDrain: () => {},
    onClose: (reason) => (me.closed = { at: sim.now, reason }),
  })
  a.conn = ta.open(B, true, events(simA, a, b, simB))
  b.conn = tb.open(A, false, events(simB, b, a, simA))
  return { a, b }
}

/** A and B on one network. */
function pair(natA: SimNat, natB: SimNat, init: SimNetworkInit = {}) {
  const sim = new Simulator({ seed: 'nat' })
  const net = new SimNetwork(sim, init)
  const ta = net.addNode(A, spec(0, natA))
  const tb = net.addNode(B, spec(30, natB))
  return { sim, net, ta, ...dial(ta, sim, tb, sim), run: (ms: number) => sim.runUntil(sim.now + ms) }
}

/** A on shard 0 and B on shard 1, each shard with its own kernel, run in 1 ms windows. */
function splitPair(natA: SimNat, natB: SimNat, init: SimNetworkInit = {}) {
  const sims = [new Simulator({ seed: 'nat' }), new Simulator({ seed: 'nat' })] as const
  const nets = sims.map((sim) => new SimNetwork(sim, init))
  nets.forEach((net, shard) => {
    const port: ShardPort = {
      shard,
      shards: 2,
      horizon: 0,
      post: (to, kind, time, cid, bytes) => nets[to]!.applyRecord(kind, time, cid, bytes ?? new Uint8Array(0)),
    }
    net.port = port
  })
  const ta = nets[0]!.addNode(A, spec(0, natA))
  nets[0]!.addRemoteNode(B, spec(30, natB), 1)
  nets[1]!.addRemoteNode(A, spec(0, natA), 0)
  const tb = nets[1]!.addNode(B, spec(30, natB))
  const run = (ms: number): void => {
    const end = sims[0].now + ms
    for (let t = sims[0].now + 1; t <= end; t++) for (const sim of sims) sim.runUntil(t)
  }
  return { sims, ...dial(ta, sims[0], tb, sims[1]), run }
}

const ICE_CONFIGS = [
  { stun: true, turn: false },
  { stun: true, turn: true },
  { stun: false, turn: false },
  { stun: false, turn: true },
]

describe('NAT classes: simulated links follow ICE', () => {
  it('opens every pair of classes by the path iceOutcome gives, or never, with ice-failed at both ends', () => {
    for (const ice of ICE_CONFIGS) {
      for (const x of NAT_CLASSES) {
        for (const y of NAT_CLASSES) {
          const p = pair(x, y, { ice })
          const want = iceOutcome(x, y, ice)
          expect(p.net.outcome(A, B)).toBe(want)
          p.run(30_000)
          const what = `${x} to ${y}, ${JSON.stringify(ice)}`
          if (want === 'fail') {
            expect([p.a.openedAt, p.b.openedAt], what).toEqual([undefined, undefined])
            expect([p.a.closed?.reason, p.b.closed?.reason], what).toEqual(['ice-failed', 'ice-failed'])
            expect(p.a.conn.failure?.()?.code, what).toBe('ice-failed')
          } else {
            expect([p.a.conn.path?.kind, p.b.conn.path?.kind], what).toEqual([want, want])
            expect(p.a.conn.failure?.(), what).toBeUndefined()
          }
        }
      }
    }
  })

  it('symmetric to symmetric with STUN and no TURN never opens, and each end says why when its checks give up', () => {
    const p = pair('symmetric', 'symmetric')
    expect(p.ta.reach?.()).toEqual({ nat: 'symmetric', turn: false })
    p.run(60_000)
    expect(p.a.openedAt).toBeUndefined()
    expect(p.b.openedAt).toBeUndefined()
    // The responder checks from the offer (at 50 ms), the initiator from the answer (at 100 ms); 15 s each.
    expect(p.b.closed).toEqual({ at: ONE_WAY_MS + 15_000, reason: 'ice-failed' })
    expect(p.a.closed).toEqual({ at: 2 * ONE_WAY_MS + 15_000, reason: 'ice-failed' })
    expect(p.a.conn.failure?.()).toEqual({ code: 'ice-failed', detail: 'nat symmetric to symmetric, stun on, turn off' })
    expect(p.net.connection(1)).toBeUndefined() // forgotten
  })

  it('through the link layer: the attempt times out or fails, and the failure carries the cause', () => {
    for (const [iceFailMs, reason] of [
      [undefined, 'connect-timeout'], // 15 s of checks outlast the link layer's 10 s
      [5000, 'ice-failed'],
    ] as const) {
      const world = new SimWorld({ seed: 'nat', network: iceFailMs === undefined ? {} : { iceFailMs } })
      const a = world.addPeer(spec(0, 'symmetric'))
      const b = world.addPeer(spec(30, 'restricted'))
      a.links.connect(b.id)
      world.sim.runUntil(20_000)
      expect(a.links.isOpen(b.id)).toBe(false)
      const failure = a.links.failures.since(0).find((f) => f.peer === b.id)
      expect(failure?.reason).toBe(reason)
      expect(failure?.cause).toEqual({ code: 'ice-failed', detail: 'nat symmetric to restricted, stun on, turn off' })
    }
  })

  it('restricted to restricted opens over STUN-mapped addresses, open to open host to host', () => {
    const r = pair('restricted', 'restricted')
    r.run(5000)
    expect(r.a.conn.path).toEqual({ kind: 'srflx', local: 'srflx', remote: 'srflx', protocol: 'udp', rttMs: 2 * ONE_WAY_MS })
    const o = pair('open', 'open')
    o.run(5000)
    expect(o.a.conn.path).toEqual({ kind: 'host', local: 'host', remote: 'host', protocol: 'udp', rttMs: 2 * ONE_WAY_MS })
    expect(o.a.openedAt).toBe(r.a.openedAt) // no cost for a direct path through NATs
    const m = pair('open', 'symmetric', { ice: { stun: false } })
    m.run(5000)
    expect(m.a.conn.path).toMatchObject({ kind: 'prflx', local: 'host', remote: 'prflx' })
    expect(m.b.conn.path).toMatchObject({ kind: 'prflx', local: 'prflx', remote: 'host' })
  })

  it('symmetric to symmetric with TURN opens over relay, turnExtraMs slower each way, in setup too', () => {
    for (const turnExtraMs of [undefined, 35]) {
      const extra = turnExtraMs ?? 20
      const direct = pair('open', 'open', { ice: { turn: true, turnExtraMs } })
      const relay = pair('symmetric', 'symmetric', { ice: { turn: true, turnExtraMs } })
      for (const p of [direct, relay]) {
        p.run(5000)
        p.a.conn.send(new Uint8Array(100))
        p.b.conn.send(new Uint8Array(100))
        p.run(1000)
      }
      expect(relay.a.conn.path).toEqual({ kind: 'relay', local: 'relay', remote: 'relay', protocol: 'udp', rttMs: 2 * (ONE_WAY_MS + extra) })
      expect(relay.b.got[0]! - direct.b.got[0]!).toBe(extra)
      expect(relay.a.got[0]! - direct.a.got[0]!).toBe(extra)
      expect(relay.b.got[0]! - 5000).toBe(ONE_WAY_MS + extra)
      expect(relay.a.openedAt! - direct.a.openedAt!).toBe(3 * 2 * extra) // setupRtts round trips over the relay
    }
  })

  it('a link split over two shards takes the path and the times of an unsplit one', () => {
    for (const ice of ICE_CONFIGS) {
      for (const [x, y] of [['symmetric', 'symmetric'], ['restricted', 'eim'], ['symmetric', 'eim'], ['open', 'restricted']] as const) {
        const whole = pair(x, y, { ice })
        const split = splitPair(x, y, { ice })
        for (const p of [whole, split]) {
          p.run(20_000)
          if (p.a.openedAt !== undefined) {
            p.a.conn.send(new Uint8Array(10))
            p.b.conn.send(new Uint8Array(10))
          }
          p.run(1000)
        }
        const facts = (p: typeof whole | typeof split) =>
          [p.a, p.b].map((e) => ({ openedAt: e.openedAt, closed: e.closed, got: e.got, path: e.conn.path, failure: e.conn.failure?.() }))
        expect(facts(split), `${x} to ${y}, ${JSON.stringify(ice)}`).toEqual(facts(whole))
      }
    }
  })

  it('leaves a node without a class open, as before NAT classes', () => {
    const sim = new Simulator({ seed: 'nat' })
    const net = new SimNetwork(sim)
    const t = net.addNode(A, { x: 0, y: 0 })
    net.addNode(B, { x: 1, y: 0 })
    expect(t.reach?.()).toEqual({ nat: 'open', turn: false })
    expect(net.outcome(A, B)).toBe('host')
    expect(net.init.ice).toEqual({ stun: true, turn: false, turnExtraMs: 20, sdpBytes: 0 })
    expect(net.init.iceFailMs).toBe(15_000)
  })
})

describe('NAT shares', () => {
  it('parses shares, "default" and "open"', () => {
    expect(parseNatShares('open:0.1,eim:0.1,restricted:0.55,symmetric:0.25')).toEqual({ open: 0.1, eim: 0.1, restricted: 0.55, symmetric: 0.25 })
    expect(parseNatShares(' restricted : 0.7 , symmetric:0.3 ')).toEqual({ open: 0, eim: 0, restricted: 0.7, symmetric: 0.3 })
    expect(parseNatShares('default')).toBe(DEFAULT_NAT_SHARES)
    expect(parseNatShares('open')).toBe(ALL_OPEN)
  })

  it('says what is wrong with bad shares', () => {
    expect(() => parseNatShares('open:0.5,cone:0.5')).toThrow(/unknown class "cone" \(classes: open, eim, restricted, symmetric\)/)
    expect(() => parseNatShares('open:half,eim:0.5')).toThrow(/share of "open" must be a number from 0 to 1, got "half"/)
    expect(() => parseNatShares('open:-0.5,eim:1.5')).toThrow(/share of "open" must be a number from 0 to 1, got "-0.5"/)
    expect(() => parseNatShares('open:0.5,eim:0.4')).toThrow(/must sum to 1, got 0.9/)
    expect(() => parseNatShares('open:0.5,open:0.5')).toThrow(/class "open" given twice/)
    expect(() => parseNatShares('open=1')).toThrow(/"open=1" is not CLASS:SHARE/)
    expect(() => parseNatShares('open:')).toThrow(/share of "open" must be a number/)
    expect(() => parseNatShares('')).toThrow(/is not CLASS:SHARE/)
    expect(parseNatShares('open:0.3333333,eim:0.3333333,restricted:0.3333334').restricted).toBe(0.3333334) // within 1e-6
  })

  it('reads the scenario flags, with today\'s behaviour by default', () => {
    expect(natOptions(new Map())).toEqual({ shares: ALL_OPEN, ice: { stun: true, turn: false, turnExtraMs: 20, sdpBytes: 0 } })
    const o = natOptions(new Map([['nat', 'default'], ['stun', 'off'], ['turn', 'on'], ['turn-extra-ms', '40']]))
    expect(o).toEqual({ shares: DEFAULT_NAT_SHARES, ice: { stun: false, turn: true, turnExtraMs: 40, sdpBytes: 0 } })
    expect(natOptions(new Map([['turn', 'true']])).ice.turn).toBe(true) // a bare --turn
    expect(() => natOptions(new Map([['nat', 'open:2']]))).toThrow(/^--nat: NAT shares: the share of "open"/)
    expect(() => natOptions(new Map([['stun', 'yes']]))).toThrow('--stun must be on or off, got "yes"')
    expect(() => natOptions(new Map([['turn-extra-ms', '-5']]))).toThrow(/--turn-extra-ms must be a number of ms, 0 or more, got "-5"/)
    expect(natOptions(new Map([['sdp-bytes', '600']])).ice.sdpBytes).toBe(600)
    for (const bad of ['-1', '1.5', 'x', '20000']) expect(() => natOptions(new Map([['sdp-bytes', bad]]))).toThrow(/--sdp-bytes must be a whole number of bytes/)
  })

  it('--sdp-bytes pads every offer and answer, and the link opens as before', () => {
    for (const sdpBytes of [0, 600]) {
      const w = new SimWorld({ seed: 1, network: { ice: { stun: true, turn: false, sdpBytes } } })
      const [a, b] = [0, 1].map((i) => w.addPeer({ x: i * 10, y: 0, accessMs: 10 })) as [SimLinkPeer, SimLinkPeer]
      const padding: number[] = []
      for (const p of [a, b]) {
        const receive = p.links.receiveSignal.bind(p.links)
        p.links.receiveSignal = (from, initiator, data, route) => {
          padding.push(data.s instanceof Uint8Array ? data.s.length : 0)
          return receive(from, initiator, data, route)
        }
      }
      a.links.connect(b.id)
      w.sim.runUntil(2000)
      expect(a.links.isOpen(b.id)).toBe(true)
      expect(padding).toEqual([sdpBytes, sdpBytes]) // the offer, the answer
    }
  })

  it('draws each class at its share (10,000 draws)', () => {
    const seed = process.env.SEED ?? 'nat-shares'
    const example = parseNatShares('open:0.1,eim:0.1,restricted:0.55,symmetric:0.25')
    for (const shares of [DEFAULT_NAT_SHARES, example, parseNatShares('restricted:1')] as NatShares[]) {
      const rng = new SeededRng(seed, JSON.stringify(shares))
      const counts: Record<SimNat, number> = { open: 0, eim: 0, restricted: 0, symmetric: 0 }
      for (let i = 0; i < 10_000; i++) counts[drawNatClass(rng, shares)]++
      for (const c of NAT_CLASSES) {
        // 0.02 is four standard deviations of a share near 0.5 over 10,000 draws.
        expect(Math.abs(counts[c] / 10_000 - shares[c]), `SEED=${seed} ${c}`).toBeLessThan(0.02)
        if (shares[c] === 0) expect(counts[c], `SEED=${seed} ${c}`).toBe(0)
      }
    }
  })

  it('the default shares need TURN for 22 % of pairs, as they were calibrated to (docs/nat-model.md)', () => {
    const s = DEFAULT_NAT_SHARES
    expect(NAT_CLASSES.reduce((sum, c) => sum + s[c], 0)).toBeCloseTo(1, 9)
    let needTurn = 0
    for (const x of NAT_CLASSES) for (const y of NAT_CLASSES) if (iceOutcome(x, y, { stun: true, turn: false }) === 'fail') needTurn += s[x] * s[y]
    expect(needTurn).toBeCloseTo(0.22, 2)
  })
})
