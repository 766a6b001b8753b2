import { toHex } from '../core/bytes.js'
import { compareDistance, type PeerId } from '../core/id.js'
import { MAX_VALUE_BYTES, RecordKind, compareRecords, recordSize, sameRecord, type DhtRecord } from './records.js'

export interface RecordStoreInit {
  /** Largest record value accepted. @default 16384 */
  maxValueBytes?: number
  /** Records held at most. @default 4096 */
  maxRecords?: number
  /** Bytes held at most (values plus fixed fields). @default 16 MiB */
  maxBytes?: number
  /** Records one origin (the peer that first stored the key here) may hold. @default 256 */
  maxRecordsPerOrigin?: number
  /** Bytes one origin may hold. @default 1 MiB */
  maxBytesPerOrigin?: number
  /** A record nobody stores again (owner republish or holder re-replication) for this long is dropped. @default 24 h */
  recordTtlMs?: number
  /** Keys with provider records held at most. @default 1024 */
  maxProviderKeys?: number
  /** Providers remembered per key. @default 20 */
  maxProvidersPerKey?: number
  /** A provider record expires unless its provider re-announces it within this. @default 24 h */
  providerTtlMs?: number
}

export interface StoredRecord {
  readonly key: Uint8Array
  readonly keyHex: string
  record: DhtRecord
  size: number
  readonly origin: PeerId
  expiresAt: number
  /** Last time another peer stored this version here (suppresses our own re-replication). */
  receivedAt: number
  /** Last time we pushed it to the current closest peers. */
  replicatedAt: number
}

export type StoreVerdict =
  | 'stored'
  /** The same version again: its expiry is extended. */
  | 'refreshed'
  /** A lower seq than what we hold (a replay of older state). */
  | 'stale'
  /** The same seq with a different value. */
  | 'conflict'
  | 'too-large'
  /** At the total bound, and the key is farther from us than everything we hold. */
  | 'full'
  /** The origin is at its bound. */
  | 'origin-full'

interface Usage {
  count: number
  bytes: number
}

/**
 * The DHT's records, in memory and bounded: record size, total count and bytes,
 * and count and bytes per origin. At the total bound a key closer to us than the
 * farthest one held displaces it (we are responsible for close keys); a farther
 * one is refused. Records must be validated (signature, key) before `put`.
 */
export class RecordStore {
  readonly init: Required<RecordStoreInit>
  private readonly records = new Map<string, StoredRecord>()
  private readonly usage = new Map<PeerId, Usage>()
  private readonly providers = new Map<string, Map<PeerId, number>>()
  private totalBytes = 0

  constructor(
    private readonly self: Uint8Array,
    init: RecordStoreInit = {},
  ) {
    this.init = {
      maxValueBytes: init.maxValueBytes ?? MAX_VALUE_BYTES,
      maxRecords: init.maxRecords ?? 4096,
      maxBytes: init.maxBytes ?? 16 * 1024 * 1024,
      maxRecordsPerOrigin: init.maxRecordsPerOrigin ?? 256,
      maxBytesPerOrigin: init.maxBytesPerOrigin ?? 1024 * 1024,
      recordTtlMs: init.recordTtlMs ?? 24 * 3600_000,
      maxProviderKeys: init.maxProviderKeys ?? 1024,
      maxProvidersPerKey: init.maxProvidersPerKey ?? 20,
      providerTtlMs: init.providerTtlMs ?? 24 * 3600_000,
    }
  }

  get size(): number {
    return this.records.size
  }

  get bytes(): number {
    return this.totalBytes
  }

  usageOf(origin: PeerId): Usage {
    return this.usage.get(origin) ?? { count: 0, bytes: 0 }
  }

  get(keyHex: string, now: number): StoredRecord | undefined {
    const e = this.records.get(keyHex)
    if (e !== undefined && e.expiresAt <= now) {
      this.delete(e)
      return undefined
    }
    return e
  }

  /** Stores a validated record under `key` on behalf of `from`. */
  put(key: Uint8Array, record: DhtRecord, from: PeerId, now: number): StoreVerdict {
    const size = recordSize(record)
    if (record.value.length > this.init.maxValueBytes) return 'too-large'
    const keyHex = toHex(key)
    const held = this.get(keyHex, now)
    if (held !== undefined) {
      if (sameRecord(held.record, record)) {
        held.expiresAt = now + this.init.recordTtlMs
        if (from !== held.origin) held.receivedAt = now
        return 'refreshed'
      }
      if (record.kind !== RecordKind.MUTABLE || held.record.kind !== RecordKind.MUTABLE) return 'conflict'
      if (record.seq < held.record.seq) return 'stale'
      if (record.seq === held.record.seq) return 'conflict'
      const u = this.usageOf(held.origin)
      const delta = size - held.size
      if (u.bytes + delta > this.init.maxBytesPerOrigin) return 'origin-full'
      if (this.totalBytes + delta > this.init.maxBytes) return 'full'
      held.record = record
      held.size = size
      held.expiresAt = now + this.init.recordTtlMs
      held.receivedAt = now
      this.charge(held.origin, 0, delta)
      return 'stored'
    }
    const u = this.usageOf(from)
    if (u.count + 1 > this.init.maxRecordsPerOrigin || u.bytes + size > this.init.maxBytesPerOrigin) return 'origin-full'
    const over = (count: number, bytes: number): boolean => count + 1 > this.init.maxRecords || bytes + size > this.init.maxBytes
    if (over(this.records.size, this.totalBytes)) {
      // Room comes only from records farther than the new one, and only when they make enough:
      // a record refused as full costs no record held.
      let count = this.records.size
      let bytes = this.totalBytes
      for (const e of this.records.values()) {
        if (compareDistance(this.self, e.key, key) <= 0) continue
        count--
        bytes -= e.size
      }
      if (over(count, bytes)) return 'full'
      while (over(this.records.size, this.totalBytes)) this.delete(this.farthest()!)
    }
    const entry: StoredRecord = { key, keyHex, record, size, origin: from, expiresAt: now + this.init.recordTtlMs, receivedAt: now, replicatedAt: now }
    this.records.set(keyHex, entry)
    this.charge(from, 1, size)
    return 'stored'
  }

  /** Forgets a record (an operator's or a test's action; the protocol never deletes). */
  remove(keyHex: string): boolean {
    const e = this.records.get(keyHex)
    if (e === undefined) return false
    this.delete(e)
    return true
  }

  /** Every live record, in insertion order. */
  *entries(now: number): IterableIterator<StoredRecord> {
    for (const e of [...this.records.values()]) if (e.expiresAt > now) yield e
  }

  /** Drops expired records and provider entries. */
  sweep(now: number): void {
    for (const e of [...this.records.values()]) if (e.expiresAt <= now) this.delete(e)
    for (const [keyHex, map] of [...this.providers]) {
      for (const [p, exp] of [...map]) if (exp <= now) map.delete(p)
      if (map.size === 0) this.providers.delete(keyHex)
    }
  }

  /** A peer announces that it provides `keyHex` (it may announce only itself). */
  addProvider(keyHex: string, provider: PeerId, now: number): StoreVerdict {
    let map = this.providers.get(keyHex)
    if (map === undefined) {
      if (this.providers.size >= this.init.maxProviderKeys) return 'full'
      map = new Map()
      this.providers.set(keyHex, map)
    }
    const known = map.has(provider)
    if (!known && map.size >= this.init.maxProvidersPerKey) {
      // The provider whose announcement is oldest (expires first) makes room.
      let oldest: PeerId | undefined
      let at = Infinity
      for (const [p, exp] of map) if (exp < at) [oldest, at] = [p, exp]
      map.delete(oldest!)
    }
    map.delete(provider)
    map.set(provider, now + this.init.providerTtlMs)
    return known ? 'refreshed' : 'stored'
  }

  providersOf(keyHex: string, now: number): PeerId[] {
    const map = this.providers.get(keyHex)
    if (map === undefined) return []
    const out: PeerId[] = []
    for (const [p, exp] of map) if (exp > now) out.push(p)
    return out
  }

  /** Whether `a` is a better record than the one held under `keyHex` (or none is held). */
  isBetter(keyHex: string, a: DhtRecord, now: number): boolean {
    const held = this.get(keyHex, now)
    return held === undefined || compareRecords(a, held.record) > 0
  }

  private farthest(): StoredRecord | undefined {
    let far: StoredRecord | undefined
    for (const e of this.records.values()) if (far === undefined || compareDistance(this.self, e.key, far.key) > 0) far = e
    return far
  }

  private delete(e: StoredRecord): void {
    if (this.records.get(e.keyHex) !== e) return
    this.records.delete(e.keyHex)
    this.charge(e.origin, -1, -e.size)
  }

  private charge(origin: PeerId, count: number, bytes: number): void {
    const u = this.usage.get(origin) ?? { count: 0, bytes: 0 }
    u.count += count
    u.bytes += bytes
    this.totalBytes += bytes
    if (u.count <= 0) this.usage.delete(origin)
    else this.usage.set(origin, u)
  }
}
