import { fromHex } from '../../core/bytes.js'
import type { Env } from '../../core/env.js'
import type { PeerId } from '../../core/id.js'
import type { LinkManager } from '../../link/link-manager.js'
import { PROTOCOL } from '../../link/link-messages.js'
import { Priority } from '../../link/priority.js'
import { AssetFetch, type FetchStats } from './asset-fetch.js'
import { AssetMsg, MAX_RID, decodeReply, type AssetReply } from './asset-messages.js'
import { AssetServer, type AssetServerInit } from './asset-server.js'
import { AssetStore, type AssetStoreInit } from './asset-store.js'
import { AssetError } from './errors.js'
import { FetchPacer } from './fetch-pacer.js'
import { MAX_ASSET_BYTES, buildAsset, isValidMime } from './manifest.js'

/** The service's name in a peer (`peer.service<AssetService>(ASSETS_SERVICE)`). */
export const ASSETS_SERVICE = 'assets'

/** What assets need from the DHT: provider records under the asset id. */
export interface AssetDht {
  /** Announces (and later re-announces) that we hold `key`. */
  provide(key: Uint8Array): void
  /** Streams providers of `key` as they are found (with the peer that named each, to connect through), then `done`. */
  findProviders(key: Uint8Array, onFound: (peer: PeerId, via: PeerId | undefined) => void, done: () => void): void
}

export interface AssetsComponents {
  env: Pick<Env, 'clock' | 'timers' | 'crypto' | 'store' | 'log'>
  links: Pick<LinkManager, 'send' | 'connect' | 'linkState' | 'queueStats' | 'handle' | 'register'>
  localId: PeerId
  /** Without one, fetches ask only the hinted peers. */
  dht?: AssetDht
}

export interface AssetsInit {
  store?: AssetStoreInit
  server?: AssetServerInit
  /**
   * Chunk data asked for per second, over all fetches: bulk work the receiver's
   * main thread does (hashing, reassembly, requests) at a pace that leaves room for
   * moves. A 256 KiB avatar takes ~0.2 s plus round trips at the default.
   * @default 1048576
   */
  fetchBytesPerSecond?: number
  /** Chunk data asked for at once after a pause, before pacing starts. @default 65536 */
  fetchBurstBytes?: number
  /** Chunk requests in flight to one holder. @default 2 */
  perHolder?: number
  /** Chunk requests in flight for one asset. @default 8 */
  maxInFlight?: number
  /** Failed requests (timeouts, BUSY) after which a holder is dropped for a fetch. @default 3 */
  maxFailures?: number
  /** A request unanswered this long fails (LOW waits behind everything else). @default 15000 */
  requestTimeoutMs?: number
  /** A fetch not complete after this long fails with TIMEOUT. @default 60000 */
  fetchTimeoutMs?: number
  /** Fetches at once; more fail with BUSY. @default 16 */
  maxFetches?: number
  /** Provider records are announced again this often (their TTL is 24 h; the closest peers change sooner). @default 3600000 */
  reprovideMs?: number
  /** Assets announced per round: own ones first, then the most recently used. @default 64 */
  maxProvided?: number
}

export interface AssetsStats {
  published: number
  fetched: number
  fetchesFailed: number
  corruptChunks: number
  unexpectedReplies: number
}

export interface FetchOptions {
  /** Peers likely to hold it (the neighbour whose profile names the avatar), asked before the DHT answers. */
  hint?: readonly PeerId[]
}

interface Outstanding {
  readonly peer: PeerId
  readonly cb: (r: AssetReply | null) => void
  readonly timer: unknown
}

/**
 * Content-addressed assets (avatars, images), at most 256 KiB, in 16 KiB
 * chunks, moved at LOW priority. An asset's id is SHA-256 of its manifest
 * (see manifest.ts), which holders serve; holders are found through DHT
 * provider records under the id, and every holder, the fetcher included once
 * done, announces itself.
 */
export class AssetService {
  readonly name = ASSETS_SERVICE
  readonly store: AssetStore
  readonly server: AssetServer
  readonly stats: AssetsStats = { published: 0, fetched: 0, fetchesFailed: 0, corruptChunks: 0, unexpectedReplies: 0 }
  private readonly c: AssetsComponents
  private readonly cfg: Required<Omit<AssetsInit, 'store' | 'server'>>
  private readonly pacer: FetchPacer
  private readonly requests = new Map<number, Outstanding>()
  private readonly fetches = new Map<string, { fetch: AssetFetch; promise: Promise<Uint8Array> }>()
  private nextRid = 1
  private reprovideTimer: unknown = undefined
  private closed = false

  constructor(components: AssetsComponents, init: AssetsInit = {}) {
    this.c = components
    this.cfg = {
      fetchBytesPerSecond: init.fetchBytesPerSecond ?? 1024 * 1024,
      fetchBurstBytes: init.fetchBurstBytes ?? 64 * 1024,
      perHolder: init.perHolder ?? 2,
      maxInFlight: init.maxInFlight ?? 8,
      maxFailures: init.maxFailures ?? 3,
      requestTimeoutMs: init.requestTimeoutMs ?? 15_000,
      fetchTimeoutMs: init.fetchTimeoutMs ?? 60_000,
      maxFetches: init.maxFetches ?? 16,
      reprovideMs: init.reprovideMs ?? 3_600_000,
      maxProvided: init.maxProvided ?? 64,
    }
    this.pacer = new FetchPacer(components.env, { bytesPerSecond: this.cfg.fetchBytesPerSecond, burstBytes: this.cfg.fetchBurstBytes })
    this.store = new AssetStore(components.env, init.store)
    const links = components.links
    this.server = new AssetServer({ env: components.env, links, store: this.store }, init.server)
    links.register({
      id: PROTOCOL.ASSETS,
      insists: (peer) => this.server.serving(peer) || [...this.requests.values()].some((r) => r.peer === peer),
      onLinkClosed: (peer) => this.linkClosed(peer),
    })
    for (const type of [AssetMsg.MANIFEST, AssetMsg.CHUNK, AssetMsg.ERROR]) links.handle(PROTOCOL.ASSETS, type, (from, p) => this.onReply(from, type, p))
    this.scheduleReprovide()
  }

  /**
   * Stores `bytes` as an own asset (never evicted) and announces it; returns its
   * id (64 hex). Throws AssetError INVALID_ASSET (over 256 KiB, bad MIME type) or STORE_FULL.
   */
  publish(bytes: Uint8Array, mime: string): string {
    if (this.closed) throw new AssetError('CLOSED', 'asset service closed')
    if (bytes.length > MAX_ASSET_BYTES || !isValidMime(mime)) throw new AssetError('INVALID_ASSET', `${bytes.length} bytes of ${mime.slice(0, 64)}`)
    const built = buildAsset(this.c.env.crypto, bytes, mime)
    const copy = new Uint8Array(bytes)
    if (!this.store.put({ idHex: built.idHex, manifest: built.manifest, manifestBytes: built.manifestBytes, bytes: copy, own: true })) {
      throw new AssetError('STORE_FULL', 'own assets fill the asset store')
    }
    this.stats.published++
    this.c.dht?.provide(built.id)
    return built.idHex
  }

  /** A held asset and its type, without fetching. */
  local(idHex: string): { bytes: Uint8Array; mime: string } | undefined {
    const a = this.store.get(idHex)
    return a === undefined ? undefined : { bytes: a.bytes, mime: a.manifest.mime }
  }

  /**
   * The asset `idHex`: from here if held, else from its holders (hints and DHT
   * providers), verified chunk by chunk and whole, then kept and announced.
   * Rejects with AssetError NOT_FOUND, TIMEOUT, CORRUPT, INVALID_ASSET, BUSY or CLOSED.
   */
  fetch(idHex: string, opts: FetchOptions = {}): Promise<Uint8Array> {
    const held = this.store.get(idHex)
    if (held !== undefined) return Promise.resolve(held.bytes)
    const running = this.fetches.get(idHex)
    if (running !== undefined) {
      for (const p of opts.hint ?? []) if (p !== this.c.localId) running.fetch.addHolder(p)
      return running.promise
    }
    const id = /^[0-9a-f]{64}$/.test(idHex) ? fromHex(idHex) : null
    if (id === null) return Promise.reject(new AssetError('INVALID_ASSET', 'an asset id is 64 hex characters'))
    if (this.closed) return Promise.reject(new AssetError('CLOSED', 'asset service closed'))
    if (this.fetches.size >= this.cfg.maxFetches) return Promise.reject(new AssetError('BUSY', 'too many fetches at once'))
    return this.start(idHex, id, opts.hint ?? [])
  }

  /** Reads assets persisted by earlier sessions and announces them. */
  async load(): Promise<number> {
    const n = await this.store.load()
    if (!this.closed) this.reprovide()
    return n
  }

  close(): void {
    this.closed = true
    if (this.reprovideTimer !== undefined) this.c.env.timers.clearTimeout(this.reprovideTimer)
    this.reprovideTimer = undefined
    this.server.close()
    this.pacer.close()
    for (const f of [...this.fetches.values()]) f.fetch.fail(new AssetError('CLOSED', 'asset service closed'))
    for (const rid of [...this.requests.keys()]) this.settle(rid, null)
  }

  private start(idHex: string, id: Uint8Array, hint: readonly PeerId[]): Promise<Uint8Array> {
    let fetch!: AssetFetch
    const promise = new Promise<Uint8Array>((resolve, reject) => {
      const timer = this.c.env.timers.setTimeout(() => fetch.fail(new AssetError('TIMEOUT', `no asset after ${this.cfg.fetchTimeoutMs} ms`)), this.cfg.fetchTimeoutMs)
      const io = { crypto: this.c.env.crypto, request: this.request.bind(this), admit: this.pacer.take.bind(this.pacer) }
      const limits = { perHolder: this.cfg.perHolder, total: this.cfg.maxInFlight, maxFailures: this.cfg.maxFailures }
      fetch = new AssetFetch(io, id, limits, (r) => {
        this.c.env.timers.clearTimeout(timer)
        this.fetches.delete(idHex)
        this.stats.corruptChunks += fetch.stats.corruptChunks
        if (r instanceof AssetError) {
          this.stats.fetchesFailed++
          return reject(r)
        }
        this.stats.fetched++
        if (!this.closed && this.store.put({ idHex, manifest: r.manifest, manifestBytes: r.manifestBytes, bytes: r.bytes, own: false })) this.c.dht?.provide(id)
        resolve(r.bytes)
      })
    })
    this.fetches.set(idHex, { fetch, promise })
    for (const p of hint) if (p !== this.c.localId) fetch.addHolder(p)
    if (this.c.dht === undefined) fetch.holdersComplete()
    else {
      this.c.dht.findProviders(
        id,
        (peer, via) => peer !== this.c.localId && fetch.addHolder(peer, via),
        () => fetch.holdersComplete(),
      )
    }
    return promise
  }

  /** Stats of a running fetch (which holders sent chunks), for tests and the inspector. */
  fetchStats(idHex: string): FetchStats | undefined {
    return this.fetches.get(idHex)?.fetch.stats
  }

  private request(peer: PeerId, via: PeerId | undefined, type: number, body: unknown[], cb: (r: AssetReply | null) => void): void {
    const links = this.c.links
    const fail = (): void => void this.c.env.timers.setTimeout(() => cb(null), 0)
    if (this.closed) return fail()
    if (links.linkState(peer) === undefined && links.connect(peer, via === undefined ? {} : { via }) === 'limit') return fail()
    const rid = this.nextRid
    this.nextRid = this.nextRid >= MAX_RID ? 1 : this.nextRid + 1
    const r = links.send(peer, PROTOCOL.ASSETS, type, [rid, ...body], Priority.LOW)
    if (r === 'no-link' || r === 'rejected') return fail()
    const timer = this.c.env.timers.setTimeout(() => this.settle(rid, null), this.cfg.requestTimeoutMs)
    this.requests.set(rid, { peer, cb, timer })
  }

  private onReply(from: PeerId, type: number, payload: unknown): void {
    const reply = decodeReply(type, payload)
    const out = reply === null ? undefined : this.requests.get(reply.rid)
    // Only the peer asked may answer: nobody can slip chunks into another holder's reply.
    if (reply === null || out === undefined || out.peer !== from) {
      this.stats.unexpectedReplies++
      return
    }
    this.settle(reply.rid, reply)
  }

  private settle(rid: number, reply: AssetReply | null): void {
    const out = this.requests.get(rid)
    if (out === undefined) return
    this.requests.delete(rid)
    this.c.env.timers.clearTimeout(out.timer)
    out.cb(reply)
  }

  private linkClosed(peer: PeerId): void {
    this.server.linkClosed(peer)
    for (const [rid, out] of [...this.requests]) if (out.peer === peer) this.settle(rid, null)
  }

  private reprovide(): void {
    const dht = this.c.dht
    if (dht === undefined) return
    for (const idHex of this.store.ids().slice(0, this.cfg.maxProvided)) dht.provide(fromHex(idHex)!)
  }

  private scheduleReprovide(): void {
    if (this.closed) return
    this.reprovideTimer = this.c.env.timers.setTimeout(() => {
      this.reprovide()
      this.scheduleReprovide()
    }, this.cfg.reprovideMs)
  }
}
