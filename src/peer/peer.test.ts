import { describe, expect, it } from 'vitest'
import { encodeValue } from '../core/codec.js'
import { peerIdFromPublicKey, type PeerId } from '../core/id.js'
import { MemoryStore } from '../platform/memory-store.js'
import { createSimEnv } from '../sim/sim-env.js'
import { SimWorld } from '../sim/world.js'
import { orderGateways } from './gateways.js'
import { loadIdentity } from './identity.js'
import { Peer, type BootstrapNode, type PeerInit } from './peer.js'
import { PeerCache } from './peer-cache.js'
import { loadPosition, savePosition } from './saved-position.js'
import { spreadPositions } from './world-area.js'

const SEED = process.env.SEED ?? '11'

interface Member {
  peer: Peer
  /** Hosts this peer's node reports; by default every other attached peer (at most 8, newest first). */
  hosts?: () => PeerId[]
  store: MemoryStore
}

/** Peers in the simulator, each with a bootstrap node that has a host cache of the attached peers. */
function world(seed = SEED) {
  const w = new SimWorld({ seed })
  const place = w.sim.rng('place')
  const members: Member[] = []
  const add = (x: number, y: number, init: PeerInit = {}, hosts?: () => PeerId[], store = new MemoryStore()): Member => {
    const rng = w.sim.rng(`peer:${members.length}`)
    const env = createSimEnv(w.sim, { rng, crypto: w.crypto, store })
    const keyPair = w.crypto.keyPairFromSeed(rng.bytes(32))
    const id = peerIdFromPublicKey(w.crypto, keyPair.publicKey)
    const transport = w.net.addNode(id, { x: place.next() * 40, y: place.next() * 40, accessMs: 5 })
    const box: { peer?: Peer } = {}
    const m = { store, hosts } as Member
    const channel = w.signaling.attach(id, { receiveSignal: (from, i, d, via) => box.peer!.links.receiveSignal(from, i, d, via) })
    const node: BootstrapNode = {
      get state() {
        return w.signaling.up ? 'joined' : 'backoff'
      },
      get hosts() {
        return m.hosts?.() ?? members.filter((o) => o !== m && o.peer.state !== 'closed').map((o) => o.peer.id).slice(-8)
      },
      refreshHosts: () => w.signaling.up,
      send: (to, initiator, data) => channel.send(to, initiator, data),
    }
    m.peer = box.peer = new Peer({ env, keyPair, transport, node }, { von: { aoiRadius: 150 }, ...init })
    members.push(m)
    m.peer.join(x, y)
    return m
  }
  return { w, add, members }
}

function missing(members: readonly Member[]): string[] {
  const out: string[] = []
  for (const m of members) {
    for (const o of members) {
      if (o === m || Math.hypot(o.peer.x - m.peer.x, o.peer.y - m.peer.y) >= m.peer.von.aoi) continue
      if (!m.peer.von.table.has(o.peer.id)) out.push(`${m.peer.id.slice(0, 6)} misses ${o.peer.id.slice(0, 6)}`)
    }
  }
  return out
}

describe('Peer (simulator)', () => {
  it('the first peer founds the world; the others enter through the host cache, mostly by introductions', () => {
    const { w, add, members } = world()
    const pos = w.sim.rng('pos')
    add(300, 300)
    for (let i = 1; i < 16; i++) w.sim.at(i * 400, () => add(pos.next() * 600, pos.next() * 600))
    w.sim.runUntil(15_000)
    expect(members.map((m) => m.peer.state), `SEED=${SEED}`).toEqual(members.map(() => 'joined'))
    expect(missing(members), `SEED=${SEED}`).toEqual([])
    for (const m of members) {
      const s = m.peer.stats()
      // Each peer dialled its first link through the node; nearly all others were introduced.
      const after = s.dialled.introduced + s.dialled.viaSignaling - 1
      if (after > 0) expect(s.dialled.introduced / after, `SEED=${SEED}`).toBeGreaterThanOrEqual(0.8)
      expect(s.rejoins).toBe(0)
      expect(s.joinMs).toBeLessThan(5000)
    }
  })

  it('waits for the bootstrap node before entering', () => {
    const { w, add } = world()
    const a = add(100, 100)
    w.sim.runUntil(1000)
    w.signaling.up = false
    const b = add(150, 100)
    w.sim.runUntil(5000)
    expect(b.peer.state).toBe('waiting')
    w.signaling.up = true
    b.peer.hostsChanged()
    w.sim.runUntil(8000)
    expect(b.peer.state).toBe('joined')
    expect(b.peer.von.table.has(a.peer.id)).toBe(true)
  })

  it('rejoins through its cached peers after losing every link', () => {
    const { w, add, members } = world()
    add(300, 300)
    for (let i = 1; i < 8; i++) w.sim.at(i * 300, () => add(250 + (i % 3) * 60, 250 + Math.floor(i / 3) * 60))
    w.sim.runUntil(6000)
    const lost = members[4]!
    expect(lost.peer.von.table.size).toBeGreaterThan(0)
    lost.hosts = () => [] // the node lists nobody to it: only its cache can bring it back
    const others = members.filter((m) => m !== lost).map((m) => m.peer.id)
    w.net.partition([[lost.peer.id], others])
    w.sim.runUntil(w.sim.now + 5000)
    expect(lost.peer.links.linkCount).toBe(0)
    expect(members.filter((m) => m.peer.von.table.has(lost.peer.id))).toEqual([])
    w.net.setPartition(undefined)
    w.sim.runUntil(w.sim.now + 8000)
    expect(lost.peer.stats().rejoins).toBeGreaterThanOrEqual(1)
    expect(lost.peer.state).toBe('joined')
    expect(missing(members), `SEED=${SEED}`).toEqual([])
  })

  it('two peers that each founded a world merge once the node lists the other', () => {
    const { w, add, members } = world()
    const a = add(100, 100, {}, () => [])
    const b = add(160, 100, {}, () => [])
    w.sim.runUntil(3000)
    expect(a.peer.state).toBe('joined')
    expect(b.peer.state).toBe('joined')
    expect(a.peer.von.table.size + b.peer.von.table.size).toBe(0)
    a.hosts = () => [b.peer.id]
    b.hosts = () => [a.peer.id]
    w.sim.runUntil(40_000)
    expect(missing(members), `SEED=${SEED}`).toEqual([])
    expect(a.peer.stats().rejoins + b.peer.stats().rejoins).toBe(1)
  })

  it('abandons a join no gateway answers and goes on as a world of one', () => {
    const { w, add } = world()
    const ghost = 'ab'.repeat(32) as PeerId
    const a = add(100, 100, { manualPeers: [ghost] }, () => [ghost])
    w.sim.runUntil(5000)
    expect(a.peer.state).toBe('joining')
    w.sim.runUntil(10_000)
    expect(a.peer.state).toBe('joined')
    // It does not try the unresponsive gateway again, so it stays open to newcomers.
    const b = add(130, 100, {}, () => [a.peer.id])
    w.sim.runUntil(30_000)
    expect(a.peer.stats().rejoins).toBe(0)
    expect(b.peer.von.table.has(a.peer.id)).toBe(true)
    expect(a.peer.von.table.has(b.peer.id)).toBe(true)
  })

  it('leaves, rejoins by hand, and closes', async () => {
    const { w, add } = world()
    const a = add(100, 100)
    const b = add(150, 100)
    w.sim.runUntil(3000)
    expect(a.peer.von.table.has(b.peer.id)).toBe(true)
    b.peer.leave()
    w.sim.runUntil(4000)
    expect(b.peer.state).toBe('idle')
    expect(a.peer.von.table.has(b.peer.id)).toBe(false)
    b.peer.join(160, 100)
    w.sim.runUntil(8000)
    expect(a.peer.von.table.has(b.peer.id)).toBe(true)
    await b.peer.close()
    expect(b.peer.state).toBe('closed')
    expect(() => b.peer.join(1, 1)).toThrow(/INVALID_ARGUMENT/)
  })
})

describe('bootstrap sources', () => {
  const id = (c: string) => c.repeat(64) as PeerId
  it('orders gateways: named, live, cached to enter; cached first to rejoin', () => {
    const src = { manual: [id('a'), id('b')], hosts: [id('b'), id('c'), id('0')], cached: [id('d'), id('a')] }
    expect(orderGateways(id('0'), src, false, 8)).toEqual([id('a'), id('b'), id('c'), id('d')])
    expect(orderGateways(id('0'), src, true, 8)).toEqual([id('d'), id('a'), id('b'), id('c')])
    expect(orderGateways(id('0'), src, false, 2)).toEqual([id('a'), id('b')])
  })

  it('caches the peers met, bounded, nearest first, across sessions; survives a corrupt store', async () => {
    const w = new SimWorld({ seed: SEED })
    const store = new MemoryStore()
    const env = createSimEnv(w.sim, { rng: w.sim.rng('c'), crypto: w.crypto, store })
    const cache = new PeerCache({ env }, { maxEntries: 3 })
    const ids = ['1', '2', '3', '4'].map((c) => c.repeat(64) as PeerId)
    ids.forEach((p, i) => cache.seen(p, i * 100, 0))
    expect(cache.size).toBe(3)
    expect(cache.nearest(0, 0).map((e) => e.id)).toEqual([ids[1], ids[2], ids[3]])
    w.sim.runUntil(5000)
    await new Promise((r) => setTimeout(r, 0))
    const again = new PeerCache({ env }, { maxEntries: 3 })
    await again.load()
    expect(again.nearest(300, 0).map((e) => e.id)).toEqual([ids[3], ids[2], ids[1]])
    await store.set('peer/cache', encodeValue([['zz', 1, 2], [ids[0], 'x', 1], 7]))
    const corrupt = new PeerCache({ env })
    await corrupt.load()
    expect(corrupt.size).toBe(0)
  })

  it('keeps the identity and the position in the store', async () => {
    const w = new SimWorld({ seed: SEED })
    const store = new MemoryStore()
    const env = createSimEnv(w.sim, { rng: w.sim.rng('i'), crypto: w.crypto, store })
    const a = await loadIdentity(env)
    const b = await loadIdentity(env)
    expect(b.publicKey).toEqual(a.publicKey)
    expect(await loadPosition(store)).toBeUndefined()
    await savePosition(store, 12.5, 99)
    expect(await loadPosition(store)).toEqual({ x: 12.5, y: 99 })
  })

  it('spreads anchor positions over the world', () => {
    const pts = spreadPositions({ width: 2000, height: 2000 }, 4)
    expect(pts).toEqual([{ x: 500, y: 500 }, { x: 1500, y: 500 }, { x: 500, y: 1500 }, { x: 1500, y: 1500 }])
    expect(spreadPositions({ width: 2000, height: 2000 }, 1)).toEqual([{ x: 1000, y: 1000 }])
  })
})
