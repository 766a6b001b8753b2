import type { Reach } from './nat.js'
import type { PeerId } from '../core/id.js'

/**
 * Opaque signaling data (offer, answer, ICE candidates) a connection emits for
 * its remote. It must be msgpack-encodable: the link layer relays it through
 * other peers (introductions) or the signaling node.
 */
export type SignalData = Record<string, unknown>

/** Callbacks a {@link Transport} delivers for one connection, never re-entrantly from a call. */
export interface ConnectionEvents {
  /** Signaling data to deliver to the remote's connection (through any route). */
  onSignal(data: SignalData): void
  /** The connection is usable: `send` may be called. */
  onOpen(): void
  onData(data: Uint8Array): void
  /** `bufferedAmount` fell to or below `bufferedAmountLowThreshold`. */
  onDrain(): void
  /** The remote closed, the connection failed, or the transport gave up; no event follows. */
  onClose(reason: string): void
}

/**
 * The kind of a link's network path, from the ICE candidate pair it selected:
 * `host` (both ends' own addresses: one machine or LAN), `srflx` (an address a
 * NAT mapped, learnt from STUN), `prflx` (a mapped address learnt during the
 * connectivity checks: a NAT without STUN's help), `relay` (through a TURN
 * server). The most indirect end decides (relay, then srflx, then prflx).
 * `peer-relay`: no direct path; the link's frames travel through another peer
 * of the world (a circuit, see relay.ts), authenticated end to end.
 */
export type PathKind = 'host' | 'srflx' | 'prflx' | 'relay' | 'peer-relay'

export const PATH_KINDS: readonly PathKind[] = ['host', 'srflx', 'prflx', 'relay', 'peer-relay']

/** The path a connection took, as its transport reports it. */
export interface LinkPath {
  readonly kind: PathKind
  /** Candidate type at each end (host, srflx, prflx, relay). */
  readonly local: string
  readonly remote: string
  /** Transport protocol of the selected pair ('udp' or 'tcp'); TURN's to its server when relayed. */
  readonly protocol: string
  /** Round-trip time ICE measured on the pair, ms. */
  readonly rttMs: number | undefined
  /** The peer relaying a `peer-relay` path. */
  readonly relay?: PeerId
}

/** Why a connection attempt could not open, as far as its transport can tell. */
export interface ConnectFailure {
  /**
   * `no-candidates`: this side found no address to offer; `turn-refused`: the
   * TURN server refused our credentials; `ice-failed`: both sides offered
   * addresses but no pair of them worked; `no-answer`: the remote never answered
   * the offer.
   */
  readonly code: 'no-candidates' | 'turn-refused' | 'ice-failed' | 'no-answer'
  /** The facts behind it, for logs and the page (candidate types each side offered, ICE state). */
  readonly detail: string
}

/**
 * One reliable, ordered, message-oriented connection to a remote peer: a WebRTC
 * data channel, or its simulated twin. The link layer owns the send queue and
 * keeps `bufferedAmount` small, so the transport's own FIFO buffer never decides
 * what goes first.
 */
export interface Connection {
  readonly remote: PeerId
  /** Bytes handed to `send` not yet put on the wire. */
  readonly bufferedAmount: number
  bufferedAmountLowThreshold: number
  /** Feeds signaling data that the remote's connection emitted. Bad data is ignored. */
  signal(data: SignalData): void
  /**
   * Sends one message. Only valid once open. `priority` is the link class it
   * was queued in: a circuit passes it to its relay (so HIGH frames are not
   * queued behind LOW ones there); direct transports ignore it.
   */
  send(data: Uint8Array, priority?: number): void
  /** Closes the connection. The remote gets `onClose`; the local side gets no event. Idempotent. */
  close(): void
  /** The path the open connection takes, once the transport knows it (undefined where it cannot tell). */
  readonly path?: LinkPath | undefined
  /** Why the attempt has not opened (asked when the link layer gives up on it); undefined when the transport cannot tell. */
  failure?(): ConnectFailure | undefined
}

/**
 * Creates connections. The simulator and WebRTC (browser and Node) implement it;
 * the link layer above runs unchanged on either.
 */
export interface Transport {
  /**
   * Starts a connection attempt to `remote`. The initiator emits the first signal
   * (the offer); the responder waits for it through `signal`.
   */
  open(remote: PeerId, initiator: boolean, events: ConnectionEvents): Connection
  /** What this end knows of its NAT and ICE servers, told to the peers it dials (see nat.ts); unknown without. */
  reach?(): Reach
}
