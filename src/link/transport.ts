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
  /** Sends one message. Only valid once open. */
  send(data: Uint8Array): void
  /** Closes the connection. The remote gets `onClose`; the local side gets no event. Idempotent. */
  close(): void
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
}
