import { describe, expect, it } from 'vitest'
import { decodeFrame, encodeFrame } from '../core/codec.js'
import type { PeerId } from '../core/id.js'
import { SimWorld, type SimLinkPeer } from '../sim/world.js'
import { LINK_PROTO, LinkMsg, PROTOCOL } from './link-messages.js'
import { Priority } from './priority.js'
import type { LinkManagerInit } from './link-manager.js'

const T = PROTOCOL.TEST
const UNLIMITED = { bytesPerSecond: Infinity, burstBytes: Infinity, framesPerSecond: Infinity, burstFrames: Infinity }

function makeWorld(n: number, link: LinkManagerInit = {}, up = 0, seed = 1): { world: SimWorld; peers: SimLinkPeer[] } {
  const world = new SimWorld({ seed, link })
  const peers = Array.from({ length: n }, (_, i) => world.addPeer({ x: i * 10, y: 0, accessMs: 10, upBytesPerSec: up }))
  return { world, peers }
}

function inbox(peer: SimLinkPeer, type = 1): { from: PeerId; payload: unknown; at: number }[] {
  const got: { from: PeerId; payload: unknown; at: number }[] = []
  peer.links.handle(T, type, (from, payload) => got.push({ from, payload, at: peer.env.clock.now() }))
  return got
}

describe('LinkManager', () => {
  it('opens one link per pair through the bootstrap node and carries every protocol on it', () => {
    const { world, peers } = makeWorld(2)
    const [a, b] = peers as [SimLinkPeer, SimLinkPeer]
    const got1 = inbox(b, 1)
    const got2: unknown[] = []
    b.links.handle(PROTOCOL.VON, 7, (_f, p) => got2.push(p))
    expect(a.links.connect(b.id)).toBe('connecting')
    expect(a.links.connect(b.id)).toBe('connecting')
    expect(a.links.send(b.id, T, 1, 'queued before open', Priority.MEDIUM)).toBe('queued')
    world.sim.runUntil(2000)
    expect(a.links.isOpen(b.id) && b.links.isOpen(a.id)).toBe(true)
    a.links.send(b.id, PROTOCOL.VON, 7, { x: 1 }, Priority.HIGH)
    world.sim.runUntil(3000)
    expect(got1.map((m) => m.payload)).toEqual(['queued before open'])
    expect(got1[0]!.from).toBe(a.id)
    expect(got2).toEqual([{ x: 1 }])
    expect(a.links.connect(b.id)).toBe('open')
    expect(a.links.linkCount).toBe(1)
    expect(a.links.stats.viaSignaling).toBe(1)
    expect(world.signaling.relayed).toBe(2) // offer and answer
    expect(a.links.send(peers[0]!.id, T, 1, null, Priority.HIGH)).toBe('no-link')
  })

  it('introduces new links through a linked peer, without the bootstrap node', () => {
    const { world, peers } = makeWorld(3)
    const [a, hub, c] = peers as [SimLinkPeer, SimLinkPeer, SimLinkPeer]
    a.links.connect(hub.id)
    c.links.connect(hub.id)
    world.sim.runUntil(2000)
    world.signaling.up = false
    const got = inbox(c)
    a.links.connect(c.id, { via: hub.id })
    a.links.send(c.id, T, 1, 'hello through an introduction', Priority.HIGH)
    world.sim.runUntil(4000)
    expect(got.map((m) => m.payload)).toEqual(['hello through an introduction'])
    expect(a.links.stats.introduced).toBe(1)
    expect(c.links.stats.introduced).toBe(1)
    expect(hub.links.stats.relayed).toBe(2)
  })

  it('an introducer with no link to the target says so, and the dialler goes through the node at once', () => {
    const run = (noRoute: boolean): { openAt: number; a: SimLinkPeer; hub: SimLinkPeer } => {
      const { world, peers } = makeWorld(3)
      const [a, hub, c] = peers as [SimLinkPeer, SimLinkPeer, SimLinkPeer]
      a.links.connect(hub.id)
      world.sim.runUntil(2000)
      // The hub never linked to c (a stale name, or a link that closed since it named c).
      const t0 = world.sim.now
      a.links.connect(c.id, { via: hub.id })
      if (!noRoute) {
        // Without the answer: drop the hub's NO_ROUTE on the way back, as a peer of before this change would.
        const frames = (hub.links as unknown as { links: Map<PeerId, { scheduler: { enqueue: (...args: unknown[]) => unknown } }> }).links.get(a.id)!.scheduler
        const enqueue = frames.enqueue.bind(frames)
        frames.enqueue = (cls: unknown, bytes: unknown, now: unknown) => {
          const f = decodeFrame(bytes as Uint8Array)
          return f?.proto === LINK_PROTO && f.type === LinkMsg.NO_ROUTE ? 'queued' : enqueue(cls, bytes, now)
        }
      }
      let openAt = -1
      for (let t = t0; t < t0 + 8000 && openAt < 0; t += 20) {
        world.sim.runUntil(t)
        if (a.links.isOpen(c.id)) openAt = t - t0
      }
      return { openAt, a, hub }
    }
    const told = run(true)
    const silent = run(false)
    expect(told.hub.links.stats.noRoute).toBe(1)
    expect(told.a.links.stats.introFailed).toBe(1)
    expect(told.a.links.stats.viaSignaling).toBe(2) // the hub, then c through the node
    expect(told.openAt).toBeGreaterThan(0)
    expect(silent.openAt).toBeGreaterThan(1500) // waited out the introduction timeout
    expect(told.openAt).toBeLessThan(silent.openAt - 1000) // 440 against 2,120 ms
  })

  it('introduces along a route of linked peers, and through a first hop still connecting', () => {
    const { world, peers } = makeWorld(5)
    const [a, b, c, d, e] = peers as [SimLinkPeer, SimLinkPeer, SimLinkPeer, SimLinkPeer, SimLinkPeer]
    a.links.connect(b.id)
    b.links.connect(c.id)
    c.links.connect(d.id)
    world.sim.runUntil(2000)
    world.signaling.up = false
    const got = inbox(d)
    a.links.connect(d.id, { via: [b.id, c.id] })
    a.links.send(d.id, T, 1, 'three hops away', Priority.HIGH)
    world.sim.runUntil(4000)
    expect(got.map((m) => m.payload)).toEqual(['three hops away'])
    expect(b.links.stats.relayed).toBe(2) // offer and answer
    expect(c.links.stats.relayed).toBe(2)
    expect(d.links.stats.introduced).toBe(1)
    // E links to D by introduction through A while E's link to A is still being set up.
    world.signaling.up = true
    e.links.connect(a.id)
    e.links.connect(d.id, { via: a.id })
    world.sim.runUntil(8000)
    expect(e.links.isOpen(d.id)).toBe(true)
    expect(e.links.stats.introduced).toBe(1)
    expect(e.links.stats.viaSignaling).toBe(1)
  })

  it('resolves glare (both sides dial at once) into one link', () => {
    const { world, peers } = makeWorld(3)
    const [a, hub, c] = peers as [SimLinkPeer, SimLinkPeer, SimLinkPeer]
    a.links.connect(hub.id)
    c.links.connect(hub.id)
    world.sim.runUntil(2000)
    a.links.connect(c.id, { via: hub.id })
    c.links.connect(a.id, { via: hub.id })
    world.sim.runUntil(5000)
    expect(a.links.isOpen(c.id) && c.links.isOpen(a.id)).toBe(true)
    expect(a.links.stats.opened + c.links.stats.opened).toBe(4) // hub links + one link each side
    const got = inbox(a)
    c.links.send(a.id, T, 1, 'after glare', Priority.HIGH)
    world.sim.runUntil(6000)
    expect(got).toHaveLength(1)
  })

  it('fails a connection with no route for its signaling and tells the protocols', () => {
    const { world, peers } = makeWorld(2)
    const [a, b] = peers as [SimLinkPeer, SimLinkPeer]
    const closed: string[] = []
    a.links.register({ id: T, onLinkClosed: (peer, reason) => closed.push(`${peer === b.id}:${reason}`) })
    world.signaling.up = false
    a.links.connect(b.id)
    world.sim.runUntil(1000)
    expect(closed).toEqual(['true:no-signaling-route'])
    expect(a.links.linkCount).toBe(0)
  })

  it('closes a link to a crashed peer after the dead interval and tells the protocols', () => {
    const { world, peers } = makeWorld(2, { deadAfterMs: 3000, keepaliveMs: 1000 })
    const [a, b] = peers as [SimLinkPeer, SimLinkPeer]
    const closed: { reason: string; at: number }[] = []
    a.links.register({ id: T, insists: () => true, onLinkClosed: (_p, reason) => closed.push({ reason, at: world.sim.now }) })
    a.links.connect(b.id)
    world.sim.runUntil(10_000)
    expect(a.links.isOpen(b.id)).toBe(true) // keepalives hold an idle link open while a protocol insists
    world.crash(b)
    world.sim.runUntil(20_000)
    expect(closed).toHaveLength(1)
    expect(closed[0]!.reason).toBe('timeout')
    expect(closed[0]!.at - 10_000).toBeLessThanOrEqual(3000 + 1000)
  })

  it('probes a link that went quiet and closes it when the probe goes unanswered, well before the dead interval', () => {
    for (const suspectAfterMs of [1000, 0]) {
      const { world, peers } = makeWorld(2, { deadAfterMs: 5000, suspectAfterMs })
      const [a, b] = peers as [SimLinkPeer, SimLinkPeer]
      const closed: { reason: string; at: number }[] = []
      a.links.register({ id: T, insists: () => true, onLinkClosed: (_p, reason) => closed.push({ reason, at: world.sim.now }) })
      a.links.connect(b.id)
      world.sim.runUntil(10_000)
      expect(a.links.isOpen(b.id)).toBe(true)
      world.crash(b)
      world.sim.runUntil(20_000)
      expect(closed.map((c) => c.reason)).toEqual(['timeout'])
      const after = closed[0]!.at - 10_000
      // Quiet 1 s (keepalives come every 500-750 ms), then one RTO for the echo (at least 300 ms), on 250-ms ticks.
      if (suspectAfterMs > 0) expect(after).toBeLessThanOrEqual(1000 + 400 + 2 * 250)
      else expect(after).toBeGreaterThan(5000 - 1000)
    }
  })

  it('a busy link (a relay carrying circuits) is suspected after a few of its usual gaps, and closes sooner still', () => {
    const { world, peers } = makeWorld(2)
    const [a, b] = peers as [SimLinkPeer, SimLinkPeer]
    const closed: number[] = []
    a.links.register({ id: T, insists: () => true, onLinkClosed: () => closed.push(world.sim.now) })
    a.links.handle(T, 1, () => {})
    a.links.connect(b.id)
    const chatter = (): void => {
      b.links.send(a.id, T, 1, 'frame', Priority.HIGH)
      b.env.timers.setTimeout(chatter, 20)
    }
    b.env.timers.setTimeout(chatter, 1000)
    world.sim.runUntil(10_000)
    expect(a.links.isOpen(b.id)).toBe(true)
    world.crash(b)
    world.sim.runUntil(20_000)
    expect(closed).toHaveLength(1)
    // 50 frames a second: quiet after 300 ms (the floor), one RTO (300 ms) for the echo, on 250-ms ticks.
    expect(closed[0]! - 10_000).toBeLessThanOrEqual(300 + 300 + 2 * 250)
  })

  it('a quiet but live remote (its timers slow, like a background tab) answers the probe and keeps its link', () => {
    const { world, peers } = makeWorld(1)
    const a = peers[0]!
    // b's keepalives come every 1.2-1.8 s: past suspectAfterMs, short of deadAfterMs.
    const b = world.addPeer({ x: 10, y: 0, accessMs: 10 }, { keepaliveMs: 1200, deadAfterMs: 60_000, rttProbeMs: 0 })
    const closed: string[] = []
    a.links.register({ id: T, insists: () => true, onLinkClosed: (_p, reason) => closed.push(reason) })
    b.links.register({ id: T, insists: () => true })
    a.links.connect(b.id)
    world.sim.runUntil(30_000)
    expect(closed).toEqual([])
    expect(a.links.isOpen(b.id)).toBe(true)
    expect(a.links.link(b.id)!.suspectProbeAt).toBeGreaterThan(20_000) // it was probed, and answered
  })

  it('lets a link nobody wants go quiet and close after gcIdleMs, on both sides', () => {
    const { world, peers } = makeWorld(2, { gcIdleMs: 5000 })
    const [a, b] = peers as [SimLinkPeer, SimLinkPeer]
    const closed: string[] = []
    a.links.register({ id: T, onLinkClosed: (_p, reason) => closed.push(reason) })
    b.links.register({ id: T, onLinkClosed: (_p, reason) => closed.push(reason) })
    a.links.connect(b.id)
    world.sim.runUntil(1000)
    a.links.send(b.id, T, 1, 'last use', Priority.HIGH)
    const sentBefore = world.net.node(a.id)!.stats.messagesSent
    world.sim.runUntil(5000)
    expect(a.links.isOpen(b.id)).toBe(true) // recently used: lingers, silently
    expect(world.net.node(a.id)!.stats.messagesSent).toBe(sentBefore)
    world.sim.runUntil(9000)
    expect(a.links.linkCount + b.links.linkCount).toBe(0)
    expect(closed).toContain('idle')
  })

  it('link GC closes only idle links no protocol insists on, and tells every protocol', () => {
    const { world, peers } = makeWorld(5, { gcThreshold: 2, gcIdleMs: 2000 })
    const [a, ...others] = peers as [SimLinkPeer, ...SimLinkPeer[]]
    const keep = new Set([others[0]!.id])
    const closedA: string[] = []
    const closedB: string[] = []
    a.links.register({ id: T, insists: (p) => keep.has(p), onLinkClosed: (p, r) => closedA.push(`${p}:${r}`) })
    a.links.register({ id: PROTOCOL.VON, onLinkClosed: (p, r) => closedB.push(`${p}:${r}`) })
    for (const o of others) a.links.connect(o.id)
    world.sim.runUntil(1500)
    // Traffic keeps others[1] busy: not idle, so not collected.
    const busy = setInterval(world, a, 500, () => a.links.send(others[1]!.id, T, 1, 'busy', Priority.HIGH))
    world.sim.runUntil(10_000)
    busy()
    const open = new Set(a.links.openPeers())
    expect(open.has(others[0]!.id)).toBe(true) // insisted on
    expect(open.has(others[1]!.id)).toBe(true) // in use
    expect(open.size).toBe(2) // two idle, unwanted links closed down to the threshold
    expect(closedA.sort()).toEqual([`${others[2]!.id}:gc`, `${others[3]!.id}:gc`].sort())
    expect(closedB.sort()).toEqual(closedA)
    expect(a.links.stats.gcClosed).toBe(2)
    // The remote side learns of the close too.
    world.sim.runUntil(11_000)
    expect(others[2]!.links.isOpen(a.id)).toBe(false)
  })

  it('at the hard cap collects an unwanted link for a new one, and refuses when all are insisted on', () => {
    const { world, peers } = makeWorld(4, { maxLinks: 2 })
    const [a, b, c, d] = peers as [SimLinkPeer, SimLinkPeer, SimLinkPeer, SimLinkPeer]
    let insist = false
    a.links.register({ id: T, insists: () => insist })
    a.links.connect(b.id)
    a.links.connect(c.id)
    world.sim.runUntil(2000)
    insist = true
    expect(a.links.connect(d.id)).toBe('limit')
    insist = false
    expect(a.links.connect(d.id)).toBe('connecting')
    expect(a.links.linkCount).toBe(2)
  })

  it('keeps queues bounded on a stalled link', () => {
    const { world, peers } = makeWorld(2, {
      bounds: [
        { maxCount: 16, maxBytes: 4096 },
        { maxCount: 16, maxBytes: 4096 },
        { maxCount: 16, maxBytes: 64 * 1024 },
      ],
    })
    const [a, b] = peers as [SimLinkPeer, SimLinkPeer]
    a.links.connect(b.id)
    world.sim.runUntil(2000)
    world.net.partition([[a.id], [b.id]])
    const results = new Set<string>()
    for (let i = 0; i < 5000; i++) {
      results.add(a.links.send(b.id, T, 1, new Uint8Array(100), Priority.HIGH))
      results.add(a.links.send(b.id, T, 1, new Uint8Array(100), Priority.MEDIUM))
      results.add(a.links.send(b.id, T, 1, new Uint8Array(8000), Priority.LOW))
      const q = a.links.queueStats(b.id)!
      expect(q[0].count).toBeLessThanOrEqual(16)
      expect(q[1].bytes).toBeLessThanOrEqual(4096)
      expect(q[2].bytes).toBeLessThanOrEqual(64 * 1024)
    }
    expect(results).toEqual(new Set(['queued', 'dropped-oldest', 'rejected']))
  })

  it('a MEDIUM message waits at most the aging bound plus one chunk while HIGH saturates the link', () => {
    const rate = 125_000
    const { world, peers } = makeWorld(2, { agingBoundMs: 100 }, rate)
    const [a, b] = peers as [SimLinkPeer, SimLinkPeer]
    const medium = inbox(b, 2)
    inbox(b, 1)
    a.links.connect(b.id)
    world.sim.runUntil(1000)
    // HIGH offered at 2x the link rate in ~1 KiB messages; MEDIUM every 50 ms.
    const sentAt = new Map<number, number>()
    const stopHigh = setInterval(world, a, 4, () => a.links.send(b.id, T, 1, new Uint8Array(1000), Priority.HIGH))
    let seq = 0
    const stopMedium = setInterval(world, a, 50, () => {
      sentAt.set(seq, world.sim.now)
      a.links.send(b.id, T, 2, seq++, Priority.MEDIUM)
    })
    world.sim.runUntil(11_000)
    stopHigh()
    stopMedium()
    const link = a.links.link(b.id)!
    const chunkMs = (world.net.wireBytes(link.fragmentBytes) * 1000) / rate
    expect(link.queueStats(Priority.HIGH).count).toBeGreaterThan(100) // saturated
    expect(link.scheduler.stats.promoted).toBeGreaterThan(100)
    expect(link.scheduler.stats.maxWaitMs[Priority.MEDIUM]).toBeGreaterThanOrEqual(100)
    expect(link.scheduler.stats.maxWaitMs[Priority.MEDIUM]).toBeLessThanOrEqual(100 + chunkMs)
    // End to end: queue wait + serialisation + one-way latency (20 ms) + the piece ahead of it.
    const delays = medium.map((m) => m.at - sentAt.get(m.payload as number)!)
    expect(delays.length).toBeGreaterThan(150)
    expect(Math.max(...delays)).toBeLessThanOrEqual(100 + 2 * chunkMs + 20 + 5)
  })

  it('survives 10,000 random and mutated frames from a hostile peer, and drops it', () => {
    // Every frame reaches the decoders: no limit on bad frames, a budget the 10,000 fit in.
    const { world, peers } = makeWorld(3, { maxBadFrames: 1_000_000, receiveBudget: { classes: [UNLIMITED, UNLIMITED, UNLIMITED] } })
    const [a, evil, good] = peers as [SimLinkPeer, SimLinkPeer, SimLinkPeer]
    const got = inbox(a)
    a.links.connect(evil.id)
    a.links.connect(good.id)
    world.sim.runUntil(2000)
    const raw = evil.links.link(a.id)!.conn!
    const rng = world.sim.rng('fuzz')
    const valid = [
      encodeFrame(T, 1, [1, 2]),
      encodeFrame(LINK_PROTO, LinkMsg.FRAG, [2, 0, new Uint8Array(100)]),
      encodeFrame(LINK_PROTO, LinkMsg.FRAG, [1, 1, encodeFrame(T, 1, 'x').subarray(0, 3)]),
      encodeFrame(LINK_PROTO, LinkMsg.SIGNAL, [new Uint8Array(32), new Uint8Array(32), 1, { t: 'offer', c: 1 }]),
      encodeFrame(LINK_PROTO, LinkMsg.PING, null),
    ]
    for (let i = 0; i < 10_000; i++) {
      let bytes: Uint8Array
      if (i % 2 === 0) bytes = rng.bytes(rng.int(80))
      else {
        bytes = new Uint8Array(valid[rng.int(valid.length)]!)
        for (let m = 0; m < 1 + rng.int(3); m++) bytes[rng.int(bytes.length)] = rng.int(256)
      }
      raw.send(bytes)
    }
    good.links.send(a.id, T, 1, 'still here', Priority.HIGH)
    world.sim.runUntil(4000)
    expect(a.links.stats.badFrames).toBeGreaterThan(5000)
    expect(a.links.stats.handlerErrors).toBe(0)
    expect(got.some((m) => m.from === good.id && m.payload === 'still here')).toBe(true)
    // With the default tolerance a peer that keeps sending garbage is disconnected.
    const strictWorld = makeWorld(2)
    const [x, y] = strictWorld.peers as [SimLinkPeer, SimLinkPeer]
    x.links.connect(y.id)
    strictWorld.world.sim.runUntil(2000)
    for (let i = 0; i < 100; i++) y.links.link(x.id)!.conn!.send(new Uint8Array([0xc1]))
    strictWorld.world.sim.runUntil(3000)
    expect(x.links.isOpen(y.id)).toBe(false)
  })

  it('adapts fragment size and buffer threshold to the measured link rate', () => {
    const slow = makeWorld(2, {}, 125_000)
    const fast = makeWorld(2, {}, 12_500_000)
    for (const { world, peers } of [slow, fast]) {
      const [a, b] = peers as [SimLinkPeer, SimLinkPeer]
      a.links.connect(b.id)
      world.sim.runUntil(1000)
      for (let i = 0; i < 40; i++) a.links.send(b.id, T, 1, new Uint8Array(16_000), Priority.LOW)
      world.sim.runUntil(2000)
    }
    const slowLink = slow.peers[0]!.links.link(slow.peers[1]!.id)!
    const fastLink = fast.peers[0]!.links.link(fast.peers[1]!.id)!
    expect(slowLink.rate.bytesPerSec!).toBeGreaterThan(100_000)
    expect(slowLink.rate.bytesPerSec!).toBeLessThan(125_000)
    expect(slowLink.fragmentBytes).toBe(1163)
    expect(slowLink.bufferThreshold).toBeLessThan(1000)
    expect(fastLink.fragmentBytes).toBeGreaterThan(8 * 1163)
    expect(fastLink.bufferThreshold).toBeGreaterThan(10 * slowLink.bufferThreshold)
  })
})

/** Runs `fn` every `periodMs` on the peer's timers; returns a stop function. */
function setInterval(world: SimWorld, peer: SimLinkPeer, periodMs: number, fn: () => void): () => void {
  let stopped = false
  const tick = (): void => {
    if (stopped) return
    fn()
    peer.env.timers.setTimeout(tick, periodMs)
  }
  peer.env.timers.setTimeout(tick, 0)
  void world
  return () => (stopped = true)
}
