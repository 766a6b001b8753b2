import type { Env, KeyPair } from '../core/env.js'
import type { PeerId } from '../core/id.js'
import { LinkManager, type LinkManagerInit, type SignalingChannel } from '../link/link-manager.js'
import { PROTOCOL } from '../link/link-messages.js'
import type { Transport } from '../link/transport.js'
import { VonPeer, type VonInit, type VonListener } from '../von/von-peer.js'
import { NeighbourEvents } from './neighbour-events.js'
import type { JoinTickets } from '../von/join-tickets.js'

/**
 * A protocol or service that shares the peer's links. The Kademlia DHT and the
 * player-state service plug in here (issue 4): a factory builds one per
 * session, registering its handlers on `links`; `close` stops its timers.
 */
export interface PeerService {
  readonly name: string
  close(): void
}

/** What a service gets to build itself: the session's links and overlay. */
export interface PeerServiceContext {
  readonly env: Env
  readonly localId: PeerId
  readonly keyPair: KeyPair
  readonly links: LinkManager
  readonly von: VonPeer
  /** VON neighbours entering and leaving (after the peer's own listener heard it). */
  readonly neighbours: NeighbourEvents
  /**
   * Another service of this session by name. Services listed before this one in
   * `PeerInit.services` exist while it is built; later ones only once all are.
   */
  service<T extends PeerService>(name: string): T | undefined
}

export type PeerServiceFactory = (ctx: PeerServiceContext) => PeerService

/** Links this peer dialled, by how their offer travelled. */
export interface DialledLinks {
  introduced: number
  viaSignaling: number
}

export interface SessionComponents {
  env: Env
  localId: PeerId
  keyPair: KeyPair
  transport: Transport
  signaling: SignalingChannel | undefined
  von: VonListener
  /** The node's join tickets (von/join-tickets.ts), if it issues them. */
  tickets?: JoinTickets | undefined
}

export interface SessionInit {
  link: LinkManagerInit
  von: VonInit
  services: readonly PeerServiceFactory[]
}

/**
 * One life of a peer in the world: a LinkManager, the VON overlay on it and the
 * services. A peer that lost every link rejoins in the same session; leaving
 * ends it.
 */
export class Session {
  readonly links: LinkManager
  readonly von: VonPeer
  readonly services: readonly PeerService[]
  readonly dialled: DialledLinks = { introduced: 0, viaSignaling: 0 }

  constructor(c: SessionComponents, init: SessionInit) {
    const identity = { keyPair: c.keyPair, crypto: c.env.crypto, rng: c.env.rng }
    this.links = new LinkManager({ env: c.env, localId: c.localId, transport: c.transport, signaling: c.signaling, identity }, init.link)
    // Observes links only (it sends nothing): counts how the links we dialled were signalled.
    this.links.register({
      id: PROTOCOL.LINK,
      onLinkOpen: (peer) => {
        const link = this.links.link(peer)
        if (link?.initiator === true) {
          if (link.route === 'intro') this.dialled.introduced++
          else this.dialled.viaSignaling++
        }
      },
    })
    const neighbours = new NeighbourEvents()
    const listener: VonListener = {
      ...c.von,
      onEnter: (id, x, y) => {
        c.von.onEnter?.(id, x, y)
        neighbours.enter(id, x, y)
      },
      onLeave: (id) => {
        c.von.onLeave?.(id)
        neighbours.leave(id)
      },
    }
    this.von = new VonPeer({ env: c.env, links: this.links, localId: c.localId, listener, ...(c.tickets === undefined ? {} : { tickets: c.tickets }) }, init.von)
    const built: PeerService[] = []
    const ctx: PeerServiceContext = {
      env: c.env,
      localId: c.localId,
      keyPair: c.keyPair,
      links: this.links,
      von: this.von,
      neighbours,
      service: <T extends PeerService>(name: string) => built.find((s) => s.name === name) as T | undefined,
    }
    for (const make of init.services) built.push(make(ctx))
    this.services = built
  }

  /** No link, open or connecting, and no neighbour: nobody can reach us through the overlay. */
  get alone(): boolean {
    return this.links.linkCount === 0 && this.von.table.size === 0
  }

  /** Says goodbye to the neighbours, stops the services (dependents first) and closes every link. */
  close(): void {
    this.von.leave()
    for (const s of [...this.services].reverse()) s.close()
    this.links.close()
  }
}
