import { describe, expect, it } from 'vitest'
import { toHex, utf8 } from '../core/bytes.js'
import { DhtNetwork, type DhtPeer } from '../sim/workloads/dht-network.js'
import type { GetResult, PutResult } from './record-ops.js'
import { PLAYER_NS, immutableRecord, mutableKey, recordKey, signMutable } from './records.js'

const SEED = process.env.SEED ?? '5'
const msg = `SEED=${SEED}`

const PROVIDER_TTL_MS = 120_000

function network(n: number, seed = SEED): DhtNetwork {
  const kad = { store: { providerTtlMs: PROVIDER_TTL_MS } }
  const net = new DhtNetwork({ seed, link: { keepaliveMs: 5000, deadAfterMs: 15_000 }, kad })
  net.grow(n, { perPeerPerSec: 0.1 })
  net.sim.runUntil(net.sim.now + 40_000)
  return net
}

function settle<T>(net: DhtNetwork, start: (cb: (r: T) => void) => void, maxMs = 30_000): T {
  let out: T | undefined
  start((r) => (out = r))
  net.sim.runWhile(() => out === undefined, net.sim.now + maxMs)
  if (out === undefined) throw new Error(`no answer within ${maxMs} ms (${msg})`)
  return out
}

describe('Kademlia in the simulator', () => {
  const net = network(150)
  const rng = net.sim.rng('test')
  const pick = (): DhtPeer => net.liveAt(rng.int(net.liveCount))

  it('joins by self-lookup, and lookups return the true 20 closest', () => {
    let all = 0
    const runs = 40
    for (let i = 0; i < runs; i++) {
      const from = pick()
      const target = rng.bytes(32)
      const truth = net.trueClosest(target, 20, from.id)
      const r = settle<{ closest: string[] }>(net, (cb) => from.dht.lookup(target, cb))
      if (truth.every((t) => r.closest.includes(t))) all++
    }
    expect(all / runs, msg).toBeGreaterThanOrEqual(0.95)
  })

  it('keeps the invariants: every contact holds an open link; pinned links stay within the budget', () => {
    for (const p of net.peers) {
      for (const c of p.dht.table.contacts()) expect(p.links.isOpen(c.id), msg).toBe(true)
      expect(p.dht.table.insistedSet().size).toBeLessThanOrEqual(p.dht.table.maxInsisted)
      expect(p.dht.keeper.honouredCount).toBeLessThanOrEqual(p.dht.table.maxInsisted + 24)
      expect(p.links.linkCount).toBeLessThanOrEqual(100)
    }
  })

  it('gets the newest of a player record from any peer, and read repair fixes a stale holder', () => {
    const owner = pick()
    const reader = pick()
    const key = mutableKey(owner.env.crypto, PLAYER_NS, owner.keyPair.publicKey)
    for (const seq of [1, 2]) {
      const put = settle<PutResult>(net, (cb) => owner.dht.records.put(signMutable(owner.keyPair, PLAYER_NS, seq, utf8(`v${seq}`)), cb))
      expect(put.stored, msg).toBeGreaterThanOrEqual(18)
    }
    const holders = net.peers.filter((p) => p.dht.store.get(toHex(key), net.sim.now) !== undefined)
    const stale = holders[0]!
    stale.dht.store.remove(toHex(key))
    stale.dht.store.put(key, signMutable(owner.keyPair, PLAYER_NS, 1, utf8('v1')), owner.id, net.sim.now)
    const got = settle<GetResult>(net, (cb) => reader.dht.records.get(key, cb))
    expect(got.record, msg).toMatchObject({ seq: 2 })
    expect(got.repaired, msg).toBeGreaterThanOrEqual(1)
    net.sim.runUntil(net.sim.now + 2000)
    expect(stale.dht.store.get(toHex(key), net.sim.now)?.record, msg).toMatchObject({ seq: 2 })
  })

  it('answers a put with a quorum as soon as that many peers hold it, not after a dead holder times out', () => {
    const owner = pick()
    const record = signMutable(owner.keyPair, PLAYER_NS, 1, utf8('q1'))
    const first = settle<PutResult>(net, (cb) => owner.dht.records.put(record, cb, { reuseHoldersMs: 60_000 }))
    // A holder dies; its link is not yet known to be dead, so a STORE to it costs the RPC timeout.
    const dead = net.peers.find((p) => p !== owner && p.alive && first.holders.includes(p.id))!
    net.crash(dead)
    const next = signMutable(owner.keyPair, PLAYER_NS, 2, utf8('q2'))
    const t0 = net.sim.now
    const quick = settle<PutResult>(net, (cb) => owner.dht.records.put(next, cb, { reuseHoldersMs: 60_000, quorum: 5 }))
    expect(quick.stored, msg).toBeGreaterThanOrEqual(5)
    expect(net.sim.now - t0, msg).toBeLessThan(1000)
    // The STOREs it did not wait for still land.
    net.sim.runUntil(net.sim.now + 5000)
    const holding = net.peers.filter((p) => p.alive && p.dht.store.get(toHex(quick.key), net.sim.now)?.record.kind === 1)
    expect(holding.filter((p) => (p.dht.store.get(toHex(quick.key), net.sim.now)?.record as { seq: number }).seq === 2).length, msg).toBeGreaterThanOrEqual(15)
  })

  it('a put right after a get of the same key goes straight to the holders the get found', () => {
    const owner = pick()
    const device = pick()
    const key = mutableKey(owner.env.crypto, PLAYER_NS, owner.keyPair.publicKey)
    settle<PutResult>(net, (cb) => owner.dht.records.put(signMutable(owner.keyPair, PLAYER_NS, 1, utf8('g1')), cb))
    // Another device of the same player resumes (a get), then writes.
    expect(settle<GetResult>(net, (cb) => device.dht.records.get(key, cb)).record, msg).toMatchObject({ seq: 1 })
    const put = settle<PutResult>(net, (cb) => device.dht.records.put(signMutable(owner.keyPair, PLAYER_NS, 2, utf8('g2')), cb, { reuseHoldersMs: 60_000 }))
    expect(put.lookup, msg).toBeUndefined()
    expect(put.stored, msg).toBeGreaterThanOrEqual(18)
  })

  it('stores content-addressed records and expiring provider records', () => {
    const a = pick()
    const b = pick()
    const chunk = immutableRecord(rng.bytes(2000))
    settle<PutResult>(net, (cb) => a.dht.records.put(chunk, cb))
    const got = settle<GetResult>(net, (cb) => b.dht.records.get(recordKey(a.env.crypto, chunk), cb))
    expect(got.record?.value, msg).toEqual(chunk.value)
    const asset = rng.bytes(32)
    expect(settle<number>(net, (cb) => a.dht.records.provide(asset, cb)), msg).toBeGreaterThanOrEqual(18)
    expect(settle<string[]>(net, (cb) => b.dht.records.findProviders(asset, cb)), msg).toContain(a.id)
    net.sim.runUntil(net.sim.now + PROVIDER_TTL_MS) // nobody re-announced: expired everywhere
    expect(settle<string[]>(net, (cb) => b.dht.records.findProviders(asset, cb)), msg).toEqual([])
  })
})

describe('determinism', () => {
  it('gives the same lookups and event trace for one seed', () => {
    const run = (): string => {
      const net = network(40, 'det')
      const rng = net.sim.rng('det')
      const out: string[] = []
      for (let i = 0; i < 5; i++) {
        const r = settle<{ closest: string[]; rounds: number }>(net, (cb) => net.liveAt(rng.int(40)).dht.lookup(rng.bytes(32), cb))
        out.push(`${r.rounds}:${r.closest.join(',')}`)
      }
      return `${net.sim.traceHash}|${out.join('|')}`
    }
    expect(run()).toBe(run())
  })
})
