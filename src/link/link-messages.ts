/**
 * The link protocol's own frames (protocol number 0). Every other protocol
 * registers a number of its own; see {@link PROTOCOL}.
 */
export const LINK_PROTO = 0

export const LinkMsg = {
  /** Keepalive on an idle link; carries nothing. */
  PING: 1,
  /** One piece of a message larger than the fragment size: [class, last, bytes]. */
  FRAG: 2,
  /** Signaling relayed through a linked peer: [to, from, initiator, data, route?] (see encodeSignalRelay: an id the receiver knows is nil). */
  SIGNAL: 3,
  /** Round-trip probe, sent HIGH: [seq, want]; `want` 1 also says "I want this link" (see rtt.ts). */
  PROBE: 4,
  /** The answer to a PROBE, sent HIGH at once: seq. */
  ECHO: 5,
  /** Relaying through peers (see relay.ts): a reservation at a relay, [want] and its answer [ok, circuits, max]. */
  RESERVE: 6,
  RESERVED: 7,
  /** A circuit: opened by an end [cid, target, hello], announced to the other [cid, source, hello]. */
  C_OPEN: 8,
  C_INCOMING: 9,
  /** Circuit data, end to relay [leg, cid, class, bytes] and relay to end [leg, cid, bytes]. */
  C_UP: 10,
  C_DOWN: 11,
  /** A circuit ends, told by an end [leg, cid, reason] or by the relay. */
  C_END_UP: 12,
  C_END_DOWN: 13,
  /**
   * An introducer could not pass a SIGNAL on (no link to its target): told back
   * to the origin, [to, attempt], so it dials another way at once instead of
   * waiting out the introduction timeout.
   */
  NO_ROUTE: 14,
} as const

/** Protocol numbers in use, one place so two protocols never collide. */
export const PROTOCOL = {
  LINK: LINK_PROTO,
  VON: 1,
  KADEMLIA: 2,
  /** Reserved: player state travels as Kademlia records. */
  PLAYER_STATE: 3,
  ASSETS: 4,
  CHAT: 5,
  PRESENCE: 6,
  /** Benchmarks and tests. */
  TEST: 250,
} as const
