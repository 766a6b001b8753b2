import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { toHex, utf8 } from '../../core/bytes.js'
import type { KeyValueStore } from '../../core/env.js'
import type { GetResult, PutOptions, PutResult } from '../../kademlia/record-ops.js'
import { encodeValue } from '../../core/codec.js'
import { PLAYER_NS, compareRecords, encodeRecord, recordKey, signMutable, validateRecord, type DhtRecord } from '../../kademlia/records.js'
import { FileStore } from '../../platform/node/file-store.js'
import { MemoryStore } from '../../platform/memory-store.js'
import { NodeCrypto } from '../../platform/node/node-crypto.js'
import { createSimEnv } from '../../sim/sim-env.js'
import { Simulator } from '../../sim/simulator.js'
import { DhtNetwork } from '../../sim/workloads/dht-network.js'
import { decodePlayerData, encodePlayerData, checkPlayerData, type PlayerData } from './player-data.js'
import { PlayerStateService, type PlayerStateDht } from './player-state.js'

const SEED = process.env.SEED ?? '4'
const msg = `SEED=${SEED}`
const crypto = new NodeCrypto()
const flush = (): Promise<void> => new Promise((r) => setImmediate(r))

const ADA: PlayerData = {
  name: 'ada',
  x: 120.5,
  y: -40,
  appearance: crypto.sha256(utf8('avatar-7.png')),
  inventory: [{ item: 'sword', count: 1 }, { item: 'apple', count: 12 }],
  stats: { level: 7, hp: 42.5 },
}

/** A DHT that keeps the best valid record per key, in memory (for the service's own logic). */
class FakeDht implements PlayerStateDht {
  readonly records = new Map<string, DhtRecord>()
  puts = 0
  /** Puts still to fail (nobody stores them), and how long a put takes. */
  failing = 0
  delayMs = 10
  readonly opts: (PutOptions | undefined)[] = []
  constructor(private readonly sim: Simulator) {}
  put(record: DhtRecord, cb: (r: PutResult) => void, opts?: PutOptions): void {
    this.puts++
    this.opts.push(opts)
    const key = recordKey(crypto, record)
    const held = this.records.get(toHex(key))
    const fail = this.failing > 0
    if (fail) this.failing--
    const ok = !fail && validateRecord(crypto, key, record) === 'ok' && (held === undefined || compareRecords(record, held) >= 0)
    this.sim.after(this.delayMs, () => {
      if (ok) this.records.set(toHex(key), record)
      cb({ key, stored: ok ? 1 : 0, rejected: ok ? 0 : 1, staleSeq: null, holders: [], lookup: undefined })
    })
  }
  get(key: Uint8Array, cb: (r: GetResult) => void): void {
    const record = this.records.get(toHex(key)) ?? null
    const lookup = { closest: [], rounds: 1, queried: 1, failed: 0, discounted: 0, durationMs: 10, stoppedEarly: false }
    this.sim.after(10, () => cb({ key, record, holders: record === null ? 0 : 1, repaired: 0, lookup }))
  }
}

function serviceWith(store: KeyValueStore, dht: PlayerStateDht, sim: Simulator, seed = 1): PlayerStateService {
  const env = createSimEnv(sim, { rng: sim.rng(`env:${seed}`), crypto, store })
  const key = crypto.keyPairFromSeed(sim.rng('player-key').bytes(32))
  // The fake DHT is one holder.
  return new PlayerStateService({ env, dht, key }, { flushIntervalMs: 5000, minHolders: 1 })
}

/** Starts the service, letting real I/O (the store) and virtual time (the DHT) alternate until it resolves. */
async function startIn(sim: Simulator, svc: PlayerStateService): Promise<Awaited<ReturnType<PlayerStateService['start']>>> {
  let done = false
  const started = svc.start().finally(() => (done = true))
  for (let i = 0; i < 500 && !done; i++) {
    await new Promise((r) => setTimeout(r, 1))
    sim.runUntil(sim.now + 100)
  }
  return started
}

describe('player data', () => {
  it('round-trips and enforces its limits', () => {
    expect(decodePlayerData(encodePlayerData(ADA))).toEqual(ADA)
    expect(() => checkPlayerData({ ...ADA, name: 'x'.repeat(33) })).toThrow(/INVALID_ARGUMENT/)
    expect(() => checkPlayerData({ ...ADA, inventory: Array.from({ length: 65 }, () => ({ item: 'a', count: 1 })) })).toThrow()
    expect(decodePlayerData(utf8('garbage'))).toBeNull()
  })
})

describe('PlayerStateService', () => {
  it('batches writes: a burst of moves is one write, and leaving writes what is left', () => {
    const sim = new Simulator({ seed: SEED })
    const dht = new FakeDht(sim)
    const svc = serviceWith(new MemoryStore(), dht, sim)
    for (let i = 0; i < 100; i++) sim.at(i * 30, () => svc.update({ x: i, y: i }))
    sim.runUntil(10_000)
    expect(dht.puts).toBe(1)
    svc.update({ x: 500 })
    svc.leave()
    sim.runUntil(11_000)
    expect(dht.puts).toBe(2)
    expect(svc.seq).toBe(2)
  })

  it('writes a change within flushIntervalMs, and leaving with nothing new waits for the write in flight', () => {
    const sim = new Simulator({ seed: SEED })
    const dht = new FakeDht(sim)
    dht.delayMs = 3000
    const svc = serviceWith(new MemoryStore(), dht, sim)
    sim.at(1000, () => svc.update({ x: 1 }))
    sim.runUntil(5999)
    expect(dht.puts).toBe(0)
    sim.runUntil(6000)
    expect(dht.puts).toBe(1)
    let left: PutResult | null | undefined
    svc.leave((r) => (left = r))
    sim.runUntil(8999)
    expect(left).toBeUndefined()
    sim.runUntil(9000)
    expect(left?.stored).toBe(1)
    expect(dht.puts).toBe(1)
  })

  it('leaves by writing straight to the last holders, however old, and calls back at a quorum', () => {
    const sim = new Simulator({ seed: SEED })
    const dht = new FakeDht(sim)
    const svc = serviceWith(new MemoryStore(), dht, sim)
    svc.update({ x: 1 })
    sim.runUntil(10_000)
    svc.update({ x: 2 })
    svc.leave()
    sim.runUntil(11_000)
    expect(dht.opts[0]).toMatchObject({ reuseHoldersMs: 60_000 })
    expect(dht.opts[0]?.quorum).toBeUndefined()
    expect(dht.opts[1]).toMatchObject({ reuseHoldersMs: Infinity, quorum: 10 })
  })

  it('writes an unacknowledged state again, and leave waits for the retry', () => {
    const sim = new Simulator({ seed: SEED })
    const dht = new FakeDht(sim)
    const svc = serviceWith(new MemoryStore(), dht, sim)
    svc.update({ x: 7 })
    dht.failing = 1
    let left: PutResult | null | undefined
    svc.leave((r) => (left = r))
    sim.runUntil(1000)
    expect([dht.puts, left]).toEqual([1, undefined])
    sim.runUntil(3000)
    expect(dht.puts).toBe(2)
    expect(svc.stats.retries).toBe(1)
    expect(left?.stored).toBe(1)
    expect(dht.records.get(toHex(svc.key))).toMatchObject({ seq: 1 })
    // A record that keeps failing is retried a bounded number of times.
    const again = serviceWith(new MemoryStore(), dht, sim, 2)
    again.update({ x: 8 })
    dht.failing = 100
    again.flush()
    sim.runUntil(sim.now + 60_000)
    expect(again.stats.retries).toBe(3)
  })

  it('starts from the newer of the local copy and the DHT', async () => {
    const sim = new Simulator({ seed: SEED })
    const dht = new FakeDht(sim)
    const store = new MemoryStore()
    const svc = serviceWith(store, dht, sim)
    const key = crypto.keyPairFromSeed(sim.rng('player-key').bytes(32))
    // Local copy newer (the last write never reached the DHT): local wins and is republished.
    await store.set(svc.storeKey, encodeRecordBytes(signMutable(key, PLAYER_NS, 9, encodePlayerData(ADA))))
    dht.put(signMutable(key, PLAYER_NS, 7, encodePlayerData({ ...ADA, x: 0 })), () => {})
    const a = await startIn(sim, svc)
    expect([a.source, a.seq, a.data.x]).toEqual(['local', 9, ADA.x])
    sim.runUntil(sim.now + 100)
    expect(dht.records.get(toHex(svc.key))).toMatchObject({ seq: 9 })
    // DHT newer (written from another device): the DHT wins and the local copy follows.
    dht.put(signMutable(key, PLAYER_NS, 12, encodePlayerData({ ...ADA, name: 'ada2' })), () => {})
    sim.runUntil(sim.now + 100)
    const b = await startIn(sim, serviceWith(store, dht, sim))
    expect([b.source, b.seq, b.data.name]).toEqual(['dht', 12, 'ada2'])
  })
})

describe('persistence at the Node level', () => {
  const dirs: string[] = []
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

  it('survives a restart from the local store (a file), with nothing in the DHT', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'player-state-'))
    dirs.push(dir)
    const sim = new Simulator({ seed: SEED })
    const first = serviceWith(new FileStore(dir), new FakeDht(sim), sim)
    await startIn(sim, first)
    first.update(ADA)
    first.leave()
    sim.runUntil(sim.now + 1000)
    await first.saved()
    // The process restarts: a new store object on the same directory, a DHT that lost everything.
    const again = serviceWith(new FileStore(dir), new FakeDht(sim), sim, 2)
    const r = await startIn(sim, again)
    expect(r.source).toBe('local')
    expect(r.data).toEqual(ADA)
  })

  it('survives from the DHT alone: a new peer with an empty store and the same identity key', async () => {
    const net = new DhtNetwork({ seed: SEED, link: { keepaliveMs: 5000, deadAfterMs: 15_000 } })
    net.grow(40, { perPeerPerSec: 0.1 })
    net.sim.runUntil(net.sim.now + 20_000)
    const key = crypto.keyPairFromSeed(net.sim.rng('identity').bytes(32))
    const home = net.liveAt(5)
    const svc = new PlayerStateService({ env: home.env, dht: home.dht.records, key })
    const first = svc.start()
    await flush()
    net.sim.runUntil(net.sim.now + 10_000)
    expect((await first).source).toBe('new')
    svc.update(ADA)
    let written: PutResult | null | undefined
    svc.leave((r) => (written = r))
    net.sim.runWhile(() => written === undefined, net.sim.now + 20_000)
    // The leaver may go once 5 hold it; the other STOREs land anyway.
    expect(written?.stored, msg).toBeGreaterThanOrEqual(5)
    net.sim.runUntil(net.sim.now + 2000)
    expect(net.peers.filter((p) => p.dht.store.get(toHex(svc.key), net.sim.now) !== undefined).length, msg).toBeGreaterThanOrEqual(18)
    net.crash(home)
    // Another browser: a new peer, a new (empty) store; only the key came along.
    const device = net.addPeer()
    let joined = false
    net.join(device, net.randomJoined(net.sim.rng('pick')), () => (joined = true))
    net.sim.runWhile(() => !joined, net.sim.now + 30_000)
    const again = new PlayerStateService({ env: device.env, dht: device.dht.records, key })
    const started = again.start()
    await flush()
    net.sim.runUntil(net.sim.now + 15_000)
    const r = await started
    expect(r.source, msg).toBe('dht')
    expect(r.data, msg).toEqual(ADA)
    await again.saved()
    expect(await again.loadLocal(), msg).toMatchObject({ seq: 1 })
  })
})

function encodeRecordBytes(r: DhtRecord): Uint8Array {
  return encodeValue(encodeRecord(r))
}
