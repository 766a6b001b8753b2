import { describe, expect, it } from 'vitest'
import { toHex, utf8 } from '../core/bytes.js'
import { decodeValue, encodeValue } from '../core/codec.js'
import { peerIdFromBytes, type PeerId } from '../core/id.js'
import { NodeCrypto } from '../platform/node/node-crypto.js'
import { SeededRng } from '../sim/rng.js'
import { randomIdInBucket } from './distance.js'
import { KadMsg, decodeRequest, decodeResponse, encodeRequest, encodeResponse, EMPTY_RESPONSE } from './messages.js'
import { RecordStore } from './record-store.js'
import {
  MAX_VALUE_BYTES,
  PLAYER_NS,
  compareRecords,
  decodeRecord,
  encodeRecord,
  immutableRecord,
  mutableKey,
  recordKey,
  signMutable,
  validateRecord,
} from './records.js'

const crypto = new NodeCrypto()
const rng = new SeededRng(Number(process.env.SEED ?? 3), 'records')
const alice = crypto.keyPairFromSeed(rng.bytes(32))
const mallory = crypto.keyPairFromSeed(rng.bytes(32))
const aliceKey = mutableKey(crypto, PLAYER_NS, alice.publicKey)

describe('records', () => {
  it('binds a mutable record to SHA-256("player/" + owner key) and checks the signature', () => {
    expect(aliceKey).toEqual(crypto.sha256(new Uint8Array([...utf8('player/'), ...alice.publicKey])))
    const r = signMutable(alice, PLAYER_NS, 7, utf8('state'))
    expect(validateRecord(crypto, aliceKey, r)).toBe('ok')
    expect(validateRecord(crypto, aliceKey, { ...r, value: utf8('forged') })).toBe('bad-signature')
    expect(validateRecord(crypto, aliceKey, { ...r, seq: 8 })).toBe('bad-signature')
    // Mallory signs with her key under Alice's key: the key binding fails.
    expect(validateRecord(crypto, aliceKey, signMutable(mallory, PLAYER_NS, 9, utf8('x')))).toBe('bad-key')
    // ... and with Alice's public key but her own signature: the signature fails.
    const m = signMutable(mallory, PLAYER_NS, 9, utf8('x'))
    expect(validateRecord(crypto, aliceKey, { ...m, publicKey: alice.publicKey })).toBe('bad-signature')
    expect(validateRecord(crypto, aliceKey, signMutable(alice, PLAYER_NS, 1, new Uint8Array(MAX_VALUE_BYTES + 1)))).toBe('too-large')
  })

  it('content-addresses immutable records', () => {
    const r = immutableRecord(utf8('chunk'))
    expect(validateRecord(crypto, recordKey(crypto, r), r)).toBe('ok')
    expect(validateRecord(crypto, crypto.sha256(utf8('other')), r)).toBe('bad-key')
  })

  it('round-trips records and messages, and decodes garbage to null without throwing', () => {
    const r = signMutable(alice, PLAYER_NS, 3, utf8('v'))
    expect(decodeRecord(decodeValue(encodeValue(encodeRecord(r))))).toEqual(r)
    const req = { op: KadMsg.STORE, key: aliceKey, record: r } as const
    expect(decodeRequest(KadMsg.STORE, encodeRequest(5, alice.publicKey, req))).toEqual({ rid: 5, publicKey: alice.publicKey, body: req })
    const res = { ...EMPTY_RESPONSE, contacts: rng.bytes(64), record: r, seq: 2 }
    expect(decodeResponse(encodeResponse(9, null, res))).toEqual({ rid: 9, publicKey: null, body: res })
    const fuzz = new SeededRng(11, 'fuzz')
    for (let i = 0; i < 800; i++) {
      const good = i % 2 === 0 ? encodeRequest(i, null, req) : encodeResponse(i, alice.publicKey, res)
      const bad = good.slice()
      for (let j = 0; j < 1 + fuzz.int(4); j++) bad[fuzz.int(bad.length)] = fuzz.int(256)
      const cut = fuzz.next() < 0.3 ? bad.subarray(0, fuzz.int(bad.length)) : bad
      for (const op of [1, 2, 3, 4, 5, 6, 7]) expect(() => decodeRequest(op, cut)).not.toThrow()
      expect(() => decodeResponse(cut)).not.toThrow()
      expect(() => decodeRecord(decodeValue(cut))).not.toThrow()
    }
    expect(decodeRequest(KadMsg.FIND_NODE, 'not bytes')).toBeNull()
    expect(decodeResponse(encodeValue([1, null, 0, new Uint8Array(33), null, [], null]))).toBeNull()
  })

  it('selects the higher seq, and breaks a same-seq tie the same way everywhere', () => {
    const a = signMutable(alice, PLAYER_NS, 2, utf8('a'))
    const b = signMutable(alice, PLAYER_NS, 3, utf8('b'))
    const c = signMutable(alice, PLAYER_NS, 3, utf8('c'))
    expect(compareRecords(b, a)).toBeGreaterThan(0)
    expect(Math.sign(compareRecords(b, c))).toBe(-Math.sign(compareRecords(c, b)))
  })
})

describe('RecordStore', () => {
  const self = rng.bytes(32)
  const sender = peerIdFromBytes(rng.bytes(32))!

  it('rejects a replayed older record and a same-seq record with a different value; refreshes the same one', () => {
    const store = new RecordStore(self)
    const v5 = signMutable(alice, PLAYER_NS, 5, utf8('five'))
    expect(store.put(aliceKey, v5, sender, 0)).toBe('stored')
    expect(store.put(aliceKey, signMutable(alice, PLAYER_NS, 4, utf8('four')), sender, 1)).toBe('stale')
    expect(store.put(aliceKey, signMutable(alice, PLAYER_NS, 5, utf8('other five')), sender, 2)).toBe('conflict')
    expect(store.put(aliceKey, v5, sender, 3)).toBe('refreshed')
    expect(store.put(aliceKey, signMutable(alice, PLAYER_NS, 6, utf8('six')), sender, 4)).toBe('stored')
    expect(store.get(toHex(aliceKey), 5)?.record).toMatchObject({ seq: 6 })
  })

  it('expires records nobody stores again, and provider records nobody re-announces', () => {
    const store = new RecordStore(self, { recordTtlMs: 1000, providerTtlMs: 500 })
    const r = immutableRecord(utf8('x'))
    const key = recordKey(crypto, r)
    store.put(key, r, sender, 0)
    store.addProvider(toHex(key), sender, 0)
    expect(store.providersOf(toHex(key), 499)).toEqual([sender])
    expect(store.providersOf(toHex(key), 500)).toEqual([])
    store.put(key, r, sender, 900) // a holder re-replicates: the expiry moves
    store.sweep(1500)
    expect(store.size).toBe(1)
    store.sweep(1900)
    expect(store.size).toBe(0)
  })

  it('bounds records per origin and in total; at the bound a closer key displaces the farthest', () => {
    const store = new RecordStore(self, { maxRecords: 50, maxRecordsPerOrigin: 20, maxBytesPerOrigin: 1 << 20 })
    const origins: PeerId[] = Array.from({ length: 5 }, () => peerIdFromBytes(rng.bytes(32))!)
    const verdicts = new Map<string, number>()
    for (const origin of origins) {
      for (let i = 0; i < 40; i++) {
        const v = store.put(rng.bytes(32), immutableRecord(rng.bytes(100)), origin, 0)
        verdicts.set(v, (verdicts.get(v) ?? 0) + 1)
        expect(store.size).toBeLessThanOrEqual(50)
        expect(store.usageOf(origin).count).toBeLessThanOrEqual(20)
      }
    }
    expect(verdicts.get('origin-full')).toBeGreaterThan(0)
    expect(verdicts.get('full')).toBeGreaterThan(0)
    // A key very close to us still gets in, displacing the farthest.
    const close = randomIdInBucket(self, 40, rng)
    expect(store.put(close, immutableRecord(utf8('near')), peerIdFromBytes(rng.bytes(32))!, 0)).toBe('stored')
    expect(store.size).toBe(50)
  })

  it('a record refused as full costs no record held (eviction only when it makes room enough)', () => {
    const zero = new Uint8Array(32)
    const store = new RecordStore(zero, { maxBytes: 30_000 })
    const key = (b: number): Uint8Array => {
      const k = new Uint8Array(32)
      k[0] = b
      return k
    }
    expect(store.put(key(0x80), immutableRecord(new Uint8Array(1000)), sender, 0)).toBe('stored') // far, small
    expect(store.put(key(0x01), immutableRecord(new Uint8Array(15_000)), sender, 0)).toBe('stored') // close, big
    const before = store.size
    // Between the two: evicting the far one would not make room, and the close one stays.
    expect(store.put(key(0x40), immutableRecord(new Uint8Array(15_500)), sender, 0)).toBe('full')
    expect(store.size).toBe(before)
    // A smaller one in the same place fits once the far one goes.
    expect(store.put(key(0x40), immutableRecord(new Uint8Array(14_500)), sender, 0)).toBe('stored')
    expect(store.size).toBe(2)
  })
})
