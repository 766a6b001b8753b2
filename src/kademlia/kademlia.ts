import { toHex } from '../core/bytes.js'
import type { Env, KeyPair } from '../core/env.js'
import { ID_BYTES, idToBytes, type PeerId } from '../core/id.js'
import type { LinkProtocol } from '../link/link-manager.js'
import { PROTOCOL } from '../link/link-messages.js'
import { randomIdInBucket } from './distance.js'
import type { DhtErrorCode } from './errors.js'
import { LinkKeeper, type LinkKeeperInit } from './keeper.js'
import { Lookup, type LookupResult, type LookupSeed } from './lookup.js'
import { EMPTY_RESPONSE, KadMsg, Status, type Request, type Response } from './messages.js'
import { RecordOps } from './record-ops.js'
import { RecordStore, type RecordStoreInit, type StoreVerdict } from './record-store.js'
import { validateRecord, type DhtRecord } from './records.js'
import { Replicator, type ReplicatorInit } from './replicator.js'
import { RoutingTable, type Contact, type RoutingTableInit } from './routing-table.js'
import { Rpc, type DhtLinks, type Purpose, type RpcInit, type RpcOutcome } from './rpc.js'

export interface KademliaComponents {
  env: Env
  links: DhtLinks
  localId: PeerId
  keyPair: KeyPair
}

export interface KademliaInit extends RoutingTableInit, RpcInit, ReplicatorInit, LinkKeeperInit {
  /** Queries in flight per lookup. @default 3 */
  alpha?: number
  /** A query outstanding this long frees its alpha slot (it may still answer). @default 1500 */
  slowQueryMs?: number
  /** Candidates a lookup remembers. @default 100 */
  maxCandidates?: number
  /** Lookups running at once; more fail with BUSY. @default 32 */
  maxLookups?: number
  /** Refresh a bucket no lookup went through for this long. @default 600000 */
  refreshIntervalMs?: number
  /** Period of the maintenance timer (refresh, replication, expiry). @default 30000 */
  maintenanceIntervalMs?: number
  /** Ping a full bucket's oldest contact only if it was silent this long (links already carry keepalives). @default 60000 */
  pingStaleMs?: number
  /** Bucket refreshes run at once while joining. @default 2 */
  joinConcurrency?: number
  /**
   * Size of the closest set a bucket-refresh lookup converges on. A refresh
   * only needs a few live contacts in that bucket, and every peer it queries
   * costs a link setup. @default 8
   */
  refreshK?: number
  /** After the self-lookup, a join refreshes the buckets with fewer contacts than this. @default 2 */
  joinRefreshBelow?: number
  /**
   * Look up our own id again this long after joining, to meet the neighbours that
   * joined while we did (neither lookup could have found the other). @default 30000
   */
  rejoinDelayMs?: number
  /** Look up our own id this often, keeping the sibling set (our k closest) complete. @default 300000 */
  selfRefreshMs?: number
  store?: RecordStoreInit
}

export interface DhtLookupResult extends LookupResult {
  readonly error?: DhtErrorCode
}

export interface JoinResult {
  readonly ok: boolean
  readonly lookups: number
  readonly durationMs: number
  readonly tableSize: number
}

export interface KademliaStats {
  lookupsStarted: number
  lookupsBusy: number
  stores: Record<StoreVerdict | 'invalid', number>
  pings: number
  pingEvictions: number
}

/**
 * The Kademlia DHT of one peer (spec: kademlia.md), on the shared links at
 * MEDIUM priority. Routing-table contacts are peers we hold a link to; a
 * contact a lookup learns from peer B is connected through B (an introduction).
 */
export class Kademlia implements LinkProtocol {
  readonly id = PROTOCOL.KADEMLIA
  readonly env: Env
  readonly localId: PeerId
  readonly localBytes: Uint8Array
  readonly table: RoutingTable
  readonly store: RecordStore
  readonly rpc: Rpc
  readonly records: RecordOps
  readonly replicator: Replicator
  readonly keeper: LinkKeeper
  readonly k: number
  readonly stats: KademliaStats = {
    lookupsStarted: 0,
    lookupsBusy: 0,
    stores: { stored: 0, refreshed: 0, stale: 0, conflict: 0, 'too-large': 0, full: 0, 'origin-full': 0, invalid: 0 },
    pings: 0,
    pingEvictions: 0,
  }
  private readonly links: DhtLinks
  private readonly opts: Required<Omit<KademliaInit, keyof RoutingTableInit | keyof RpcInit | keyof ReplicatorInit | keyof LinkKeeperInit | 'store'>>
  private readonly pinging = new Set<number>()
  private activeLookups = 0
  private selfLookupAt = 0
  private timer: unknown = undefined
  private stopped = false

  constructor(components: KademliaComponents, init: KademliaInit = {}) {
    this.env = components.env
    this.links = components.links
    this.localId = components.localId
    this.localBytes = idToBytes(components.localId)
    this.table = new RoutingTable(this.localBytes, init)
    this.k = this.table.k
    this.store = new RecordStore(this.localBytes, init.store)
    this.opts = {
      alpha: init.alpha ?? 3,
      slowQueryMs: init.slowQueryMs ?? 1500,
      maxCandidates: init.maxCandidates ?? 100,
      maxLookups: init.maxLookups ?? 32,
      refreshIntervalMs: init.refreshIntervalMs ?? 600_000,
      maintenanceIntervalMs: init.maintenanceIntervalMs ?? 30_000,
      pingStaleMs: init.pingStaleMs ?? 60_000,
      joinConcurrency: init.joinConcurrency ?? 2,
      refreshK: init.refreshK ?? 8,
      joinRefreshBelow: init.joinRefreshBelow ?? 2,
      rejoinDelayMs: init.rejoinDelayMs ?? 30_000,
      selfRefreshMs: init.selfRefreshMs ?? 300_000,
    }
    const rpcComponents = { env: this.env, links: this.links, localId: this.localId, publicKey: components.keyPair.publicKey }
    this.rpc = new Rpc(rpcComponents, init, {
      onSeen: (peer) => this.learn(peer),
      onRequest: (from, req) => this.answer(from, req),
    })
    this.records = new RecordOps(this)
    this.replicator = new Replicator(this, init)
    this.keeper = new LinkKeeper(this, init)
    this.table.onChange = () => this.keeper.schedule()
    this.links.register(this)
    this.schedule()
  }

  /** Link GC asks; answered from the insisted set as of the last KEEP sync (at most keepSyncDelayMs old). */
  insists(peer: PeerId): boolean {
    return this.table.insistedBefore(peer) || this.keeper.honours(peer) || this.rpc.hasPending(peer)
  }

  onLinkClosed(peer: PeerId): void {
    this.rpc.linkClosed(peer)
    this.keeper.linkClosed(peer)
    this.table.remove(peer)
  }

  /** Sends one request (see {@link Rpc.request}). */
  request(peer: PeerId, req: Request, opts: { via?: PeerId | undefined; purpose: Purpose }, cb: (o: RpcOutcome) => void): void {
    this.rpc.request(peer, req, opts, cb)
  }

  /**
   * Iterative lookup of the k peers closest to `target`. With `findValue`, asks
   * FIND_VALUE and hands every answer to `onAnswer`, which returns true to stop.
   */
  lookup(
    target: Uint8Array,
    cb: (r: DhtLookupResult) => void,
    opts: {
      purpose?: Purpose
      seeds?: readonly LookupSeed[]
      /** Converge on this many closest instead of k. */
      k?: number
      findValue?: boolean
      onAnswer?: (peer: PeerId, res: Response) => boolean
    } = {},
  ): void {
    const purpose = opts.purpose ?? 'app'
    const seeds = opts.seeds ?? this.table.closest(target, this.k)
    const fail = (error: DhtErrorCode): void => {
      const r: DhtLookupResult = { closest: [], rounds: 0, queried: 0, failed: 0, durationMs: 0, stoppedEarly: false, error }
      this.env.timers.setTimeout(() => cb(r), 0)
    }
    if (this.stopped) return fail('STOPPED')
    if (seeds.length === 0) return fail('NO_PEERS')
    if (this.activeLookups >= this.opts.maxLookups) {
      this.stats.lookupsBusy++
      return fail('BUSY')
    }
    this.activeLookups++
    this.stats.lookupsStarted++
    this.table.markRefreshed(this.table.bucketOf(target), this.env.clock.now())
    const { alpha, slowQueryMs: slowMs, maxCandidates } = this.opts
    const k = opts.k ?? this.k
    const op = opts.findValue === true ? KadMsg.FIND_VALUE : KadMsg.FIND_NODE
    const req: Request = op === KadMsg.FIND_VALUE ? { op, key: target } : { op, target }
    const lookup: Lookup = new Lookup(
      this.env,
      { target, k, alpha, slowMs, maxCandidates, self: this.localBytes },
      (peer, via, done) =>
        this.rpc.request(peer, req, { via, purpose }, (o) => {
          if (!o.ok) return done(null)
          if (opts.onAnswer?.(peer, o.res) === true) lookup.stop()
          done(o.res.contacts)
        }),
      (r) => {
        this.activeLookups--
        cb(r)
      },
    )
    lookup.start(seeds)
  }

  /**
   * Joins through `bootstrap` (linked through the signaling node): looks up our
   * own id, then refreshes every bucket farther than our closest neighbour.
   */
  join(bootstrap: PeerId, cb: (r: JoinResult) => void = () => {}): void {
    const started = this.env.clock.now()
    this.selfLookupAt = started
    let lookups = 1
    const finish = (ok: boolean): void =>
      cb({ ok, lookups, durationMs: this.env.clock.now() - started, tableSize: this.table.size })
    const seeds = [{ id: bootstrap, bytes: idToBytes(bootstrap) }, ...this.table.closest(this.localBytes, this.k)]
    this.lookup(
      this.localBytes,
      (r) => {
        if (r.error !== undefined || r.closest.length === 0) return finish(false)
        const nearest = this.table.closest(this.localBytes, 1)[0]
        const upTo = nearest === undefined ? 0 : nearest.bucket
        // The self-lookup's path already filled most buckets; refresh only the thin ones.
        const buckets = Array.from({ length: upTo }, (_, i) => upTo - 1 - i).filter((b) => this.table.bucketSize(b) < this.opts.joinRefreshBelow)
        let running = 0
        const next = (): void => {
          if (this.stopped) return finish(false)
          while (running < this.opts.joinConcurrency && buckets.length > 0) {
            const b = buckets.shift()!
            running++
            lookups++
            this.lookup(randomIdInBucket(this.localBytes, b, this.env.rng), () => {
              running--
              next()
            }, { purpose: 'maintenance', k: this.opts.refreshK })
          }
          if (running === 0 && buckets.length === 0) {
            this.env.timers.setTimeout(() => this.selfLookup(), this.opts.rejoinDelayMs)
            finish(true)
          }
        }
        next()
      },
      { purpose: 'maintenance', seeds },
    )
  }

  /** Stores a validated record locally on behalf of `from`. */
  storeLocal(key: Uint8Array, record: DhtRecord, from: PeerId): StoreVerdict | 'invalid' {
    const verdict = validateRecord(this.env.crypto, key, record, this.store.init.maxValueBytes)
    const v = verdict === 'ok' ? this.store.put(key, record, from, this.env.clock.now()) : verdict === 'too-large' ? 'too-large' : 'invalid'
    this.stats.stores[v]++
    return v
  }

  stop(): void {
    this.stopped = true
    this.rpc.stop()
    if (this.timer !== undefined) this.env.timers.clearTimeout(this.timer)
    this.timer = undefined
  }

  get isStopped(): boolean {
    return this.stopped
  }

  private learn(peer: PeerId): void {
    const now = this.env.clock.now()
    const known = this.table.get(peer)
    if (known !== undefined) return this.table.touch(known, now)
    const r = this.table.add(peer, idToBytes(peer), now)
    if (r.kind === 'added') this.replicator.onContactAdded(r.contact)
    else if (r.kind === 'full') this.maybePing(r.oldest, now)
  }

  /** Full bucket: ping its least-recently-seen contact if silent; evict it if it fails. */
  private maybePing(oldest: Contact, now: number): void {
    if (now - oldest.lastSeen < this.opts.pingStaleMs || this.pinging.has(oldest.bucket)) return
    this.pinging.add(oldest.bucket)
    this.stats.pings++
    this.rpc.request(oldest.id, { op: KadMsg.PING }, { purpose: 'maintenance' }, (o) => {
      this.pinging.delete(oldest.bucket)
      if (o.ok || this.table.get(oldest.id) !== oldest) return
      this.stats.pingEvictions++
      const promoted = this.table.remove(oldest.id)
      if (promoted !== undefined) this.replicator.onContactAdded(promoted)
    })
  }

  private answer(from: PeerId, req: Request): Response {
    switch (req.op) {
      case KadMsg.PING:
        return EMPTY_RESPONSE
      case KadMsg.FIND_NODE:
        return { ...EMPTY_RESPONSE, contacts: this.closestBytes(req.target, from) }
      case KadMsg.FIND_VALUE: {
        const keyHex = toHex(req.key)
        const now = this.env.clock.now()
        const held = this.store.get(keyHex, now)
        const providers = this.store.providersOf(keyHex, now).slice(0, this.k).map(idToBytes)
        return { ...EMPTY_RESPONSE, contacts: this.closestBytes(req.key, from), record: held?.record ?? null, providers }
      }
      case KadMsg.STORE: {
        const v = this.storeLocal(req.key, req.record, from)
        const held = v === 'stale' ? this.store.get(toHex(req.key), this.env.clock.now()) : undefined
        const seq = held !== undefined && held.record.kind === 1 ? held.record.seq : null
        return { ...EMPTY_RESPONSE, status: STATUS_OF[v], seq }
      }
      case KadMsg.KEEP:
        return { ...EMPTY_RESPONSE, status: this.keeper.onKeep(from, req.keep) }
      case KadMsg.ADD_PROVIDER: {
        const v = this.store.addProvider(toHex(req.key), from, this.env.clock.now())
        return { ...EMPTY_RESPONSE, status: v === 'full' ? Status.FULL : Status.OK }
      }
    }
  }

  private closestBytes(target: Uint8Array, exclude: PeerId): Uint8Array {
    const closest = this.table.closest(target, this.k, exclude)
    const out = new Uint8Array(closest.length * ID_BYTES)
    for (let i = 0; i < closest.length; i++) out.set(closest[i]!.bytes, i * ID_BYTES)
    return out
  }

  private schedule(): void {
    if (this.stopped) return
    const period = this.opts.maintenanceIntervalMs
    this.timer = this.env.timers.setTimeout(() => {
      this.timer = undefined
      this.maintain()
      this.schedule()
    }, period / 2 + this.env.rng.int(period))
  }

  /**
   * Looks up our own id starting from far contacts, as a join through a random
   * peer would. Seeded with our own neighbours it could only ask what they
   * already know; from outside it also meets neighbours that joined alongside
   * us through other peers and that nobody has introduced to us.
   */
  private selfLookup(): void {
    this.selfLookupAt = this.env.clock.now()
    const far: LookupSeed[] = []
    for (const c of this.table.contacts()) {
      if (far.length >= this.opts.alpha) break
      far.push(c)
    }
    this.lookup(this.localBytes, () => {}, { purpose: 'maintenance', ...(far.length > 0 ? { seeds: far } : {}) })
  }

  /** Refreshes our neighbourhood or one stale bucket per period, and runs replication and expiry. */
  private maintain(): void {
    const now = this.env.clock.now()
    this.replicator.tick(now)
    const deepest = this.table.deepestBucket()
    if (deepest < 0) return
    if (now - this.selfLookupAt >= this.opts.selfRefreshMs) return this.selfLookup()
    for (let b = 0; b <= deepest; b++) {
      if (now - this.table.refreshedAtOf(b) < this.opts.refreshIntervalMs) continue
      this.lookup(randomIdInBucket(this.localBytes, b, this.env.rng), () => {}, { purpose: 'maintenance', k: this.opts.refreshK })
      return
    }
  }
}

const STATUS_OF: Record<StoreVerdict | 'invalid', number> = {
  stored: Status.OK,
  refreshed: Status.OK,
  stale: Status.STALE,
  conflict: Status.CONFLICT,
  invalid: Status.INVALID,
  'too-large': Status.TOO_LARGE,
  full: Status.FULL,
  'origin-full': Status.FULL,
}
