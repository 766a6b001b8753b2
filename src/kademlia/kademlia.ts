import type { Env, KeyPair } from '../core/env.js'
import { idToBytes, type PeerId } from '../core/id.js'
import type { LinkProtocol } from '../link/link-manager.js'
import { PROTOCOL } from '../link/link-messages.js'
import type { DhtErrorCode } from './errors.js'
import { LinkKeeper, type LinkKeeperInit } from './keeper.js'
import { Lookup, type LookupResult, type LookupSeed } from './lookup.js'
import { KadMsg, type Request, type Response } from './messages.js'
import { Membership, type JoinResult, type MembershipInit } from './membership.js'
import { RecordOps } from './record-ops.js'
import { RecordStore, type RecordStoreInit, type StoreVerdict } from './record-store.js'
import { validateRecord, type DhtRecord } from './records.js'
import { Replicator, type ReplicatorInit } from './replicator.js'
import { RoutingTable, type Contact, type RoutingTableInit } from './routing-table.js'
import { Rpc, type DhtLinks, type Purpose, type RpcInit, type RpcOutcome } from './rpc.js'
import { answerRequest } from './server.js'

export type { JoinResult } from './membership.js'

export interface KademliaComponents {
  env: Env
  links: DhtLinks
  localId: PeerId
  keyPair: KeyPair
}

export interface KademliaInit extends RoutingTableInit, RpcInit, ReplicatorInit, LinkKeeperInit, MembershipInit {
  /** Queries in flight per lookup. @default 3 */
  alpha?: number
  /** A query outstanding this long frees its alpha slot (it may still answer). @default 1500 */
  slowQueryMs?: number
  /**
   * An application lookup sets up links ahead to this many of the closest
   * candidates it has not asked yet (alpha being busy): a query then costs one
   * round trip, not an introduction plus ICE and DTLS. At most alpha queries are
   * in flight. Maintenance lookups (join, refresh) do not: their latency matters
   * less than the link setups this can waste. @default 3
   */
  connectAhead?: number
  /** Candidates a lookup remembers. @default 100 */
  maxCandidates?: number
  /** Lookups running at once; more fail with BUSY. @default 32 */
  maxLookups?: number
  /** Ping a full bucket's oldest contact only if it was silent this long (links already carry keepalives). @default 60000 */
  pingStaleMs?: number
  store?: RecordStoreInit
}

export interface DhtLookupResult extends LookupResult {
  readonly error?: DhtErrorCode
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
  private readonly opts: Required<Omit<KademliaInit, keyof RoutingTableInit | keyof RpcInit | keyof ReplicatorInit | keyof LinkKeeperInit | keyof MembershipInit | 'store'>>
  private readonly pinging = new Set<number>()
  private readonly membership: Membership
  private activeLookups = 0
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
      connectAhead: init.connectAhead ?? 3,
      maxCandidates: init.maxCandidates ?? 100,
      maxLookups: init.maxLookups ?? 32,
      pingStaleMs: init.pingStaleMs ?? 60_000,
    }
    const rpcComponents = { env: this.env, links: this.links, localId: this.localId, publicKey: components.keyPair.publicKey }
    this.rpc = new Rpc(rpcComponents, init, {
      onSeen: (peer) => this.learn(peer),
      onRequest: (from, req) => answerRequest(this, from, req),
    })
    this.records = new RecordOps(this)
    this.replicator = new Replicator(this, init)
    this.keeper = new LinkKeeper(this, init)
    this.table.onChange = () => this.keeper.schedule()
    this.links.register(this)
    this.membership = new Membership(this, init)
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
      const r: DhtLookupResult = { closest: [], rounds: 0, queried: 0, failed: 0, discounted: 0, durationMs: 0, stoppedEarly: false, error }
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
    const connectAhead = purpose === 'app' ? this.opts.connectAhead : 0
    const k = opts.k ?? this.k
    const op = opts.findValue === true ? KadMsg.FIND_VALUE : KadMsg.FIND_NODE
    const req: Request = op === KadMsg.FIND_VALUE ? { op, key: target } : { op, target }
    const lookup: Lookup = new Lookup(
      this.env,
      { target, k, alpha, slowMs, maxCandidates, connectAhead, self: this.localBytes },
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
      (peer, via) => {
        if (this.links.linkState(peer) === undefined) this.links.connect(peer, via === undefined ? {} : { via })
      },
    )
    lookup.start(seeds)
  }

  /** Joins through `bootstrap` (see {@link Membership.join}). */
  join(bootstrap: PeerId, cb: (r: JoinResult) => void = () => {}): void {
    this.membership.join(bootstrap, cb)
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
    this.membership.stop()
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
}
