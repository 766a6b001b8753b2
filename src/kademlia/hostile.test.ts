import { describe, expect, it } from 'vitest'
import { toHex, utf8 } from '../core/bytes.js'
import { PROTOCOL } from '../link/link-messages.js'
import { Priority } from '../link/priority.js'
import { DhtNetwork, type DhtPeer } from '../sim/workloads/dht-network.js'
import { KadMsg, Status, encodeRequest, type Request } from './messages.js'
import type { GetResult, PutResult } from './record-ops.js'
import { PLAYER_NS, immutableRecord, mutableKey, signMutable, type DhtRecord } from './records.js'
import type { RpcOutcome } from './rpc.js'

const SEED = process.env.SEED ?? '9'
const msg = `SEED=${SEED}`
const STORE_LIMITS = { maxRecords: 64, maxRecordsPerOrigin: 32 }

const net = new DhtNetwork({ seed: SEED, link: { keepaliveMs: 5000, deadAfterMs: 15_000 }, kad: { store: STORE_LIMITS } })
net.grow(60, { perPeerPerSec: 0.1 })
net.sim.runUntil(net.sim.now + 30_000)
const rng = net.sim.rng('hostile')

function settle<T>(start: (cb: (r: T) => void) => void, maxMs = 30_000): T {
  let out: T | undefined
  start((r) => (out = r))
  net.sim.runWhile(() => out === undefined, net.sim.now + maxMs)
  if (out === undefined) throw new Error(`no answer within ${maxMs} ms (${msg})`)
  return out
}

/** Sends one request from `from` to `to` the normal way and returns the storer's answer. */
function ask(from: DhtPeer, to: DhtPeer, req: Request): RpcOutcome {
  return settle<RpcOutcome>((cb) => from.dht.request(to.id, req, { purpose: 'app' }, cb))
}

function store(from: DhtPeer, to: DhtPeer, key: Uint8Array, record: DhtRecord): number | string {
  const o = ask(from, to, { op: KadMsg.STORE, key, record })
  return o.ok ? o.res.status : o.code
}

describe('hostile input', () => {
  const [owner, mallory, reader] = [net.liveAt(1), net.liveAt(2), net.liveAt(3)]
  const key = mutableKey(owner.env.crypto, PLAYER_NS, owner.keyPair.publicKey)
  const v3 = signMutable(owner.keyPair, PLAYER_NS, 3, utf8('state 3'))
  const v5 = signMutable(owner.keyPair, PLAYER_NS, 5, utf8('state 5'))
  settle<PutResult>((cb) => owner.dht.records.put(v3, cb))
  const put = settle<PutResult>((cb) => owner.dht.records.put(v5, cb))
  const holders = net.peers.filter((p) => p !== owner && p.dht.store.get(toHex(key), net.sim.now) !== undefined)

  it('storing peers reject a forged record, a replayed older one, a same-seq different one, and an oversize one', () => {
    expect(put.stored, msg).toBeGreaterThanOrEqual(18)
    const h = holders[0]!
    const forged = { ...v5, seq: 6, value: utf8('stolen sword') }
    expect(store(mallory, h, key, forged)).toBe(Status.INVALID)
    expect(store(mallory, h, key, v3)).toBe(Status.STALE)
    expect(store(mallory, h, key, signMutable(owner.keyPair, PLAYER_NS, 5, utf8('equivocation')))).toBe(Status.CONFLICT)
    const big = signMutable(owner.keyPair, PLAYER_NS, 9, new Uint8Array(17 * 1024))
    const bad = h.dht.rpc.stats.badMessages
    expect(store(mallory, h, key, big)).toBe('TIMEOUT') // over 16 KiB: not even decoded, never answered
    expect(h.dht.rpc.stats.badMessages).toBe(bad + 1)
    expect(h.dht.store.get(toHex(key), net.sim.now)?.record, msg).toEqual(v5)
  })

  it('ignores a peer whose key does not hash to its id', () => {
    const liar = net.liveAt(4)
    const target = net.peers.find((p) => p !== liar && !p.links.isOpen(liar.id) && p.dht.store.size === 0)!
    liar.links.connect(target.id)
    net.sim.runUntil(net.sim.now + 2000)
    const junk = immutableRecord(utf8('junk'))
    const frame = encodeRequest(1, mallory.keyPair.publicKey, { op: KadMsg.STORE, key: owner.env.crypto.sha256(junk.value), record: junk })
    liar.links.send(target.id, PROTOCOL.KADEMLIA, KadMsg.STORE, frame, Priority.MEDIUM)
    net.sim.runUntil(net.sim.now + 1000)
    expect(target.dht.rpc.stats.badKeys, msg).toBe(1)
    expect(target.dht.store.size).toBe(0)
    expect(target.dht.table.has(liar.id)).toBe(false)
    // Caught once, it stays ignored on this link even when it presents its real key.
    expect(store(liar, target, owner.env.crypto.sha256(junk.value), junk)).toBe('TIMEOUT')
    expect(target.dht.store.size).toBe(0)
  })

  it('cannot overwrite or roll back another player\'s state', () => {
    const attempts: DhtRecord[] = [
      { ...v5, seq: 7, value: utf8('all gold to mallory') }, // owner's key, Mallory's edit: bad signature
      signMutable(mallory.keyPair, PLAYER_NS, 8, utf8('mine now')), // Mallory's own key under the owner's key
      v3, // the owner's own older state, replayed
    ]
    for (const h of holders) for (const r of attempts) expect(store(mallory, h, key, r), msg).not.toBe(Status.OK)
    const got = settle<GetResult>((cb) => reader.dht.records.get(key, cb))
    expect(got.record, msg).toEqual(v5)
    expect(got.holders, msg).toBeGreaterThanOrEqual(18)
    for (const h of holders) expect(h.dht.store.get(toHex(key), net.sim.now)?.record).toEqual(v5)
  })

  it('cannot fill a peer\'s storage past its bounds', () => {
    const target = net.liveAt(10)
    const attackers = [mallory, net.liveAt(11), net.liveAt(12), net.liveAt(13)].filter((p) => p !== target)
    const verdicts = new Map<number | string, number>()
    for (const a of attackers) {
      for (let i = 0; i < 48; i++) {
        const junk = immutableRecord(rng.bytes(1000))
        const v = store(a, target, a.env.crypto.sha256(junk.value), junk)
        verdicts.set(v, (verdicts.get(v) ?? 0) + 1)
        expect(target.dht.store.usageOf(a.id).count).toBeLessThanOrEqual(STORE_LIMITS.maxRecordsPerOrigin)
        expect(target.dht.store.size).toBeLessThanOrEqual(STORE_LIMITS.maxRecords)
      }
    }
    expect(verdicts.get(Status.FULL), msg).toBeGreaterThan(0)
    expect(target.dht.store.size).toBe(STORE_LIMITS.maxRecords)
  })
})
