import { toHex } from '../../core/bytes.js'
import type { Env } from '../../core/env.js'
import type { PeerId } from '../../core/id.js'
import type { LinkManager } from '../../link/link-manager.js'
import { PROTOCOL } from '../../link/link-messages.js'
import { Priority } from '../../link/priority.js'
import { AssetErr, AssetMsg, decodeRequest, ridOf, type AssetRequest } from './asset-messages.js'
import type { AssetStore } from './asset-store.js'

export interface AssetServerInit {
  /** Answer a peer only while fewer than this many LOW frames wait on its link. @default 2 */
  maxQueuedPerPeer?: number
  /** Requests waiting per peer; more are answered BUSY. @default 16 */
  maxPendingPerPeer?: number
  /** Peers with requests waiting; requests of others are answered BUSY. @default 64 */
  maxPendingPeers?: number
  /** How often waiting requests look at the queues again. @default 20 */
  pollMs?: number
}

export interface AssetServerStats {
  manifestsServed: number
  chunksServed: number
  notFound: number
  busy: number
  badRequests: number
}

/**
 * The serving side: answers manifest and chunk requests at LOW priority, paced
 * by the link layer's LOW queue to each requester, so bulk data never piles up
 * in our scheduler (and a requester cannot make us queue more than a few chunks).
 */
export class AssetServer {
  readonly stats: AssetServerStats = { manifestsServed: 0, chunksServed: 0, notFound: 0, busy: 0, badRequests: 0 }
  private readonly cfg: Required<AssetServerInit>
  private readonly pending = new Map<PeerId, AssetRequest[]>()
  private timer: unknown = undefined
  private closed = false

  constructor(
    private readonly c: { env: Pick<Env, 'timers'>; links: Pick<LinkManager, 'send' | 'queueStats' | 'handle'>; store: AssetStore },
    init: AssetServerInit = {},
  ) {
    this.cfg = {
      maxQueuedPerPeer: init.maxQueuedPerPeer ?? 2,
      maxPendingPerPeer: init.maxPendingPerPeer ?? 16,
      maxPendingPeers: init.maxPendingPeers ?? 64,
      pollMs: init.pollMs ?? 20,
    }
    for (const type of [AssetMsg.GET_MANIFEST, AssetMsg.GET_CHUNK]) c.links.handle(PROTOCOL.ASSETS, type, (from, p) => this.onRequest(from, type, p))
  }

  /** The link to `peer` closed: forget what it asked for. */
  linkClosed(peer: PeerId): void {
    this.pending.delete(peer)
  }

  /** True while requests of `peer` wait (link GC keeps the link). */
  serving(peer: PeerId): boolean {
    return this.pending.has(peer)
  }

  close(): void {
    this.closed = true
    this.pending.clear()
    if (this.timer !== undefined) this.c.env.timers.clearTimeout(this.timer)
    this.timer = undefined
  }

  private onRequest(from: PeerId, type: number, payload: unknown): void {
    if (this.closed) return
    const req = decodeRequest(type, payload)
    if (req === null) {
      this.stats.badRequests++
      const rid = ridOf(payload)
      if (rid !== null) this.error(from, rid, AssetErr.BAD_REQUEST)
      return
    }
    let queue = this.pending.get(from)
    if (queue === undefined) {
      if (this.pending.size >= this.cfg.maxPendingPeers) return this.busy(from, req.rid)
      queue = []
      this.pending.set(from, queue)
    }
    if (queue.length >= this.cfg.maxPendingPerPeer) return this.busy(from, req.rid)
    queue.push(req)
    this.pump(from)
  }

  private pump(peer: PeerId): void {
    const queue = this.pending.get(peer)
    if (queue === undefined) return
    while (queue.length > 0) {
      const low = this.c.links.queueStats(peer)?.[Priority.LOW]
      if (low === undefined) {
        this.pending.delete(peer) // no link: nobody to answer
        return
      }
      if (low.count >= this.cfg.maxQueuedPerPeer) break
      this.answer(peer, queue.shift()!)
    }
    if (queue.length === 0) this.pending.delete(peer)
    else this.schedule()
  }

  private answer(peer: PeerId, req: AssetRequest): void {
    const idHex = toHex(req.id)
    const store = this.c.store
    const bytes = req.index < 0 ? store.manifestBytes(idHex) : store.chunk(idHex, req.index)
    if (bytes === undefined) {
      this.stats.notFound++
      return this.error(peer, req.rid, AssetErr.NOT_FOUND)
    }
    const type = req.index < 0 ? AssetMsg.MANIFEST : AssetMsg.CHUNK
    if (req.index < 0) this.stats.manifestsServed++
    else this.stats.chunksServed++
    this.c.links.send(peer, PROTOCOL.ASSETS, type, [req.rid, bytes], Priority.LOW)
  }

  private busy(peer: PeerId, rid: number): void {
    this.stats.busy++
    this.error(peer, rid, AssetErr.BUSY)
  }

  private error(peer: PeerId, rid: number, code: number): void {
    this.c.links.send(peer, PROTOCOL.ASSETS, AssetMsg.ERROR, [rid, code], Priority.LOW)
  }

  private schedule(): void {
    if (this.timer !== undefined || this.closed) return
    this.timer = this.c.env.timers.setTimeout(() => {
      this.timer = undefined
      for (const peer of [...this.pending.keys()]) this.pump(peer)
    }, this.cfg.pollMs)
  }
}
