import type { Env, KeyPair } from '../core/env.js'
import type { PeerId } from '../core/id.js'
import type { ClassQueueStats } from '../link/link.js'
import type { LinkManagerInit, SignalingChannel } from '../link/link-manager.js'
import type { Transport } from '../link/transport.js'
import type { VonInit, VonListener } from '../von/von-peer.js'
import type { PeerCacheInit } from './peer-cache.js'
import type { DialledLinks, PeerServiceFactory } from './session.js'
import type { JoinTickets } from '../von/join-tickets.js'

/**
 * idle: built, not in the world. waiting: wants in, but the bootstrap node is not
 * reachable yet. joining: a join query is out. joined: in the world (possibly
 * alone, as its first peer or after losing every link). closed: for good.
 */
export type PeerState = 'idle' | 'waiting' | 'joining' | 'joined' | 'closed'

/**
 * The bootstrap node as a peer sees it: its relay (the link layer's fallback)
 * and its host cache. The platform's `SignalingClient` is one.
 */
export interface BootstrapNode extends SignalingChannel {
  /** 'joined' once the node answered; only then can a first link open. */
  readonly state: 'idle' | 'connecting' | 'joined' | 'backoff' | 'replaced' | 'closed'
  /** Live peers of the world from the node's last answer. */
  readonly hosts: readonly PeerId[]
  /** Asks for a fresh host cache; false when the node is unreachable. */
  refreshHosts(): boolean
  /** Its join tickets (von/join-tickets.ts); a node without them lets the world take any joiner. */
  readonly tickets?: JoinTickets
}

/** Neighbour events (from the overlay) and the peer's own state changes. */
export interface PeerListener extends VonListener {
  onState?(state: PeerState): void
}

export interface PeerComponents {
  env: Env
  /** The peer's identity: its id is SHA-256 of the public key. */
  keyPair: KeyPair
  transport: Transport
  /** The signaling node (relay and host cache). Without one, only `manualPeers` and the cache bootstrap. */
  node?: BootstrapNode
  listener?: PeerListener
}

export interface PeerInit {
  /** @default {} (LinkManager defaults) */
  link?: LinkManagerInit
  /** @default {} (VonPeer defaults) */
  von?: VonInit
  /** Peers to enter through, from the user (`?peers=` / `--peers`). @default [] */
  manualPeers?: readonly PeerId[]
  /** The cache of peers met, in `Env.store`. @default {} */
  cache?: PeerCacheInit
  /** Protocols sharing the links, built per session (the DHT and player state). @default [] */
  services?: readonly PeerServiceFactory[]
  /** Gateways handed to one join. @default 8 */
  maxGateways?: number
  /** Of which at most this many from the cache. @default 3 */
  maxCachedGateways?: number
  /** Period of the bootstrap and rejoin checks. @default 500 */
  tickMs?: number
  /** A join gets `gateways x von.joinTimeoutMs` plus this before it is abandoned. @default 2000 */
  joinGraceMs?: number
  /**
   * Alone (no link, no neighbour) with gateways known, wait between 1 and 3 times
   * this long before rejoining (5 to 7 times for a founder that never met anyone
   * when every gateway has a larger id).
   * @default 2000
   */
  aloneGraceMs?: number
  /** Gateways of a join nobody answered are skipped this long. @default 30000 */
  unresponsiveMs?: number
  /** First delay between rejoin attempts; doubles per attempt while alone. @default 2000 */
  rejoinBackoffMinMs?: number
  /** @default 60000 */
  rejoinBackoffMaxMs?: number
  /** While alone, ask the node for fresh hosts this often. @default 10000 */
  hostRefreshMs?: number
}

export interface PeerStats {
  state: PeerState
  neighbours: number
  /** Links open and connecting now. */
  links: { open: number; connecting: number }
  /** Every link opened (both directions), by how it was signalled, over all sessions. */
  introduced: number
  viaSignaling: number
  /** The links this peer dialled, by how it signalled them. */
  dialled: DialledLinks
  /** Queued messages and bytes per class [HIGH, MEDIUM, LOW], over every link. */
  queues: [ClassQueueStats, ClassQueueStats, ClassQueueStats]
  /** Sessions started after losing every link (or after an abandoned join). */
  rejoins: number
  /** Last join, from the query to the acceptor's answer; undefined before any. */
  joinMs: number | undefined
}

/** The tunables of {@link PeerInit} with their defaults applied. */
export type PeerTunables = Required<Omit<PeerInit, 'link' | 'von' | 'cache' | 'services' | 'manualPeers'>>

export function resolveTunables(init: PeerInit): PeerTunables {
  return {
    maxGateways: init.maxGateways ?? 8,
    maxCachedGateways: init.maxCachedGateways ?? 3,
    tickMs: init.tickMs ?? 500,
    joinGraceMs: init.joinGraceMs ?? 2000,
    aloneGraceMs: init.aloneGraceMs ?? 2000,
    rejoinBackoffMinMs: init.rejoinBackoffMinMs ?? 2000,
    rejoinBackoffMaxMs: init.rejoinBackoffMaxMs ?? 60_000,
    hostRefreshMs: init.hostRefreshMs ?? 10_000,
    unresponsiveMs: init.unresponsiveMs ?? 30_000,
  }
}
