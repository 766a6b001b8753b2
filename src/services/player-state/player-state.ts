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
  readonly stats: PlayerStateStats = { flushes: 0, putsStored: 0, putsFailed: 0, localSaveErrors: 0 }
  private readonly c: PlayerStateComponents
  private readonly flushIntervalMs: number
  private readonly reuseHoldersMs: number
  private readonly onWrite: (seq: number, r: PutResult) => void
  private data: PlayerData
  private seqValue = 0
  private dirty = false
  private timer: unknown = undefined
  private stopped = false
  private lastSave: Promise<void> = Promise.resolve()

  constructor(components: PlayerStateComponents, init: PlayerStateInit = {}) {
    this.c = components
    this.key = mutableKey(components.env.crypto, PLAYER_NS, components.key.publicKey)
    this.storeKey = `player-state/${toHex(components.key.publicKey)}`
    this.flushIntervalMs = init.flushIntervalMs ?? 5000
    this.reuseHoldersMs = init.reuseHoldersMs ?? 60_000
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

  /** Writes unsaved changes now: a new seq, signed, to the local store and the DHT. */
  flush(cb: (r: PutResult | null) => void = () => {}): void {
    if (this.timer !== undefined) this.c.env.timers.clearTimeout(this.timer)
    this.timer = undefined
    if (!this.dirty) {
      this.c.env.timers.setTimeout(() => cb(null), 0)
      return
    }
    this.dirty = false
    this.stats.flushes++
    this.seqValue++
    const seq = this.seqValue
    const record = signMutable(this.c.key, PLAYER_NS, seq, encodePlayerData(this.data))
    this.saveLocal(record)
    this.c.dht.put(
      record,
      (r) => {
        if (r.error === undefined) this.stats.putsStored++
        else this.stats.putsFailed++
        this.onWrite(seq, r)
        // Someone holds a newer seq (written from another device): write ours above it.
        if (r.staleSeq !== null && r.staleSeq >= this.seqValue && !this.stopped) {
          this.seqValue = r.staleSeq
          this.update({})
        }
        cb(r)
      },
      { reuseHoldersMs: this.reuseHoldersMs, republish: true },
    )
  }

  /** The player leaves: writes what is unsaved, then stops. `cb` runs when the DHT write completes. */
  leave(cb: (r: PutResult | null) => void = () => {}): void {
    this.flush(cb)
    this.stop()
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
