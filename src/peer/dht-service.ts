import { utf8 } from '../core/bytes.js'
import type { PeerId } from '../core/id.js'
import { Kademlia, type KademliaInit } from '../kademlia/kademlia.js'
import type { RelayDirectory } from '../link/relay.js'
import type { PeerService, PeerServiceContext, PeerServiceFactory } from './session.js'

export const DHT_SERVICE = 'dht'

/** The DHT key relays provide (its SHA-256). */
export const RELAY_KEY = 'p2p-world/relays/v1'

export interface DhtServiceInit {
  kad?: KademliaInit
  /** How often a peer without DHT contacts looks for a linked peer to join through. @default 1000 */
  retryMs?: number
}

/**
 * The Kademlia DHT as a peer service, on the session's links. It joins (by
 * self-lookup) through a peer it already holds a link to, preferring a VON
 * neighbour, so the DHT never needs the signaling node; a peer whose table
 * emptied (it was cut off and rejoined the overlay) joins again the same way.
 * A world's first peer is ready alone: its own store answers.
 */
export class DhtService implements PeerService {
  readonly name = DHT_SERVICE
  readonly dht: Kademlia
  private joining = false
  private joinedOnce = false
  private waiters: (() => void)[] = []
  private timer: unknown = undefined
  private closed = false

  constructor(
    private readonly ctx: PeerServiceContext,
    private readonly init: DhtServiceInit = {},
  ) {
    this.dht = new Kademlia({ env: ctx.env, links: ctx.links, localId: ctx.localId, keyPair: ctx.keyPair }, init.kad ?? {})
    ctx.links.relays?.setDirectory(this.relayDirectory())
    this.schedule(0)
  }

  /**
   * Relays in the DHT, as seed 000 has it: each volunteer announces itself as
   * a provider of one well-known key, and a peer that needs a relay looks the
   * key up (the relay layer then prefers the nearest, least loaded).
   */
  private relayDirectory(): RelayDirectory {
    const key = this.ctx.env.crypto.sha256(utf8(RELAY_KEY))
    return {
      announce: () => this.whenReady(() => this.dht.isStopped || this.dht.records.provide(key)),
      find: (cb) => this.whenReady(() => (this.dht.isStopped ? cb([]) : this.dht.records.findProviders(key, cb))),
    }
  }

  /** True once the DHT has joined through someone, or the peer is alone in its world. */
  get ready(): boolean {
    return this.joinedOnce || (this.ctx.von.joined && this.ctx.von.table.size === 0 && this.ctx.links.linkCount === 0)
  }

  /** Calls `cb` once the DHT is ready (at once if it is). */
  whenReady(cb: () => void): void {
    if (this.ready) return cb()
    this.waiters.push(cb)
  }

  close(): void {
    this.closed = true
    if (this.timer !== undefined) this.ctx.env.timers.clearTimeout(this.timer)
    this.timer = undefined
    this.waiters = []
    this.dht.stop()
  }

  private schedule(ms: number): void {
    if (this.closed || this.timer !== undefined) return
    this.timer = this.ctx.env.timers.setTimeout(() => {
      this.timer = undefined
      this.check()
    }, ms)
  }

  private bootstrap(): PeerId | undefined {
    const links = this.ctx.links
    for (const n of this.ctx.von.table.values()) if (links.linkState(n.id) === 'open') return n.id
    return links.openPeers()[0]
  }

  private check(): void {
    if (this.closed) return
    // Others joined through us: their lookups taught us contacts.
    if (this.dht.table.size > 0) this.joinedOnce = true
    if (!this.joining && this.dht.table.size === 0) {
      const via = this.bootstrap()
      if (via !== undefined) {
        this.joining = true
        this.dht.join(via, (r) => {
          this.joining = false
          if (r.ok || this.dht.table.size > 0) this.joinedOnce = true
          this.notify()
        })
      }
    }
    this.notify()
    this.schedule(this.init.retryMs ?? 1000)
  }

  private notify(): void {
    if (!this.ready || this.waiters.length === 0) return
    const w = this.waiters
    this.waiters = []
    for (const cb of w) cb()
  }
}

/** The factory to put in `PeerInit.services`. */
export function dhtService(init: DhtServiceInit = {}): PeerServiceFactory {
  return (ctx) => new DhtService(ctx, init)
}
