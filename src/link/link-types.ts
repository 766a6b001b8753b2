import type { Frame } from '../core/codec.js'
import type { Crypto, Env, KeyPair } from '../core/env.js'
import type { PeerId } from '../core/id.js'
import type { PacingInit } from './link.js'
import type { PenaltiesInit } from './peer-penalties.js'
import type { ReceiveBudgetInit } from './receive-budget.js'
import type { EnqueueResult, SchedulerInit } from './scheduler.js'
import type { RelayDirectory, RelayInit } from './relay.js'
import type { SignalData, Transport } from './transport.js'

/** A protocol sharing the links: told when links open and close, asked by link GC. */
export interface LinkProtocol {
  /** Protocol number (see PROTOCOL). */
  readonly id: number
  /** Link GC asks before closing an idle link: true keeps it open. */
  insists?(peer: PeerId): boolean
  onLinkOpen?(peer: PeerId): void
  /** The link closed (GC, timeout, remote close) or a connection attempt failed. */
  onLinkClosed?(peer: PeerId, reason: string): void
}

/** Handles one message type of one protocol. `payload` is untrusted: validate it. */
export type MessageHandler = (from: PeerId, payload: unknown) => void

/** The bootstrap node's relay, used when no linked peer can introduce us. */
export interface SignalingChannel {
  /** Relays signaling data to `to`; false when the node is unreachable. */
  send(to: PeerId, initiator: boolean, data: SignalData): boolean
}

/**
 * Remembers decoded frames by the bytes object they came in. The simulator
 * hands one buffer to every receiver of a broadcast, so its peers share one
 * cache and decode each frame once; real transports give every message its own
 * buffer and need none. Decoded frames are shared: handlers must not mutate them.
 */
export interface FrameCache {
  /** `bytes` are about to go to several peers (a broadcast): worth keeping decoded. */
  share(bytes: Uint8Array): void
  get(bytes: Uint8Array): Frame | null | undefined
  set(bytes: Uint8Array, frame: Frame | null): void
}

export interface LinkManagerComponents {
  env: Pick<Env, 'clock' | 'timers' | 'log'>
  localId: PeerId
  transport: Transport
  signaling?: SignalingChannel
  frameCache?: FrameCache
  /**
   * The peer's identity, for links relayed through other peers (their ends
   * authenticate each other). Without it, no circuits: links are direct only.
   */
  identity?: { keyPair: KeyPair; crypto: Crypto; rng: Pick<Env['rng'], 'bytes'> }
  /** Where relays are found beyond linked volunteers (the DHT). */
  relayDirectory?: RelayDirectory
}

export interface LinkManagerInit extends PacingInit, SchedulerInit {
  /** Hard cap on links (Chromium fails past ~500 RTCPeerConnections). @default 100 */
  maxLinks?: number
  /** Link GC runs when more links than this are open. @default 32 */
  gcThreshold?: number
  /** A link is idle after this long without protocol traffic; an idle link nobody insists on stops its keepalives and closes. @default 10000 */
  gcIdleMs?: number
  /** Send a keepalive on a link that sent nothing for this long. @default 500 */
  keepaliveMs?: number
  /**
   * Close a link that received nothing for this long (dead peer). The overlay
   * repairs only once a crash is detected, so this bounds its recovery time
   * (2 s instead of 3 s took a 30 % mass failure's recovery from 5.6 s to 3.4 s
   * at 300 peers). A background tab's timers still fire about once a second,
   * so its keepalives keep it alive. @default 2000
   */
  deadAfterMs?: number
  /**
   * A wanted link quiet this long (the remote's keepalives come every 500-750 ms),
   * or for six of its usual gaps between frames when it is busier (a relay's link
   * carrying circuits: at least 300 ms), is probed at once; when the probe is not
   * answered within one RTO (srtt + 4 rttvar, at least 300 ms) the link is dead
   * before deadAfterMs. A crashed peer is known 0.5-1 s sooner, at the cost of a
   * probe when a link goes quiet; a live remote whose timers are slow (a
   * background tab) still echoes at once. Not used on circuits (their relay's
   * loss reroutes them) nor while our own ticks run late. 0 turns it off. @default 800
   */
  suspectAfterMs?: number
  /** Give up on a connection attempt after this long. @default 10000 */
  connectTimeoutMs?: number
  /**
   * An introduction not answered this long is retried through the bootstrap node. An answer
   * takes one round trip through the introducer (p90 0.8 s to an open link in the simulator at
   * VAST density); after a mass failure intros through peers that crashed or lost the target wait
   * this long (relay-failure at 1,000 peers: back to 99 % in 4.8 s with 1,500 ms, 10.6 s with 3,000).
   * @default 1500
   */
  introTimeoutMs?: number
  /** Largest signaling message relayed or accepted. @default 16384 */
  maxSignalBytes?: number
  /**
   * Frames dropped on one link before it is closed ('protocol-violation'):
   * malformed, of an unknown protocol or type, without a handler, over size, or
   * reported by a protocol (`misbehaved`). @default 64
   */
  maxBadFrames?: number
  /** Per-link receive budgets per class, and when a link over them is closed ('flood'); see receive-budget.ts. */
  receiveBudget?: ReceiveBudgetInit
  /** How long a peer whose link was closed for misbehaving is refused new links; see peer-penalties.ts. */
  penalties?: PenaltiesInit
  /** Probe the round-trip time of links in use (protocol traffic within gcIdleMs) that a protocol insists on this often (see rtt.ts); 0 turns probes off. @default 2000 */
  rttProbeMs?: number
  /** Rethrow exceptions from message handlers (tests and simulation). @default false */
  strict?: boolean
  /** Relaying through peers: as a relay and as an end (see relay.ts). */
  relay?: RelayInit
}

export type SendResult = EnqueueResult | 'no-link'
/** `limit`: no link now, at the cap with none to collect, or the peer is ignored for misbehaving (see `isIgnored`). */
export type ConnectResult = 'open' | 'connecting' | 'self' | 'limit'

export interface LinkManagerStats {
  opened: number
  closed: number
  /** Links whose signaling went through a linked peer. */
  introduced: number
  /** Links whose signaling went through the bootstrap node. */
  viaSignaling: number
  /** Signaling messages this peer relayed for others. */
  relayed: number
  /** Introductions through us we could not pass on (no link to the target), told back to the dialler. */
  noRoute: number
  /** Our introductions that failed (unanswered within introTimeoutMs, or the introducer said NO_ROUTE): dialled again through the bootstrap node. */
  introFailed: number
  badFrames: number
  handlerErrors: number
  /** Frames dropped because their link was over its receive budget (receive-budget.ts). */
  framesOverBudget: number
  /** Links closed for flooding ('flood') and for too many bad frames ('protocol-violation'). */
  linksClosedForFlood: number
  linksClosedForViolation: number
  /** Bad messages protocols reported through `misbehaved` (weights summed). */
  reportedBad: number
  /** Links we were asked to dial and signaling messages we dropped because the peer is ignored for misbehaving. */
  refusedIgnored: number
  gcClosed: number
  /** Links that opened through a circuit (a peer relaying), and relayed links that moved to a direct path. */
  relayedLinks: number
  upgraded: number
  /** Open relayed links whose relay went: moved to another path (with the time it took, sum and max), or closed. */
  rerouted: number
  rerouteMsSum: number
  rerouteMsMax: number
  rerouteLost: number
}

/** The link manager's own settings, defaults applied (pacing and scheduler settings go to each link). */
export type ResolvedLinkInit = Required<Omit<LinkManagerInit, keyof PacingInit | keyof SchedulerInit | 'relay' | 'receiveBudget' | 'penalties'>>

export function resolveLinkInit(init: LinkManagerInit): ResolvedLinkInit {
  return {
    maxLinks: init.maxLinks ?? 100,
    gcThreshold: init.gcThreshold ?? 32,
    gcIdleMs: init.gcIdleMs ?? 10_000,
    keepaliveMs: init.keepaliveMs ?? 500,
    deadAfterMs: init.deadAfterMs ?? 2000,
    suspectAfterMs: init.suspectAfterMs ?? 800,
    connectTimeoutMs: init.connectTimeoutMs ?? 10_000,
    introTimeoutMs: init.introTimeoutMs ?? 1500,
    maxSignalBytes: init.maxSignalBytes ?? 16 * 1024,
    maxBadFrames: init.maxBadFrames ?? 64,
    rttProbeMs: init.rttProbeMs ?? 2000,
    strict: init.strict ?? false,
  }
}
