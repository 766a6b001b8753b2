import { compareDistance, idToBytes, type PeerId } from '../core/id.js'
import { toHex } from '../core/bytes.js'
import type { DhtErrorCode } from './errors.js'
import type { DhtLookupResult, Kademlia } from './kademlia.js'
import { KadMsg, Status } from './messages.js'
import { RecordKind, compareRecords, recordKey, recordSeq, validateRecord, type DhtRecord } from './records.js'
import type { Purpose } from './rpc.js'

export interface PutResult {
  readonly key: Uint8Array
  /** Peers (ourselves included) that now hold the record. */
  readonly stored: number
  readonly rejected: number
  /** The highest seq a storer reported when it refused ours as stale. */
  readonly staleSeq: number | null
  readonly holders: readonly PeerId[]
  readonly lookup: DhtLookupResult | undefined
  readonly error?: DhtErrorCode
}

export interface GetResult {
  readonly key: Uint8Array
  /** The best valid record found (highest seq), or null. */
  readonly record: DhtRecord | null
  /** Peers that returned that record. */
  readonly holders: number
  /** Closest peers that had an older copy or none and were sent the best (read repair). */
  readonly repaired: number
  readonly lookup: DhtLookupResult
  readonly error?: DhtErrorCode
}

export interface PutOptions {
  readonly purpose?: Purpose
  /** Store to the holders found by a put or get of the same key less than this long ago, if still linked. @default 0 */
  readonly reuseHoldersMs?: number
  /** We own the record: re-publish it periodically. @default false */
  readonly republish?: boolean
  /**
   * `cb` runs as soon as this many peers hold the record, without waiting for
   * the slowest (a dead holder costs an RPC timeout); the other STOREs go on.
   * @default Infinity (wait for every answer)
   */
  readonly quorum?: number
}

const MAX_HOLDER_CACHE = 32

/** put / get / provide on top of lookups: storing to the k closest, selection and read repair. */
export class RecordOps {
  readRepairs = 0
  private readonly holderCache = new Map<string, { peers: PeerId[]; at: number }>()

  constructor(private readonly dht: Kademlia) {}

  /** Stores `record` on the k closest peers to its key (and here, if we are among them). */
  put(record: DhtRecord, cb: (r: PutResult) => void = () => {}, opts: PutOptions = {}): void {
    const dht = this.dht
    const key = recordKey(dht.env.crypto, record)
    const keyHex = toHex(key)
    const purpose = opts.purpose ?? 'app'
    if (validateRecord(dht.env.crypto, key, record, dht.store.init.maxValueBytes) !== 'ok') {
      const r: PutResult = { key, stored: 0, rejected: 0, staleSeq: null, holders: [], lookup: undefined, error: 'INVALID_RECORD' }
      dht.env.timers.setTimeout(() => cb(r), 0)
      return
    }
    const now = dht.env.clock.now()
    if (opts.republish === true) dht.replicator.own(key, record, now)
    const cached = this.holderCache.get(keyHex)
    const reuse = opts.reuseHoldersMs ?? 0
    if (cached !== undefined && now - cached.at < reuse) {
      const linked = cached.peers.filter((p) => dht.rpc.isVerified(p))
      if (linked.length * 2 >= dht.k) return this.storeTo(key, record, linked, purpose, undefined, cb, opts.quorum)
    }
    dht.lookup(
      key,
      (lr) => {
        if (lr.error !== undefined && lr.error !== 'NO_PEERS') {
          return cb({ key, stored: 0, rejected: 0, staleSeq: null, holders: [], lookup: lr, error: lr.error })
        }
        this.remember(keyHex, lr.closest)
        this.storeTo(key, record, lr.closest, purpose, lr, cb, opts.quorum)
      },
      { purpose },
    )
  }

  /** Finds the best record under `key`, then pushes it to close peers that lacked it. */
  get(key: Uint8Array, cb: (r: GetResult) => void, opts: { purpose?: Purpose } = {}): void {
    const dht = this.dht
    const crypto = dht.env.crypto
    const keyHex = toHex(key)
    let best: DhtRecord | null = dht.store.get(keyHex, dht.env.clock.now())?.record ?? null
    const seqOf = new Map<PeerId, number>()
    dht.lookup(
      key,
      (lr) => {
        // The peers that hold the key are where a following put goes (an owner's first write after its resume).
        if (lr.error === undefined && !lr.stoppedEarly && lr.closest.length > 0) this.remember(keyHex, lr.closest)
        let holders = 0
        let repaired = 0
        if (best !== null) {
          const bestSeq = recordSeq(best)
          for (const peer of lr.closest) {
            const seen = seqOf.get(peer)
            if (seen === bestSeq) holders++
            else if (best.kind === RecordKind.MUTABLE) {
              repaired++
              dht.request(peer, { op: KadMsg.STORE, key, record: best }, { purpose: 'maintenance' }, () => {})
            }
          }
          this.readRepairs += repaired
          if (dht.store.isBetter(keyHex, best, dht.env.clock.now()) && this.selfAmongClosest(key, lr.closest)) {
            dht.storeLocal(key, best, dht.localId)
          }
        }
        const error: DhtErrorCode | undefined = best === null ? (lr.error ?? 'NOT_FOUND') : undefined
        cb({ key, record: best, holders, repaired, lookup: lr, ...(error === undefined ? {} : { error }) })
      },
      {
        purpose: opts.purpose ?? 'app',
        findValue: true,
        onAnswer: (peer, res) => {
          const r = res.record
          if (r === null || validateRecord(crypto, key, r, dht.store.init.maxValueBytes) !== 'ok') return false
          seqOf.set(peer, recordSeq(r))
          if (best === null || compareRecords(r, best) > 0) best = r
          // Content-addressed: any valid copy is the copy.
          return r.kind === RecordKind.IMMUTABLE
        },
      },
    )
  }

  /** Announces that we provide `key` to the k closest peers. */
  provide(key: Uint8Array, cb: (stored: number) => void = () => {}): void {
    const dht = this.dht
    dht.store.addProvider(toHex(key), dht.localId, dht.env.clock.now())
    dht.lookup(key, (lr) => {
      let left = lr.closest.length
      let stored = 0
      if (left === 0) return cb(0)
      for (const peer of lr.closest) {
        dht.request(peer, { op: KadMsg.ADD_PROVIDER, key }, { purpose: 'app' }, (o) => {
          if (o.ok && o.res.status === Status.OK) stored++
          if (--left === 0) cb(stored)
        })
      }
    })
  }

  /** Peers that announced they provide `key` (up to `max`). */
  findProviders(key: Uint8Array, cb: (providers: PeerId[]) => void, max = 20): void {
    const dht = this.dht
    const found = new Set<PeerId>(dht.store.providersOf(toHex(key), dht.env.clock.now()))
    dht.lookup(key, () => cb([...found].slice(0, max)), {
      findValue: true,
      onAnswer: (_peer, res) => {
        for (const p of res.providers) if (found.size < max) found.add(toHex(p) as PeerId)
        return found.size >= max
      },
    })
  }

  private storeTo(
    key: Uint8Array,
    record: DhtRecord,
    peers: readonly PeerId[],
    purpose: Purpose,
    lookup: DhtLookupResult | undefined,
    cb: (r: PutResult) => void,
    quorum = Infinity,
  ): void {
    const dht = this.dht
    let stored = 0
    let answered = false
    let rejected = 0
    let staleSeq: number | null = null
    const holders: PeerId[] = []
    if (this.selfAmongClosest(key, peers)) {
      const v = dht.storeLocal(key, record, dht.localId)
      if (v === 'stored' || v === 'refreshed') {
        stored++
        holders.push(dht.localId)
      }
    }
    let left = peers.length
    const answer = (): void => {
      if (answered) return
      answered = true
      const error: DhtErrorCode | undefined = stored === 0 ? 'NOT_STORED' : undefined
      cb({ key, stored, rejected, staleSeq, holders: [...holders], lookup, ...(error === undefined ? {} : { error }) })
    }
    const done = (): void => {
      if (stored * 2 < dht.k) this.holderCache.delete(toHex(key))
      answer()
    }
    if (left === 0) return void dht.env.timers.setTimeout(done, 0)
    for (const peer of peers) {
      dht.request(peer, { op: KadMsg.STORE, key, record }, { purpose }, (o) => {
        if (o.ok && o.res.status === Status.OK) {
          stored++
          holders.push(peer)
          if (stored >= quorum) answer()
        } else if (o.ok) {
          rejected++
          if (o.res.status === Status.STALE && o.res.seq !== null) staleSeq = Math.max(staleSeq ?? 0, o.res.seq)
        }
        if (--left === 0) done()
      })
    }
  }

  /** True when fewer than k of `peers` are closer to `key` than we are. */
  private selfAmongClosest(key: Uint8Array, peers: readonly PeerId[]): boolean {
    const self = this.dht.localBytes
    let closer = 0
    for (const p of peers) if (compareDistance(key, idToBytes(p), self) < 0) closer++
    return closer < this.dht.k
  }

  private remember(keyHex: string, peers: PeerId[]): void {
    this.holderCache.delete(keyHex)
    if (this.holderCache.size >= MAX_HOLDER_CACHE) this.holderCache.delete(this.holderCache.keys().next().value as string)
    this.holderCache.set(keyHex, { peers, at: this.dht.env.clock.now() })
  }
}
