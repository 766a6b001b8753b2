import { decodeValue } from '../../core/codec.js'
import type { PeerId } from '../../core/id.js'
import { KadMsg, MAX_LIST, decodeRequest, decodeResponse, encodeRequest, encodeResponse, type Envelope, type Request, type Response } from '../../kademlia/messages.js'
import { RecordStore } from '../../kademlia/record-store.js'
import { MAX_VALUE_BYTES, RecordKind, decodeRecord, encodeRecord, recordKey, validateRecord, type DhtRecord } from '../../kademlia/records.js'
import { isBytesOf, isUintMax, needRoundTrip } from '../bounds.js'
import { FakeCrypto } from '../fake-crypto.js'
import type { Gen } from '../gen.js'
import { encodedRecord, kadRequest, kadResponse, peerId, record } from '../seeds.js'
import { fuzzCase, need, valueTarget, type FuzzTarget } from '../target.js'

const crypto = new FakeCrypto()
const keyPairs = [1, 2, 3, 4].map((i) => crypto.keyPairFromSeed(new Uint8Array(32).fill(i)))

function needRecord(r: DhtRecord): void {
  need(r.value instanceof Uint8Array && r.value.length <= MAX_VALUE_BYTES, `value of at most ${MAX_VALUE_BYTES} bytes`)
  if (r.kind === RecordKind.IMMUTABLE) return
  need(r.kind === RecordKind.MUTABLE, 'kind mutable or immutable')
  need(typeof r.ns === 'string' && r.ns.length <= 32, 'namespace of at most 32 characters')
  need(isBytesOf(r.publicKey, 32) && isBytesOf(r.signature, 64), '32-byte key, 64-byte signature')
  need(isUintMax(r.seq, Number.MAX_SAFE_INTEGER), 'seq a safe unsigned integer')
}

function needEnvelope<T>(e: Envelope<T>): void {
  need(isUintMax(e.rid, 0xffffffff), 'rid a u32')
  need(e.publicKey === null || isBytesOf(e.publicKey, 32), 'public key null or 32 bytes')
}

function needRequest(op: number, e: Envelope<Request>): void {
  needEnvelope(e)
  const b = e.body
  need(b.op === op, 'the body is of the frame type')
  if (b.op === KadMsg.FIND_NODE) need(isBytesOf(b.target, 32), '32-byte target')
  if (b.op === KadMsg.FIND_VALUE || b.op === KadMsg.ADD_PROVIDER || b.op === KadMsg.STORE) need(isBytesOf(b.key, 32), '32-byte key')
  if (b.op === KadMsg.STORE) needRecord(b.record)
  if (b.op === KadMsg.KEEP) need(typeof b.keep === 'boolean', 'keep a boolean')
  needRoundTrip(e, decodeRequest(op, encodeRequest(e.rid, e.publicKey, b)), 'request')
}

const OPS = [KadMsg.PING, KadMsg.FIND_NODE, KadMsg.FIND_VALUE, KadMsg.STORE, KadMsg.ADD_PROVIDER, KadMsg.KEEP]

/** A Kademlia payload (one msgpack binary) and the frame type it came with, sometimes another one. */
function requestInput(gen: Gen, make: () => { op: number; payload: Uint8Array }): RequestInput {
  const first = make()
  // The message inside the binary, as a value: structural mutations reach its fields.
  const seed = (): unknown => decodeValue(gen.r.chance(0.7) ? first.payload : make().payload)
  const op = gen.r.chance(0.9) ? first.op : gen.r.chance(0.8) ? gen.r.pick(OPS) : gen.r.int(256)
  return { op, payload: gen.r.chance(0.05) ? gen.payload(seed) : gen.bytes(seed) }
}

type RequestInput = { op: number; payload: unknown }
type StoreInput = RequestInput & { from: PeerId }
type StoreOutcome = { verdict: string; before: number; after: number }

/** A fingerprint of what a record store holds: its records' keys, origins, sizes, expiry and versions. */
function snapshot(store: RecordStore, now: number): number {
  let h = store.size * 1_000_003 + store.bytes
  for (const e of store.entries(now)) {
    const seq = e.record.kind === RecordKind.MUTABLE ? e.record.seq : 0
    h = (h * 31 + parseInt(e.keyHex.slice(0, 8), 16) + parseInt(e.origin.slice(0, 8), 16) + e.size + e.expiresAt + seq) % 2 ** 48
  }
  return h
}

export const kademliaTargets: FuzzTarget[] = [
  valueTarget('kad-record', 'src/kademlia/records.ts decodeRecord', (g) => () => encodedRecord(g.r, g.r.pick(keyPairs)), decodeRecord, (rec) => {
    needRecord(rec)
    needRoundTrip(rec, decodeRecord(encodeRecord(rec)), 'record')
  }),
  {
    name: 'kad-request',
    what: 'src/kademlia/messages.ts decodeRequest',
    create(gen) {
      const make = gen.pool(() => kadRequest(gen.r, gen.r.pick(keyPairs)))
      return fuzzCase<RequestInput, Envelope<Request> | null>({
        next: () => requestInput(gen, make),
        run: ({ op, payload }) => decodeRequest(op, payload),
        accepted: (out) => out !== null,
        check: (input, out) => (out === null ? undefined : needRequest(input.op, out)),
      })
    },
  },
  {
    name: 'kad-response',
    what: 'src/kademlia/messages.ts decodeResponse',
    create(gen) {
      const seed = gen.pool(() => decodeValue(kadResponse(gen.r, gen.r.pick(keyPairs))))
      return fuzzCase<unknown, Envelope<Response> | null>({
        next: () => (gen.r.chance(0.05) ? gen.payload(seed) : gen.bytes(seed)),
        run: (input) => decodeResponse(input),
        accepted: (out) => out !== null,
        check: (_input, out) => {
          if (out === null) return
          needEnvelope(out)
          const b = out.body
          need(isUintMax(b.status, 255), 'status a byte')
          need(b.contacts instanceof Uint8Array && b.contacts.length % 32 === 0 && b.contacts.length <= MAX_LIST * 32, `contacts: at most ${MAX_LIST} 32-byte ids`)
          need(b.providers.length <= MAX_LIST && b.providers.every((p) => isBytesOf(p, 32)), `providers: at most ${MAX_LIST} 32-byte ids`)
          need(b.seq === null || isUintMax(b.seq, Number.MAX_SAFE_INTEGER), 'seq null or a safe unsigned integer')
          if (b.record !== null) needRecord(b.record)
          needRoundTrip(out, decodeResponse(encodeResponse(out.rid, out.publicKey, b)), 'response')
        },
      })
    },
  },
  {
    // The STORE path of a storing peer (server.ts, Kademlia.storeLocal): decode, validate, put.
    name: 'kad-store',
    what: 'decodeRequest(STORE) -> validateRecord -> RecordStore.put',
    create(gen) {
      const store = new RecordStore(new Uint8Array(32), { maxRecords: 24, maxRecordsPerOrigin: 12, maxBytes: 128 * 1024 })
      const origins = [peerId(gen.r), peerId(gen.r), peerId(gen.r)]
      let now = 0
      const make = gen.pool(() => {
        const rec = record(gen.r, gen.r.pick(keyPairs))
        const key = gen.r.chance(0.95) ? recordKey(crypto, rec) : gen.r.bytes(32)
        return { op: KadMsg.STORE as number, payload: encodeRequest(gen.r.u32(), null, { op: KadMsg.STORE, key, record: rec }) }
      })
      return fuzzCase<StoreInput, StoreOutcome>({
        next: () => ({ ...requestInput(gen, make), from: gen.r.pick(origins) }),
        run: ({ op, payload, from }) => {
          now += gen.r.int(1000)
          const before = snapshot(store, now)
          const req = decodeRequest(op, payload)
          let verdict = 'malformed'
          if (req !== null && req.body.op === KadMsg.STORE) {
            const { key, record: rec } = req.body
            verdict = validateRecord(crypto, key, rec, store.init.maxValueBytes) === 'ok' ? store.put(key, rec, from, now) : 'invalid'
          } else if (req !== null) verdict = 'other-op'
          return { verdict, before, after: snapshot(store, now) }
        },
        accepted: (o) => o.verdict === 'stored' || o.verdict === 'refreshed',
        check: (_input, o) => {
          need(store.size <= store.init.maxRecords && store.bytes <= store.init.maxBytes, 'the store within its bounds')
          if (o.verdict !== 'stored' && o.verdict !== 'refreshed') need(o.before === o.after, `a ${o.verdict} STORE changed the store`)
        },
      })
    },
  },
]
