import { toHex } from '../../core/bytes.js'
import { decodeValue, encodeValue } from '../../core/codec.js'
import type { Env, KeyPair } from '../../core/env.js'
import type { GetResult, PutOptions, PutResult } from '../../kademlia/record-ops.js'
import {
  PLAYER_NS,
  RecordKind,
  decodeRecord,
  encodeRecord,
  mutableKey,
  signMutable,
  validateRecord,
  type DhtRecord,
  type MutableRecord,
} from '../../kademlia/records.js'
import { NEW_PLAYER, checkPlayerData, decodePlayerData, encodePlayerData, type PlayerData } from './player-data.js'

/** What the service needs from the DHT (Kademlia's `records`). */
export interface PlayerStateDht {
  put(record: DhtRecord, cb: (r: PutResult) => void, opts?: PutOptions): void
  get(key: Uint8Array, cb: (r: GetResult) => void): void
}

export interface PlayerStateComponents {
  env: Pick<Env, 'clock' | 'timers' | 'crypto' | 'store' | 'log'>
  dht: PlayerStateDht
  /** The player's identity key: the record's owner. */
  key: KeyPair
}

export interface PlayerStateInit {
  /** Changes are written (local store and DHT) at most this long after the first unsaved one. @default 5000 */
  flushIntervalMs?: number
  /** Writes within this long of a lookup go straight to the holders it found. @default 60000 */
  reuseHoldersMs?: number
  /**
   * A write that fewer peers than this acknowledged is written again (the same
   * record, after a fresh lookup) unless a newer one supersedes it. @default 3
   */
  minHolders?: number
  /** Wait before writing an unacknowledged record again. @default 2000 */
  retryMs?: number
  /** Times one record is written again at most. @default 3 */
  maxRetries?: number
  /**
   * `leave`'s callback runs once this many peers hold the last state, not after
   * the slowest answer (a holder that just died costs an RPC timeout), so a
   * leaving player waits as little as possible for a write that is safe. @default 10
   */
  leaveQuorum?: number
  /** The state of a player nobody has seen before. */
  initial?: PlayerData
  /** Told when each DHT write completes (a "saved" indicator; the simulator's bookkeeping). */
  onWrite?: (seq: number, r: PutResult) => void
}

export type StateSource = 'local' | 'dht' | 'new'

export interface ResumeResult {
  readonly data: PlayerData
  readonly seq: number
  /** Where the state came from: the newer of the local copy and the DHT, or a new player. */
  readonly source: StateSource
  readonly localSeq: number | null
  readonly dhtSeq: number | null
}

export interface PlayerStateStats {
  flushes: number
  putsStored: number
  putsFailed: number
  /** Writes of a record again after too few peers acknowledged it. */
  retries: number
  localSaveErrors: number
}

/**
 * A player's persistent state: a mutable record signed with the player's key
 * at SHA-256("player/" ‖ public key), kept in the local store and in the DHT.
 * On start the newer of the two wins; changes are batched (flushIntervalMs, and
 * on leave), never written once per move.
 */
export class PlayerStateService {
  readonly key: Uint8Array
  /** The local store's key for this player's record. */
  readonly storeKey: string
  readonly stats: PlayerStateStats = { flushes: 0, putsStored: 0, putsFailed: 0, retries: 0, localSaveErrors: 0 }
  private readonly c: PlayerStateComponents
  private readonly flushIntervalMs: number
  private readonly reuseHoldersMs: number
  private readonly minHolders: number
  private readonly retryMs: number
  private readonly maxRetries: number
  private readonly leaveQuorum: number
  private readonly onWrite: (seq: number, r: PutResult) => void
  private data: PlayerData
  private seqValue = 0
  private dirty = false
  private timer: unknown = undefined
  /** The newest write still in flight, and who waits for it. */
  private writing: { seq: number; waiters: ((r: PutResult | null) => void)[] } | undefined = undefined
  private stopped = false
  private lastSave: Promise<void> = Promise.resolve()

  constructor(components: PlayerStateComponents, init: PlayerStateInit = {}) {
    this.c = components
    this.key = mutableKey(components.env.crypto, PLAYER_NS, components.key.publicKey)
    this.storeKey = `player-state/${toHex(components.key.publicKey)}`
    this.flushIntervalMs = init.flushIntervalMs ?? 5000
    this.reuseHoldersMs = init.reuseHoldersMs ?? 60_000
    this.minHolders = init.minHolders ?? 3
    this.retryMs = init.retryMs ?? 2000
    this.maxRetries = init.maxRetries ?? 3
    this.leaveQuorum = init.leaveQuorum ?? 10
    this.onWrite = init.onWrite ?? (() => {})
    this.data = init.initial ?? NEW_PLAYER
    checkPlayerData(this.data)
  }

  get state(): PlayerData {
    return this.data
  }

  /** Seq of the last record written or adopted. */
  get seq(): number {
    return this.seqValue
  }

  /** Loads the local copy, then resumes from the newer of it and the DHT's. */
  async start(): Promise<ResumeResult> {
    const local = await this.loadLocal()
    return new Promise((resolve) => this.resume(local, resolve))
  }

  /** The synchronous core of {@link start}, for callers that loaded the local record themselves (the simulator). */
  resume(local: MutableRecord | null, cb: (r: ResumeResult) => void): void {
    this.c.dht.get(this.key, (r) => {
      const fromDht = this.usable(r.record)
      const localSeq = local?.seq ?? null
      const dhtSeq = fromDht?.record.seq ?? null
      let source: StateSource = 'new'
      if (fromDht !== null && (local === null || fromDht.record.seq > local.seq)) {
        source = 'dht'
        this.adopt(fromDht.record, fromDht.data)
        this.saveLocal(fromDht.record)
      } else if (local !== null) {
        const data = decodePlayerData(local.value)
        if (data !== null) {
          source = 'local'
          this.adopt(local, data)
          // The DHT lost our newest state (or never had it): publish it again.
          if (dhtSeq === null || dhtSeq < local.seq) this.c.dht.put(local, () => {}, { republish: true })
        }
      }
      cb({ data: this.data, seq: this.seqValue, source, localSeq, dhtSeq })
    })
  }

  /** Changes the state; written within flushIntervalMs together with later changes. */
  update(patch: Partial<PlayerData>): void {
    if (this.stopped) return
    const next = { ...this.data, ...patch }
    checkPlayerData(next)
    this.data = next
    this.dirty = true
    if (this.timer === undefined) {
      this.timer = this.c.env.timers.setTimeout(() => {
        this.timer = undefined
        this.flush()
      }, this.flushIntervalMs)
    }
  }

  /**
   * Writes unsaved changes now: a new seq, signed, to the local store and the DHT.
   * With nothing unsaved, `cb` waits for the newest write still in flight (null if none).
   */
  flush(cb: (r: PutResult | null) => void = () => {}): void {
    this.writeNow(cb, { reuseHoldersMs: this.reuseHoldersMs })
  }

  /**
   * The player leaves: writes what is unsaved, then stops. `cb` runs once
   * leaveQuorum peers hold the last state. The write goes straight to the holders
   * of the last write that are still linked, however old: a lookup now could take
   * longer than a leaving player waits, and then nothing would be stored at all.
   */
  leave(cb: (r: PutResult | null) => void = () => {}): void {
    this.writeNow(cb, { reuseHoldersMs: Infinity, quorum: this.leaveQuorum })
    this.stop()
  }

  private writeNow(cb: (r: PutResult | null) => void, opts: { reuseHoldersMs: number; quorum?: number }): void {
    if (this.timer !== undefined) this.c.env.timers.clearTimeout(this.timer)
    this.timer = undefined
    if (!this.dirty) {
      if (this.writing !== undefined) this.writing.waiters.push(cb)
      else this.c.env.timers.setTimeout(() => cb(null), 0)
      return
    }
    this.dirty = false
    this.stats.flushes++
    this.seqValue++
    const record = signMutable(this.c.key, PLAYER_NS, this.seqValue, encodePlayerData(this.data))
    this.saveLocal(record)
    this.write(record, 0, opts, [cb])
  }

  private write(record: MutableRecord, attempt: number, first: { reuseHoldersMs: number; quorum?: number }, waiters: ((r: PutResult | null) => void)[]): void {
    const w = { seq: record.seq, waiters }
    this.writing = w
    const finish = (r: PutResult): void => {
      if (this.writing === w) this.writing = undefined
      for (const f of w.waiters) f(r)
    }
    // A retry looks the holders up afresh: the ones it reached may be the reason it failed.
    const opts = { ...first, reuseHoldersMs: attempt === 0 ? first.reuseHoldersMs : 0, republish: true }
    this.c.dht.put(
      record,
      (r) => {
        if (r.error === undefined) this.stats.putsStored++
        else this.stats.putsFailed++
        this.onWrite(record.seq, r)
        if (r.staleSeq !== null && r.staleSeq >= this.seqValue) {
          // Someone holds a newer seq (written from another device): write ours above it.
          if (!this.stopped) {
            this.seqValue = r.staleSeq
            this.update({})
          }
        } else if (r.stored < this.minHolders && record.seq === this.seqValue && attempt < this.maxRetries) {
          // Too few holders (a failed lookup, holders that had just left): the newest
          // state must not rest on them. Whoever waits for this write waits for the retry.
          this.c.env.timers.setTimeout(() => {
            if (record.seq !== this.seqValue) return finish(r)
            this.stats.retries++
            this.write(record, attempt + 1, first, w.waiters)
          }, this.retryMs)
          return
        }
        finish(r)
      },
      opts,
    )
  }

  stop(): void {
    this.stopped = true
    if (this.timer !== undefined) this.c.env.timers.clearTimeout(this.timer)
    this.timer = undefined
  }

  /** Reads and verifies the record in the local store; null when absent or invalid. */
  async loadLocal(): Promise<MutableRecord | null> {
    const bytes = await this.c.env.store.get(this.storeKey)
    if (bytes === undefined) return null
    const rec = decodeRecord(decodeValue(bytes))
    return this.usable(rec)?.record ?? null
  }

  private usable(rec: DhtRecord | null): { record: MutableRecord; data: PlayerData } | null {
    if (rec === null || rec.kind !== RecordKind.MUTABLE || validateRecord(this.c.env.crypto, this.key, rec) !== 'ok') return null
    const data = decodePlayerData(rec.value)
    return data === null ? null : { record: rec, data }
  }

  private adopt(record: MutableRecord, data: PlayerData): void {
    this.data = data
    this.seqValue = Math.max(this.seqValue, record.seq)
  }

  /** Resolves when the last local save has finished (it never rejects: failures are logged and counted). */
  saved(): Promise<void> {
    return this.lastSave
  }

  private saveLocal(record: MutableRecord): void {
    const bytes = encodeValue(encodeRecord(record))
    // Saves are chained so an older record never lands after a newer one.
    this.lastSave = this.lastSave
      .then(() => this.c.env.store.set(this.storeKey, bytes))
      .catch((err: unknown) => {
        this.stats.localSaveErrors++
        this.c.env.log.warn('player state: local save failed', { err: String(err) })
      })
  }
}
